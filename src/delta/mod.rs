//! `airlock delta` and `airlock apply`: ship across the gap only the blobs the far side lacks,
//! and rebuild the full archive there.
//!
//! `delta NEW... --have LOCK...` verifies each NEW fully, then matches its layer blobs against
//! the locks of what the far side already holds: by blob digest, and, for a layer NEW stores
//! uncompressed (docker save), by diffID too. It writes a delta archive (`format`): every
//! member of NEW except the matched blobs, and `airlock-delta.json`, which names each member
//! shipped (digest, size) and each blob needed from the far side (digest, size, the images
//! that need it, the locked image that had it). `apply DELTA --from BASE...` takes each needed
//! blob from the base archives (read with the usual openers), verifies it by digest while
//! copying, checks every shipped member against its recorded digest, and commits NEW rebuilt
//! member for member (the same bytes under the same names: the same manifests and image IDs),
//! or, with `--to`, converted by `convert`. Anything missing or corrupt: nothing is written.

pub mod apply;
mod base;
pub mod format;
pub mod plan;
pub mod thin;
mod write;

pub use format::{DeltaDoc, VERSION};

use crate::error::Error;
use crate::output::{Destination, Staging, StagingError};
use crate::report::Report;
use crate::scan::Compression;
use plan::{ArchivePlan, Have, Refusal};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub have: Vec<PathBuf>,
    /// `None` with `--plan`: nothing is written.
    pub output: Option<PathBuf>,
    pub force: bool,
    pub progress: bool,
    /// `--thin-docker`: write a docker archive without the layers the far side's docker
    /// holds ([`thin`]) instead of a delta.
    pub thin_docker: bool,
}

/// `delta --plan`, and the summary of a delta written (`--json`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// The delta archive written (absent with `--plan`).
    pub output: Option<String>,
    /// Its size (absent with `--plan`).
    pub delta_bytes: Option<u64>,
    /// The locks it was made against.
    pub have: Vec<format::HaveLock>,
    /// Every NEW archive's files together, and those the delta carries.
    pub full_bytes: u64,
    pub shipped_bytes: u64,
    pub archives: Vec<ArchivePlan>,
}

pub enum Outcome {
    Written(Summary),
    Planned(Summary),
    /// A NEW archive has errors: nothing is written (exit 1).
    Refused(Report),
    /// `--thin-docker`: the thin docker archive written.
    Thin(thin::ThinSummary),
}

/// Where a wrapped NEW archive is unwrapped in the staging area (removed before the commit).
const NEW_SPOOL: &str = ".airlock-new";

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    if let (true, Some(out)) = (opts.thin_docker, &opts.output) {
        return Ok(match thin::run(opts, staging_for(opts, out)?, out)? {
            thin::ThinOutcome::Written(s) => Outcome::Thin(s),
            thin::ThinOutcome::Refused(r) => Outcome::Refused(r),
        });
    }
    let have = Have::read(&opts.have)?;
    let staging = match &opts.output {
        Some(out) => Some(staging_for(opts, out)?),
        None => None,
    };
    let mut planned = Vec::new();
    let mut refused = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, input) in opts.inputs.iter().enumerate() {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.is_empty() || !names.insert(name.clone()) {
            return Err(Error::Usage(format!(
                "{}: the delta names each archive by its file name, and this one is empty or given twice",
                input.display()
            )));
        }
        let (read, outer) = readable(input, staging.as_ref().map(|s| s.dir.join(format!("{NEW_SPOOL}-{i}.tar"))))?;
        match plan::plan(&read, &name, outer, &have, opts.progress) {
            Ok(p) => planned.push(p),
            Err(Refusal::Usage(e)) => return Err(e),
            Err(Refusal::Failed(r)) => refused.push(*r),
        }
    }
    if !refused.is_empty() {
        return Ok(Outcome::Refused(Report { ok: false, inputs: refused, findings: Vec::new() }));
    }
    let mut summary = Summary {
        output: opts.output.as_ref().map(|p| p.display().to_string()),
        delta_bytes: None,
        have: have.locks.clone(),
        full_bytes: planned.iter().map(|p| p.report.full_bytes).sum(),
        shipped_bytes: planned.iter().map(|p| p.report.shipped_bytes).sum(),
        archives: planned.iter().map(|p| p.report.clone()).collect(),
    };
    let (Some(staging), Some(out)) = (staging, &opts.output) else {
        return Ok(Outcome::Planned(summary));
    };
    let doc =
        DeltaDoc { version: VERSION, have: have.locks, archives: planned.iter().map(|p| p.archive.clone()).collect() };
    let fail = |e: std::io::Error| Error::output(format!("cannot write {}", out.display()), e);
    write::stage(&staging, &doc, &planned).map_err(fail)?;
    drop(planned);
    for i in 0..opts.inputs.len() {
        let _ = std::fs::remove_file(staging.dir.join(format!("{NEW_SPOOL}-{i}.tar")));
    }
    summary.delta_bytes = Some(write::commit(staging, out, opts.force).map_err(fail)?);
    Ok(Outcome::Written(summary))
}

/// The output is a plain file, none of the inputs or locks, and absent unless `--force`.
fn staging_for(opts: &Options, out: &Path) -> Result<Staging, Error> {
    for input in opts.inputs.iter().chain(&opts.have) {
        crate::output::paths::check_output(input, out)?;
        if crate::output::paths::resolved(input).is_some_and(|i| Some(i) == crate::output::paths::resolved(out)) {
            return Err(Error::Usage(format!("the output {} is an input; write it elsewhere", out.display())));
        }
    }
    if out.is_dir() {
        return Err(Error::Usage(format!("{} is a directory; a delta is a file", out.display())));
    }
    if out.exists() && !opts.force {
        return Err(Error::Usage(format!("{} exists; give --force to replace it", out.display())));
    }
    Staging::new(&Destination::Path(out.to_path_buf())).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => Error::output("cannot create the output", e),
    })
}

/// The path to read NEW from, and its whole-file compression. A wrapped archive is
/// unwrapped into `spool` when the delta is written (its members are read twice); `--plan`
/// reads it once, as a stream.
fn readable(input: &Path, spool: Option<PathBuf>) -> Result<(PathBuf, Option<Compression>), Error> {
    if crate::open::split::first_of_several(input).is_some() {
        return Err(Error::Usage(format!("{} is one part of a split file; join the parts first", input.display())));
    }
    let meta = std::fs::metadata(input).map_err(|e| Error::open(input, e))?;
    if !(meta.is_dir() || meta.is_file()) {
        return Err(Error::Usage(format!("{} is a pipe or device; save it to a file first", input.display())));
    }
    let sniffed = crate::open::Sniffed::open(input)?;
    let outer = sniffed.compression();
    match (outer, spool) {
        (Some(c), Some(to)) if c != Compression::None => {
            crate::open::unwrap_to(sniffed, &to).map_err(|e| Error::open(input, e))?;
            Ok((to, outer))
        }
        _ => Ok((input.to_path_buf(), outer)),
    }
}
