//! A file cut into numbered chunks: `NAME.001`, `NAME.002`… are consecutive byte ranges of
//! `NAME`, with no header. This is what `hauler store save --chunk-size` writes since
//! hauler-dev/hauler#702 (`haul.tar.zst.001`…; `hauler store load` joins them in order), and
//! what `split -d --numeric-suffixes=1 -a 3` gives. With no header there is no sha256 to check
//! the whole against: a missing chunk in the middle is found by its number, a missing last
//! chunk by the compressed stream or the tar ending early, and every byte of every image is
//! still checked against its digests.

use super::{Parts, State};
use crate::finding::{Code, Finding};
use crate::open::{Catalog, tar_stream};
use crate::progress::Progress;
use crate::scan::Depth;
use std::path::{Path, PathBuf};

/// More chunks than a haul of any sensible chunk size has.
const MAX_CHUNKS: usize = 9_999;

/// `NAME` and the chunk number, when `path` is named `NAME.NNN` (three or more digits).
fn chunk_of(path: &Path) -> Option<(String, usize)> {
    let name = path.file_name()?.to_str()?;
    let (base, n) = name.rsplit_once('.')?;
    if base.is_empty() || n.len() < 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base.to_string(), n.parse().ok()?))
}

/// `NAME` when `path` is the first chunk `NAME.001`.
pub fn first_chunk(path: &Path) -> Option<String> {
    chunk_of(path).filter(|(_, n)| *n == 1).map(|(b, _)| b)
}

/// `Some` when `path` is a chunk: the first is read with the rest as one stream; a later
/// one, given alone, is named as such (it is no archive on its own).
/// `starts_archive` says the file begins like an archive of its own (a tar header or a
/// compression magic): then a later-numbered file is taken for what it is.
pub fn read(path: &Path, starts_archive: bool, depth: Depth, progress: &Progress) -> Option<Catalog> {
    let (base, number) = chunk_of(path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let chunk = |i: usize| -> PathBuf { dir.join(format!("{base}.{i:03}")) };
    let name = path.file_name()?.to_string_lossy().into_owned();
    let mut catalog = Catalog::default();
    if number != 1 {
        // Only worth saying when the chunks are really there; otherwise the file is read
        // for what it is.
        if starts_archive || !chunk(1).is_file() {
            return None;
        }
        catalog.findings.push(
            Finding::new(
                Code::ArchiveCorrupt,
                format!("{name} is chunk {number} of a chunked file: give the first chunk, {base}.001, which is read with the others"),
            )
            .member(name),
        );
        return Some(catalog);
    }
    let run = (1..=MAX_CHUNKS).take_while(|&i| chunk(i).is_file()).count();
    // A gap: a later chunk is here, an earlier one is not. Its bytes cannot be skipped.
    let later = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| chunk_of(&e.ok()?.path()))
        .filter(|(b, n)| *b == base && *n > run)
        .map(|(_, n)| n)
        .max();
    if let Some(last) = later {
        catalog.findings.push(
            Finding::new(
                Code::BundleFileMissing,
                format!("chunk {base}.{:03} is missing; chunks up to {base}.{last:03} are here", run + 1),
            )
            .member(format!("{base}.{:03}", run + 1)),
        );
        return Some(catalog);
    }
    if run == 1 {
        return None; // one chunk is the whole file: read it as any other
    }
    let files: Vec<PathBuf> = (1..=run).map(chunk).collect();
    let compression = match super::sniff_first(&files[0]) {
        Ok(c) => c,
        Err(e) => {
            catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("cannot read {name}: {e}")).member(name));
            return Some(catalog);
        }
    };
    let state = State::new(files, false);
    let mut catalog = tar_stream::read(Box::new(Parts(state.clone())), compression, depth, progress);
    // The stream ending early is what a lost last chunk looks like from here: say so.
    let last = format!("{base}.{run:03}");
    for f in catalog.findings.iter_mut().filter(|f| f.code == Code::ArchiveCorrupt) {
        f.message.push_str(&format!(" (read as chunks {base}.001 to {last}: is a chunk after {last} missing?)"));
    }
    let _ = state.lock().unwrap_or_else(|p| p.into_inner()).drain();
    Some(catalog)
}
