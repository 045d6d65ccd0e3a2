//! The opened input: an input path read into a catalog and modelled ([`Loaded`]), and what
//! it holds beside or instead of being an image archive: the image archives and layouts
//! nested in it (`bundle`, read one pass per nesting level by `pass`), every member's one
//! verdict (`coverage`), and whether it is a Zarf package (whose format, read in
//! `crate::formats::zarf`, has integrity data of its own). `reread` opens an input whose
//! blobs are read again after its documents (convert). Every command opens its inputs here;
//! the reports are built from what this gives (`crate::report::build`).

pub mod bundle;
pub mod coverage;
mod pass;
pub mod reread;

use crate::error::Error;
use crate::model::Model;
use crate::open::{self, Catalog};
use crate::progress::Progress;
use crate::scan::Depth;
use std::path::{Path, PathBuf};

/// An input (or an archive or layout inside one) read and modelled.
pub struct Loaded {
    pub catalog: Catalog,
    pub model: Model,
}

/// Reads `path` into a catalog (hashing every blob with `Depth::Full`) and models it.
pub fn load(path: &Path, depth: Depth, show_progress: bool) -> Result<Loaded, Error> {
    load_sniffed(path, open::Sniffed::open(path)?, depth, show_progress)
}

/// [`load`] from an input already opened and sniffed (its head is not read again).
pub fn load_sniffed(path: &Path, sniffed: open::Sniffed, depth: Depth, show_progress: bool) -> Result<Loaded, Error> {
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let (progress, handle) = Progress::start(label, show_progress);
    let catalog = open::read_sniffed(path, sniffed, depth, &progress);
    progress.finish(handle);
    let catalog = catalog?;
    let model = crate::formats::build(&catalog);
    Ok(Loaded { catalog, model })
}

/// An input path opened: itself, and everything found inside it.
pub struct Opened {
    /// The path as given, as reports name it.
    pub display: String,
    pub depth: Depth,
    pub top: Loaded,
    /// The image archives and layouts nested in it, its coverage, what else it holds.
    pub found: bundle::Expansion,
    /// Whether it is a Zarf package (its own integrity data is checked).
    pub zarf: bool,
}

impl Opened {
    /// Whether the input is reported as an image archive (or as no archive at all) rather
    /// than as a bundle: it is one itself, or holds nothing archive-shaped.
    pub fn is_image_archive(&self) -> bool {
        self.top.model.format.is_some() || (!self.found.is_bundle() && !self.zarf)
    }
}

/// Opens `path`, reads it, and searches it for the archives and layouts it holds.
pub fn open(path: &Path, depth: Depth, progress: bool) -> Result<Opened, Error> {
    let top = load(path, depth, progress)?;
    let display = path.display().to_string();
    let found = bundle::expand(path, &display, &top, depth);
    let zarf = crate::formats::zarf::is_package(&top.catalog);
    Ok(Opened { display, depth, top, found, zarf })
}

/// The inputs to read: the later parts of a split or chunked file are left out when its
/// first part is an input too (it reads them all), so a shell glob (`haul.tar.zst.*`,
/// `pkg.tar.zst.part*`) gives one input: `NAME.part001`… beside `NAME.part000` (Zarf), and
/// `NAME.002`… beside `NAME.001` (Hauler chunks).
pub fn inputs_to_read(inputs: &[PathBuf]) -> Vec<&PathBuf> {
    inputs.iter().filter(|p| open::split::first_part_of(p).is_none_or(|first| !inputs.contains(&first))).collect()
}
