//! `airlock inspect`: the model without hashing layers. Declared digests, diffIDs from the
//! config, chainIDs from those, and the history aligned to the layers (`docker history`).

use crate::error::Error;
use crate::model::select::Selection;
use crate::report::Report;
use crate::report::build::{self, declared, report_input};
use crate::scan::Depth;
use std::path::PathBuf;

/// What [`crate::inspect()`] reads. Start from `Default` (nothing drawn: `progress` false).
#[derive(Default)]
#[non_exhaustive]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub selection: Selection,
    pub progress: bool,
}

pub fn run(opts: &Options) -> Result<Report, Error> {
    let mut inputs = Vec::new();
    for path in crate::input::inputs_to_read(&opts.inputs) {
        let opened = match crate::input::open(path, Depth::Documents, opts.progress) {
            Ok(o) => o,
            // Reported as that input's finding; the others are still read.
            Err(e) if e.is_input_unreadable() => {
                inputs.push(build::unreadable(path, &e));
                continue;
            }
            Err(e) => return Err(e),
        };
        inputs.extend(build::reports(opened, |p, loaded| report_input(p, loaded, &opts.selection, declared))?);
    }
    Ok(Report::new(inputs))
}
