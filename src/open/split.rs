//! A package split into parts, as `zarf package create --max-package-size` writes it
//! (zarf-dev/zarf `src/pkg/utils/split` SplitFile / ReassembleFile): `NAME.part000` is a JSON
//! header `{"Sha256Sum": hex, "Bytes": n, "Count": m}`, and `NAME.part001` … `NAME.partM`
//! are the file's bytes in order. The parts are read as one stream, never joined on disk; the
//! header's size and sha256 are checked against the bytes read, and its count against the
//! parts present (as ReassembleFile checks it).

use super::{Catalog, tar_stream};
use crate::digest::{Digest, HashWriter};
use crate::finding::{Code, Finding};
use crate::progress::Progress;
use crate::scan::{Compression, Depth};
use serde::Deserialize;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    let name = path.file_name()?.to_str()?;
    let base = name.strip_suffix(".part000")?;
    let header: Header = serde_json::from_slice(head).ok()?;
    let mut catalog = Catalog::default();
    let at = |f: Finding| f.member(name.to_string());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let part = |i: usize| -> PathBuf { dir.join(format!("{base}.part{i:03}")) };
    // Every part the header names must be there, and no more (ReassembleFile's check).
    let present = (1..=MAX_PARTS).take_while(|&i| part(i).is_file()).count();
    if header.count == 0 || header.count > MAX_PARTS || present != header.count {
        catalog.findings.push(at(Finding::new(
            if present < header.count { Code::BundleFileMissing } else { Code::BundleChecksumsInvalid },
            format!("{name} says the file is in {} parts; {present} are here", header.count),
        )));
        return Some(catalog);
    }
    let files: Vec<PathBuf> = (1..=header.count).map(part).collect();
    let mut first = [0u8; 8];
    let n = match File::open(&files[0]).and_then(|mut f| crate::digest::read_full(&mut f, &mut first)) {
        Ok(n) => n,
        Err(e) => {
            catalog.findings.push(at(Finding::new(Code::ArchiveCorrupt, format!("cannot read the parts: {e}"))));
            return Some(catalog);
        }
    };
    let compression = Compression::sniff(&first[..n]);
    let state = Arc::new(Mutex::new(State {
        files,
        next: 0,
        current: None,
        hash: Some(HashWriter::new(io::sink())),
        result: None,
    }));
    let mut catalog = tar_stream::read(Box::new(Parts(state.clone())), compression, depth, progress);
    // A broken archive stops the reader early; the parts are hashed to their end anyway, so
    // the header's sha256 still says whether the parts are the ones that were split.
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut sink = [0u8; 64 * 1024];
    let finished = loop {
        match st.read(&mut sink) {
            Ok(0) => break st.result.take(),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
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

/// The parts in order, as one stream, hashed as they are read.
struct State {
    files: Vec<PathBuf>,
    next: usize,
    current: Option<File>,
    hash: Option<HashWriter<io::Sink>>,
    result: Option<(Digest, u64)>,
}

/// The stream handed to the tar reader; the state stays shared so the rest can be hashed
/// after it.
struct Parts(Arc<Mutex<State>>);

impl Read for Parts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).read(buf)
    }
}

impl State {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.current.is_none() {
                if self.next == self.files.len() {
                    if let Some(h) = self.hash.take() {
                        self.result = Some(h.finish()?);
                    }
                    return Ok(0);
                }
                self.current = Some(File::open(&self.files[self.next])?);
                self.next += 1;
            }
            let n = self.current.as_mut().expect("opened above").read(buf)?;
            if n == 0 {
                self.current = None;
                continue;
            }
            if let Some(h) = self.hash.as_mut() {
                h.write_all(&buf[..n])?;
            }
            return Ok(n);
        }
    }
}
