//! A file cut into numbered chunks: `NAME.001`, `NAME.002`… are consecutive byte ranges of
//! `NAME`, with no header. This is what `hauler store save --chunk-size` writes since
//! hauler-dev/hauler#702 (`haul.tar.zst.001`…; `hauler store load` joins them in order), and
//! what `split -d --numeric-suffixes=1 -a 3` gives. With no header there is no sha256 to check
//! the whole against: a missing chunk in the middle is found by its number, a missing last
//! chunk by the compressed stream or the tar ending early, and every byte of every image is
//! still checked against its digests.

use super::{Naming, Parted, Parts, State};
use crate::finding::{Code, Finding};
use crate::open::{Catalog, tar_stream};
use crate::progress::Progress;
use crate::scan::Depth;
use std::path::{Path, PathBuf};

/// More chunks than a haul of any sensible chunk size has.
const MAX_CHUNKS: usize = 9_999;

/// `Some` when `path` is a chunk: the first is read with the rest as one stream; a later
/// one, given alone, is named as such (it is no archive on its own).
/// `starts_archive` says the file begins like an archive of its own (a tar header or a
/// compression magic): then a later-numbered file is taken for what it is.
pub fn read(path: &Path, starts_archive: bool, depth: Depth, progress: &Progress) -> Option<Catalog> {
    let (parted, number) = Parted::of(path)?;
    if parted.naming != Naming::Numbered {
        return None;
    }
    let name = parted.name(number);
    let mut catalog = Catalog::default();
    if number != 1 {
        // Only worth saying when the chunks are really there; otherwise the file is read
        // for what it is.
        if starts_archive || !parted.part(1).is_file() {
            return None;
        }
        catalog.findings.push(
            Finding::new(
                Code::ArchiveCorrupt,
                format!(
                    "{name} is chunk {number} of a chunked file: give the first chunk, {}, which is read with the others",
                    parted.name(1)
                ),
            )
            .member(name),
        );
        return Some(catalog);
    }
    let run = parted.run(1, MAX_CHUNKS);
    // A gap: a later chunk is here, an earlier one is not. Its bytes cannot be skipped.
    if let Some(last) = parted.last_present().filter(|&n| n > run) {
        let missing = parted.name(run + 1);
        catalog.findings.push(
            Finding::new(
                Code::BundleFileMissing,
                format!("chunk {missing} is missing; chunks up to {} are here", parted.name(last)),
            )
            .member(missing),
        );
        return Some(catalog);
    }
    if run == 1 {
        return None; // one chunk is the whole file: read it as any other
    }
    let files: Vec<PathBuf> = (1..=run).map(|i| parted.part(i)).collect();
    let compression = match super::sniff_first(&files[0]) {
        Ok(c) => c,
        Err(e) => {
            catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("cannot read {name}: {e}")).member(name));
            return Some(catalog);
        }
    };
    let mut catalog = tar_stream::read(Box::new(Parts(State::new(files, false))), compression, depth, progress);
    // The stream ending early is what a lost last chunk looks like from here: say so.
    let (first, last) = (parted.name(1), parted.name(run));
    for f in catalog.findings.iter_mut().filter(|f| f.code == Code::ArchiveCorrupt) {
        f.message.push_str(&format!(" (read as chunks {first} to {last}: is a chunk after {last} missing?)"));
    }
    Some(catalog)
}
