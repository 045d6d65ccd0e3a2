//! A package split into parts, as `zarf package create --max-package-size` writes it
//! (zarf-dev/zarf `src/pkg/utils/split` SplitFile / ReassembleFile): `NAME.part000` is a JSON
//! header `{"Sha256Sum": hex, "Bytes": n, "Count": m}`, and `NAME.part001` … `NAME.partM`
//! are the file's bytes in order. The parts are read as one stream, never joined on disk; the
//! header's size and sha256 are checked against the bytes read, and its count against the
//! parts present (as ReassembleFile checks it).

use super::{Naming, Parted, Parts, State};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::open::{Catalog, tar_stream};
use crate::progress::Progress;
use crate::scan::Depth;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    sha256_sum: String,
    bytes: u64,
    count: usize,
}

/// More parts than Zarf writes (it refuses 1,000 or more).
const MAX_PARTS: usize = 999;

/// `Some` when `path` is a split header (`*.part000` holding the JSON header).
pub fn read(path: &Path, head: &[u8], depth: Depth, progress: &Progress) -> Option<Catalog> {
    let (parted, 0) = Parted::of(path)? else { return None };
    if parted.naming != Naming::Zarf {
        return None;
    }
    let header: Header = serde_json::from_slice(head).ok()?;
    let name = parted.name(0);
    let mut catalog = Catalog::default();
    let at = |f: Finding| f.member(name.clone());
    // Every part the header names must be there, and no more (ReassembleFile's check).
    let present = parted.run(1, MAX_PARTS);
    if header.count == 0 || header.count > MAX_PARTS || present != header.count {
        catalog.findings.push(at(Finding::new(
            if present < header.count { Code::BundleFileMissing } else { Code::BundleChecksumsInvalid },
            format!("{name} says the file is in {} parts; {present} are here", header.count),
        )));
        return Some(catalog);
    }
    let files: Vec<PathBuf> = (1..=header.count).map(|i| parted.part(i)).collect();
    let compression = match super::sniff_first(&files[0]) {
        Ok(c) => c,
        Err(e) => {
            catalog.findings.push(at(Finding::new(Code::ArchiveCorrupt, format!("cannot read the parts: {e}"))));
            return Some(catalog);
        }
    };
    let state = State::new(files, true);
    let mut catalog = tar_stream::read(Box::new(Parts(state.clone())), compression, depth, progress);
    // A broken archive stops the reader early; the parts are hashed to their end anyway, so
    // the header's sha256 still says whether the parts are the ones that were split.
    let finished = state.lock().unwrap_or_else(|p| p.into_inner()).drain();
    match finished {
        Some((d, size)) => {
            if size != header.bytes {
                catalog.findings.push(at(Finding::new(
                    Code::BundleChecksumMismatch,
                    format!("the parts hold {size} bytes; {name} says {}", header.bytes),
                )));
            } else if Digest::parse(&format!("sha256:{}", header.sha256_sum)) != Some(d) {
                catalog.findings.push(at(Finding::new(
                    Code::BundleChecksumMismatch,
                    format!("the parts hash to {d}; {name} says sha256:{}", header.sha256_sum),
                )));
            }
        }
        None => catalog.findings.push(at(Finding::new(
            Code::ArchiveCorrupt,
            "the parts were not read to their end, so their sha256 is unchecked",
        ))),
    }
    Some(catalog)
}
