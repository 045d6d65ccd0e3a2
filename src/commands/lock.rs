//! `airlock lock`: verify the inputs, then write what they hold as a lock file
//! (`crate::lock`). The sha256 and size of each input file as carried come from verify's own
//! pass where it reads the file front to back (a compressed file: the report's `size` and
//! `sha256`). A plain tar file is read at its members' offsets instead, and a directory or a
//! split input has no one stream: those are hashed on a thread of their own while verify runs,
//! a second read of data mostly in memory by then.

use super::verify;
use crate::digest::Digest;
use crate::error::Error;
use crate::lock::format;
use crate::report::Report;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What [`crate::lock()`] pins and where it writes (`output` `None`: stdout). Start from
/// `Default`.
#[derive(Default)]
#[non_exhaustive]
pub struct Options {
    pub verify: verify::Options,
    pub output: Option<PathBuf>,
    pub force: bool,
}

/// What [`crate::lock()`] did.
pub enum Outcome {
    /// The lock was written: notes on what it could not hold, and the inputs' report.
    Written { notes: Vec<String>, report: Report },
    /// An input has error findings and `--force` was not given, or an input cannot be
    /// opened (whatever `--force` says): nothing written.
    Refused(Report),
}

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    let (report, hashed) = std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            let beside = opts.verify.inputs.iter().filter(|p| !read_in_order(p));
            beside.map(|p| (p.display().to_string(), crate::digest::file_sha256(p))).collect::<Vec<_>>()
        });
        let report = verify::run(&opts.verify);
        (report, hashing.join().unwrap_or_default())
    });
    let report = report?;
    // A lock that silently left out an input would pin less than was meant to cross: an
    // input that cannot be opened refuses the lock, --force or not (exit 2).
    if report.inputs.iter().any(crate::report::InputReport::unreadable) || (!report.ok && !opts.force) {
        return Ok(Outcome::Refused(report));
    }
    let mut notes = Vec::new();
    let digests: Vec<(String, Option<(Digest, u64)>)> = opts
        .verify
        .inputs
        .iter()
        .map(|p| {
            let p = p.display().to_string();
            let from_pass = report.inputs.iter().find(|i| i.path == p).and_then(|i| Some((i.sha256?, i.size?)));
            // Predicted in order but not hashed by the pass (it found a chunked input, say):
            // hashed now.
            let hash = || match hashed.iter().find(|(q, _)| *q == p) {
                Some((_, d)) => d.as_ref().copied().map_err(|e| e.to_string()),
                None => crate::digest::file_sha256(Path::new(&p)).map_err(|e| e.to_string()),
            };
            match from_pass.map_or_else(hash, |d| Ok(Some(d))) {
                Ok(d) => (p, d),
                Err(e) => {
                    notes.push(format!("{p}: not hashed ({e}); its sha256 is null in the lock"));
                    (p, None)
                }
            }
        })
        .collect();
    let (lock, more) = format::build(&report, &digests);
    notes.extend(more);
    let bytes = format::to_bytes(&lock);
    match &opts.output {
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| Error::output("stdout", e))?;
        }
        Some(p) => write_atomic(p, &bytes).map_err(|e| Error::output(format!("cannot write {}", p.display()), e))?,
    }
    Ok(Outcome::Written { notes, report })
}

/// Whether verify reads `p` front to back, hashing it as it goes: anything but a regular
/// file that starts as a plain tar (read at its members' offsets) or as a split package's
/// header, and but a directory. A guess from the first bytes; the report says for sure.
fn read_in_order(p: &Path) -> bool {
    use std::io::Read;
    let Ok(meta) = std::fs::metadata(p) else { return false };
    if !meta.is_file() {
        // A pipe or device is read once, by verify, which hashes it; a directory is not hashed.
        return !meta.is_dir();
    }
    let mut head = [0u8; 8];
    let n = std::fs::File::open(p).and_then(|f| f.take(8).read(&mut head)).unwrap_or(0);
    crate::scan::Compression::sniff(&head[..n]) != crate::scan::Compression::None
}

/// Writes next to `p` under a unique temporary name, then renames: a reader never sees a
/// half-written lock.
fn write_atomic(p: &Path, bytes: &[u8]) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(p);
    if meta.as_ref().is_ok_and(|m| !m.file_type().is_file()) {
        return Err(io::Error::other("it exists and is not a regular file"));
    }
    let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = p.file_name().ok_or_else(|| io::Error::other("no file name"))?.to_string_lossy();
    let tmp = parent.join(format!(".{name}.airlock-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, p)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
