//! One file carried as several, read back as one stream and never joined on disk:
//! - [`zarf`]: `NAME.part000` (a JSON header: sha256, size, part count) then `NAME.part001`…,
//!   as `zarf package create --max-package-size` writes them;
//! - [`numbered`]: `NAME.001`, `NAME.002`…, plain byte ranges with no header, as
//!   `hauler store save --chunk-size` (and `split -d --numeric-suffixes=1 -a 3`) write them.

mod numbered;
mod zarf;

pub use numbered::{first_chunk, read as read_numbered};
pub use zarf::read as read_zarf;

use crate::digest::{Digest, HashWriter};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The parts in order, as one stream, hashed as they are read when asked.
pub(super) struct State {
    files: Vec<PathBuf>,
    next: usize,
    current: Option<File>,
    hash: Option<HashWriter<io::Sink>>,
    result: Option<(Digest, u64)>,
}

impl State {
    pub(super) fn new(files: Vec<PathBuf>, hashed: bool) -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            files,
            next: 0,
            current: None,
            hash: hashed.then(|| HashWriter::new(io::sink())),
            result: None,
        }))
    }

    /// Reads what the tar reader left unread, so the whole is hashed (and every part
    /// opened); `None` if a part cannot be read to its end.
    pub(super) fn drain(&mut self) -> Option<Option<(Digest, u64)>> {
        let mut sink = [0u8; 64 * 1024];
        loop {
            match self.read(&mut sink) {
                Ok(0) => return Some(self.result.take()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

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

/// The stream handed to the tar reader; the state stays shared so the rest can be read
/// after it.
pub(super) struct Parts(pub(super) Arc<Mutex<State>>);

impl Read for Parts {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).read(buf)
    }
}

/// The other files read along with `path` when it is the first of a split or chunked file
/// (`NAME.part001`… beside `NAME.part000`, `NAME.002`… beside `NAME.001`), in order: what
/// `--checksums` must match too.
pub fn siblings(path: &std::path::Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return Vec::new() };
    let next: Box<dyn Fn(usize) -> PathBuf> = if let Some(base) = name.strip_suffix(".part000") {
        let base = base.to_string();
        Box::new(move |i| path.with_file_name(format!("{base}.part{i:03}")))
    } else if let Some(base) = numbered::first_chunk(path) {
        Box::new(move |i| path.with_file_name(format!("{base}.{i:03}")))
    } else {
        return Vec::new();
    };
    let first = if name.ends_with(".part000") { 1 } else { 2 };
    (first..10_000).map(&next).take_while(|p| p.is_file()).collect()
}

/// The compression the first part starts with.
pub(super) fn sniff_first(file: &std::path::Path) -> io::Result<crate::scan::Compression> {
    let mut first = [0u8; 8];
    let n = crate::digest::read_full(&mut File::open(file)?, &mut first)?;
    Ok(crate::scan::Compression::sniff(&first[..n]))
}
