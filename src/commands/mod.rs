//! The subcommands, each a thin composition of the flow: open → detect/model → scan → check
//! → report (or write).

pub mod inspect;
pub mod lock;
pub mod select;
pub mod verify;

use crate::model::{self, Model};
use crate::open::{self, Catalog, OpenError};
use crate::progress::Progress;
use crate::scan::Depth;
use std::path::Path;

/// An input read and modelled.
pub struct Loaded {
    pub catalog: Catalog,
    pub model: Model,
}

pub fn load(path: &Path, depth: Depth, show_progress: bool) -> Result<Loaded, OpenError> {
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let (progress, handle) = Progress::start(label, show_progress);
    let catalog = open::read_input(path, depth, &progress);
    progress.finish(handle);
    let catalog = catalog?;
    let model = model::build(&catalog);
    Ok(Loaded { catalog, model })
}
