//! An input whose blobs are read again after its documents (convert): a file or directory
//! that can be read twice, a wrapped input unwrapped into the staging area first (a stream
//! cannot be read twice), and for a bundle the archive in it that holds the selection.
//!
//! Taking an image out of a bundle: `airlock convert harbor-offline-installer.tgz --image
//! goharbor/nginx-photon:v2.10.0 --to oci -o nginx`. The bundle is opened as verify opens it
//! (`super::bundle`); the one archive holding the selection becomes the input. A layout in a
//! directory of the bundle is read in place; an archive that is a member of the bundle is
//! unwrapped into the staging area first (convert reads blobs after the documents, and a
//! stream cannot be read twice), and removed before the commit, as the unwrapped input is.

use super::bundle::{self, Origin, Part};
use super::{Loaded, load, load_sniffed};
use crate::error::Error;
use crate::model::select::{self, Selection};
use crate::open::Sniffed;
use crate::open::split::Naming;
use crate::output::Staging;
use crate::scan::{Compression, Depth};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The unwrapped input in the staging area.
const INPUT_SPOOL: &str = ".input.tar";
/// The unwrapped member, beside the unwrapped input in the staging area.
const SPOOL: &str = ".member.tar";

/// Opens an input whose blobs will be read again: its documents, and for a bundle, the
/// archive in it that holds the selection (the input from then on), with the name to report
/// it by. Wrapped inputs and bundle members are unwrapped into `staging`.
pub fn open(input: &Path, staging: &Staging, selection: &Selection, progress: bool) -> Result<(Loaded, String), Error> {
    let (loaded, reread) = read_input(input, staging, progress)?;
    Ok(match loaded.model.format {
        Some(_) => (loaded, input.display().to_string()),
        None => match pick(input, &reread, &loaded, staging, selection, progress)? {
            Some(taken) => taken,
            None => (loaded, input.display().to_string()),
        },
    })
}

/// The files [`open`] may leave in the staging area, to remove before a commit.
pub fn remove_spools(staging: &Staging) {
    let _ = fs::remove_file(staging.dir.join(INPUT_SPOOL));
    let _ = fs::remove_file(staging.dir.join(SPOOL));
}

/// The archive of the bundle `loaded` (read from `reread`) that holds the selection, and its
/// name (`BUNDLE!MEMBER`); `None` when `loaded` holds no image archive (it is refused as it is).
fn pick(
    input: &Path,
    reread: &Path,
    loaded: &Loaded,
    staging: &Staging,
    selection: &Selection,
    progress: bool,
) -> Result<Option<(Loaded, String)>, Error> {
    let parts = bundle::expand(reread, &input.display().to_string(), loaded, Depth::Documents).parts;
    if parts.is_empty() {
        return Ok(None);
    }
    let held = || {
        parts
            .iter()
            .map(|p| format!("{}: {}", p.name, select::describe(&p.loaded.model)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if parts.len() > 1 && selection.images.iter().any(|s| s.starts_with('@')) {
        return Err(Error::Usage(format!(
            "--image @N counts the images of one archive, and the bundle holds {}: pick by name ({})",
            parts.len(),
            held()
        )));
    }
    let hits: Vec<usize> =
        (0..parts.len()).filter(|&i| select::select(&parts[i].loaded.model, selection).is_ok()).collect();
    let chosen = match hits.as_slice() {
        [] if parts.len() == 1 => {
            // The selection error of the one archive says it best.
            let e = select::select(&parts[0].loaded.model, selection).err().unwrap_or_default();
            return Err(Error::Selection { input: parts[0].name.clone(), message: e });
        }
        [] => return Err(Error::Usage(format!("the selection matches no image in the bundle; it holds {}", held()))),
        [one] => *one,
        [..] if selection.images.is_empty() && selection.platform.is_none() => {
            return Err(Error::Usage(format!(
                "the bundle holds {} image archives, and convert writes images of one: pick with --image ({})",
                parts.len(),
                held()
            )));
        }
        // The same image carried twice: any copy is the image (its digests are checked).
        [first, ..] => *first,
    };
    let mut parts = parts;
    let part: Part = parts.swap_remove(chosen);
    let unwrap = |chain: &[bundle::Step]| -> Result<Loaded, Error> {
        let spool = staging.dir.join(SPOOL);
        let copy = || -> io::Result<()> {
            let mut archive = bundle::open_archive(reread, &loaded.catalog, chain)?;
            io::copy(&mut archive, &mut File::create(&spool)?)?;
            Ok(())
        };
        copy().map_err(|e| Error::output(format!("cannot unwrap {}", part.name), e))?;
        load(&spool, Depth::Documents, progress)
    };
    let taken = match &part.origin {
        Origin::Layout { within, .. } if within.is_empty() => part.loaded,
        // A layout inside an archive of the bundle: that archive is unwrapped, then its
        // directory taken.
        Origin::Layout { within, root } => {
            let archive = unwrap(within)?;
            let catalog = archive.catalog.subtree(root);
            let model = crate::formats::build(&catalog);
            Loaded { catalog, model }
        }
        Origin::Member { chain } => unwrap(chain)?,
    };
    Ok(Some((taken, part.name.clone())))
}

/// Reads the documents of the input. A gzip- or zstd-wrapped input is first unwrapped into
/// the staging area: the blobs must be read again, and a stream cannot be.
/// Also returns the file to read members from again: the unwrapped copy, or the input.
fn read_input(input: &Path, staging: &Staging, progress: bool) -> Result<(Loaded, PathBuf), Error> {
    // A file in parts is read as a stream; convert reads blobs again after the documents.
    let what = match crate::open::split::first_of_several(input) {
        Some(Naming::Zarf) => {
            Some(("the header of a split package", "parts", "cat NAME.part001 NAME.part002 … > NAME"))
        }
        Some(Naming::Numbered) => {
            Some(("the first chunk of a chunked file", "chunks", "cat NAME.001 NAME.002 … > NAME"))
        }
        None => None,
    };
    if let Some((what, parts, join)) = what {
        return Err(Error::Usage(format!(
            "{} is {what}, which airlock reads as a stream; convert needs one file: join the {parts} first ({join})",
            input.display()
        )));
    }
    // convert reads the documents first and the blobs after: a pipe gives its bytes once.
    let meta = std::fs::metadata(input).map_err(|e| Error::open(input, e))?;
    if !(meta.is_dir() || meta.is_file()) {
        return Err(Error::Usage(format!(
            "{} is a pipe or device; convert reads its input twice: save it to a file first",
            input.display()
        )));
    }
    let sniffed = Sniffed::open(input)?;
    let outer = sniffed.compression();
    if !matches!(
        outer,
        Some(Compression::Gzip | Compression::Zstd | Compression::Bzip2 | Compression::Lz4 | Compression::Xz)
    ) {
        return Ok((load_sniffed(input, sniffed, Depth::Documents, progress)?, input.to_path_buf()));
    }
    let spool = staging.dir.join(INPUT_SPOOL);
    match crate::open::unwrap_to(sniffed, &spool) {
        Ok(()) => {
            let mut loaded = load(&spool, Depth::Documents, progress)?;
            loaded.catalog.outer = outer;
            Ok((loaded, spool))
        }
        // A broken wrapper: read it as verify does, to report exactly what is wrong.
        Err(_) => Ok((load(input, Depth::Full, progress)?, input.to_path_buf())),
    }
}
