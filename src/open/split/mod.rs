//! One file carried as several, read back as one stream and never joined on disk:
//! - [`zarf`]: `NAME.part000` (a JSON header: sha256, size, part count) then `NAME.part001`…,
//!   as `zarf package create --max-package-size` writes them;
//! - [`numbered`]: `NAME.001`, `NAME.002`…, plain byte ranges with no header, as
//!   `hauler store save --chunk-size` (and `split -d --numeric-suffixes=1 -a 3`) write them.

mod numbered;
mod zarf;

pub use numbered::read as read_numbered;
pub use zarf::read as read_zarf;

use crate::digest::{Digest, HashWriter};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How the parts of a file are named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// `NAME.part000` (the header), `NAME.part001`… (Zarf).
    Zarf,
    /// `NAME.001`, `NAME.002`… (Hauler chunks, `split -d`).
    Numbered,
}

/// A file cut into parts: where they are and how they are named. The one place part names
/// are made and read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parted {
    dir: PathBuf,
    base: String,
    pub naming: Naming,
}

impl Parted {
    /// The file `path` is a part of, and its number, when it is named as a part (three or
    /// more digits).
    pub fn of(path: &Path) -> Option<(Parted, usize)> {
        let name = path.file_name()?.to_str()?;
        let (naming, (base, n)) = match name.rsplit_once(".part") {
            Some(split) if is_number(split.1) => (Naming::Zarf, split),
            _ => (Naming::Numbered, name.rsplit_once('.').filter(|(_, n)| is_number(n))?),
        };
        if base.is_empty() {
            return None;
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Some((Parted { dir, base: base.to_string(), naming }, n.parse().ok()?))
    }

    /// The number of the part that is given to read them all: the header, or the first chunk.
    pub fn first(&self) -> usize {
        match self.naming {
            Naming::Zarf => 0,
            Naming::Numbered => 1,
        }
    }

    pub fn part(&self, i: usize) -> PathBuf {
        self.dir.join(self.name(i))
    }

    pub fn name(&self, i: usize) -> String {
        match self.naming {
            Naming::Zarf => format!("{}.part{i:03}", self.base),
            Naming::Numbered => format!("{}.{i:03}", self.base),
        }
    }

    /// How many parts from `from` on are there without a gap, at most `max`.
    pub fn run(&self, from: usize, max: usize) -> usize {
        (from..from + max).take_while(|&i| self.part(i).is_file()).count()
    }

    /// The highest-numbered part in the directory, however many are missing before it.
    pub fn last_present(&self) -> Option<usize> {
        let dir = if self.dir.as_os_str().is_empty() { Path::new(".") } else { &self.dir };
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| Parted::of(Path::new(&e.ok()?.file_name())))
            .filter(|(p, _)| p.base == self.base && p.naming == self.naming)
            .map(|(_, n)| n)
            .max()
    }
}

fn is_number(n: &str) -> bool {
    n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit())
}

/// The first part (header or first chunk) of the file `path` is a later part of.
pub fn first_part_of(path: &Path) -> Option<PathBuf> {
    let (parted, n) = Parted::of(path)?;
    (n != parted.first()).then(|| parted.part(parted.first()))
}

/// How `path` is the part given for a file in several: `NAME.part000`, or `NAME.001` with a
/// `NAME.002` beside it.
pub fn first_of_several(path: &Path) -> Option<Naming> {
    let (parted, n) = Parted::of(path)?;
    let several = parted.naming == Naming::Zarf || parted.part(2).is_file();
    (n == parted.first() && several).then_some(parted.naming)
}

/// The bytes of the file whose first part is `path` (a split header with its parts beside
/// it, or the first of several chunks), read from the parts in order as `read_zarf` and
/// `read_numbered` read them; `None` when `path` is not read that way.
pub fn reopen(path: &Path) -> Option<Box<dyn Read + Send>> {
    let naming = first_of_several(path)?;
    let (parted, _) = Parted::of(path)?;
    let max = match naming {
        // Only a JSON header makes `NAME.part000` a split package (as `read_input` decides).
        Naming::Zarf => {
            let mut head = [0u8; 1];
            let header = std::fs::metadata(path).ok()?.len() <= 4096
                && File::open(path).ok()?.read(&mut head).ok()? == 1
                && head[0] == b'{';
            if !header {
                return None;
            }
            999
        }
        Naming::Numbered => 9_999,
    };
    let files = (1..=parted.run(1, max)).map(|i| parted.part(i)).collect();
    Some(Box::new(Parts(State::new(files, false))))
}

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

    /// Reads what the tar reader left unread, so the whole is hashed: the parts' sha256 and
    /// size, or `None` if a part cannot be read to its end.
    pub(super) fn drain(&mut self) -> Option<(Digest, u64)> {
        let mut sink = [0u8; 64 * 1024];
        loop {
            match self.read(&mut sink) {
                Ok(0) => return self.result.take(),
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

/// The other files read along with `path` when it is the part given for a split or chunked
/// file (`NAME.part001`… beside `NAME.part000`, `NAME.002`… beside `NAME.001`), in order:
/// what `--checksums` must match too.
pub fn siblings(path: &Path) -> Vec<PathBuf> {
    let Some((parted, n)) = Parted::of(path) else { return Vec::new() };
    if n != parted.first() {
        return Vec::new();
    }
    (n + 1..n + 1 + parted.run(n + 1, 9_999)).map(|i| parted.part(i)).collect()
}

/// The compression the first part starts with.
pub(super) fn sniff_first(file: &Path) -> io::Result<crate::scan::Compression> {
    let mut first = [0u8; 8];
    let n = crate::digest::read_full(&mut File::open(file)?, &mut first)?;
    Ok(crate::scan::Compression::sniff(&first[..n]))
}
