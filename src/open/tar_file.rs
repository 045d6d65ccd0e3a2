//! A plain tar on disk: index the headers (seeking past the data), then read members in
//! parallel at their offsets with positional reads, so both cores hash at once.

use super::{Catalog, Member, MemberKind, add_member};
use crate::finding::{Code, Finding};
use crate::progress::Progress;
use crate::scan::{self, Compression, Depth, DocumentBudget};
use crate::tarstream::{Entry, EntryKind, Source, TarError, TarReader};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

pub fn read(file: File, len: u64, depth: Depth, progress: &Progress) -> Catalog {
    let file = std::sync::Arc::new(file);
    let mut catalog =
        Catalog { outer: Some(Compression::None), source: super::DataSource::Tar(file.clone()), ..Catalog::default() };
    let mut files = index(&mut TarReader::new(Seeking { file: &file, pos: 0, len }), len, &mut catalog);
    // A duplicate path: the later copy is the one a loader extracts (and the one recorded).
    let keep: Vec<bool> = {
        let mut last = std::collections::HashMap::with_capacity(files.len());
        for (i, (p, _, _)) in files.iter().enumerate() {
            last.insert(p.as_str(), i);
        }
        (0..files.len()).map(|i| last.get(files[i].0.as_str()) == Some(&i)).collect()
    };
    let mut keep = keep.into_iter();
    files.retain(|_| keep.next().unwrap_or(false));
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let budget = DocumentBudget::new();
    // In batches, so a tar of 200,000 tiny members never holds 200,000 scans at once.
    for batch in files.chunks(SCAN_BATCH) {
        let results: Vec<_> = batch
            .par_iter()
            .map(|(p, off, size)| {
                let at = At { file: &file, pos: *off, end: off + size };
                (p, scan::blob::scan(progress.reader(at), *size, depth, &budget))
            })
            .collect();
        for (p, r) in results {
            catalog.record_scan(p, r);
        }
    }
    catalog.check_links();
    catalog
}

/// Reads every header, seeking past the data: the members to scan, as (path, offset, size).
/// A tar cut short ends the index with a finding naming the member being read (`super::cut`).
fn index<R: Source>(tar: &mut TarReader<R>, len: u64, catalog: &mut Catalog) -> Vec<(String, u64, u64)> {
    let mut files = Vec::new();
    let mut last = None;
    loop {
        match tar.next_entry() {
            Ok(Some(e)) => {
                let (kind, is_file) = member_kind(&e, catalog);
                let added =
                    add_member(catalog, &e.path, Member { kind, size: e.size, offset: e.data_offset, scan: None });
                last = Some(super::cut::Last::new(added.as_deref().unwrap_or(&e.path), &e));
                if let Some(p) = added
                    && is_file
                {
                    files.push((p, e.data_offset, e.size));
                }
            }
            Ok(None) => break,
            Err(TarError::Truncated { offset }) => {
                catalog.findings.push(super::cut::truncated("the tar archive", last.as_ref(), offset, ""));
                catalog.cut = true;
                break;
            }
            Err(e) => {
                catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("the tar archive is broken: {e}")));
                break;
            }
        }
    }
    // A member whose data runs past the end is not scanned (it would read short).
    files.retain(|(_, off, size)| off + size <= len);
    files
}

/// Members scanned between two recordings into the catalog. Large members come first and
/// dominate the time; a batch boundary only costs a join.
const SCAN_BATCH: usize = 1024;

/// What a tar entry is as a member, and whether its data is read. A member stored as a GNU
/// sparse file is not: Go expands it (holes read as zeros) and airlock does not, so it is
/// refused by name (no image archive writer makes one).
pub(super) fn member_kind(e: &Entry, catalog: &mut Catalog) -> (MemberKind, bool) {
    if e.sparse.is_some() {
        catalog.findings.push(
            Finding::new(
                Code::ArchiveCorrupt,
                format!(
                    "member {:?} is stored as a GNU sparse file, which Go expands when docker or containerd read it; airlock does not read sparse members",
                    e.path
                ),
            )
            .member(&e.path),
        );
        return (MemberKind::Other, false);
    }
    let link = || e.link.clone().unwrap_or_default();
    match e.kind {
        EntryKind::File | EntryKind::Other(_) => (MemberKind::File, true),
        EntryKind::Dir => (MemberKind::Dir, false),
        EntryKind::Symlink => (MemberKind::Symlink(link()), false),
        EntryKind::Hardlink => (MemberKind::Hardlink(link()), false),
        _ => (MemberKind::Other, false),
    }
}

/// Header reads at a cursor; data is skipped by moving the cursor, with a bounds check (a
/// seek past the end would not fail by itself).
struct Seeking<'a> {
    file: &'a File,
    pos: u64,
    len: u64,
}

impl Read for Seeking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Source for Seeking<'_> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        if self.pos.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(crate::tarstream::ShortSkip::error(self.len.saturating_sub(self.pos)));
        }
        self.pos += n;
        Ok(())
    }
}

/// A member's data, read with `pread` so threads share one file descriptor.
pub struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl<'a> At<'a> {
    pub fn new(file: &'a File, offset: u64, size: u64) -> Self {
        At { file, pos: offset, end: offset + size }
    }
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.end - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends inside this member"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}
