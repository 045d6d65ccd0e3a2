//! A tar read as one stream with no temporary copy: wrapped whole in gzip, zstd, bzip2 or
//! lz4, or plain from a pipe.
//!
//! This thread decompresses the outer stream and parses the tar; each large member is handed
//! in bounded chunks to a rayon worker that hashes and decompresses it. So the outer
//! decompression (one core) overlaps with the per-blob work (the other). Memory stays bounded:
//! each in-flight blob holds at most `CHANNEL_CHUNKS` chunks, and a worker that is not yet
//! running blocks this thread once its channel is full.

use super::{Catalog, Member, add_member, cut, tar_file::member_kind};
use crate::finding::{Code, Finding};
use crate::progress::Progress;
use crate::scan::chunks::ChunkReader;
use crate::scan::{self, BlobScan, Compression, Depth, DocumentBudget};
use crate::tarstream::{Stream, TarError, TarReader};
use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};

const CHUNK: usize = 512 * 1024;
const CHANNEL_CHUNKS: usize = 8;
/// Members up to this size are read whole and scanned on this thread: a thread hand-off
/// would cost more than the hashing.
const INLINE_MAX: u64 = 256 * 1024;

pub fn read<'a>(src: Box<dyn Read + Send + 'a>, outer: Compression, depth: Depth, progress: &Progress) -> Catalog {
    let mut catalog = Catalog { outer: Some(outer), ..Catalog::default() };
    let read_in = Arc::new(AtomicU64::new(0));
    let counted = Counted { inner: progress.reader(src), n: read_in.clone() };
    let decoder = match crate::scan::compression::outer_decoder(BufReader::with_capacity(CHUNK, counted), outer) {
        Ok(d) => d,
        Err(e) => {
            let name = outer.as_str();
            catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("the {name} stream cannot be read: {e}")));
            return catalog;
        }
    };
    let mut tar = TarReader::new(Stream(decoder));
    let (done_tx, done_rx) = mpsc::channel::<(String, io::Result<BlobScan>)>();
    let mut pass = Pass { outer, depth, budget: Arc::new(DocumentBudget::new()), done: done_tx, read_in };
    let broken = pass.members(&mut tar, &mut catalog);
    // Read the outer stream to its end, so a broken checksum or trailing damage after the
    // tar's end is still found. Go's tar reader stops at the end-of-archive marker and never
    // reads what follows, so after a gzip stream that is a warning (measured: docker 20.10,
    // 26 and 28 load trailing bytes); every member before the marker was read and verified.
    if !broken && let Err(e) = crate::digest::drain(&mut tar.into_inner().0) {
        catalog.findings.push(trailer_finding(outer, e));
    }
    drop(pass);
    for (path, r) in done_rx {
        match r {
            // The producer already reported a broken stream under this member.
            Err(_) if broken => {}
            Err(e) => catalog.findings.push(corrupt(outer.as_str(), &path, e)),
            ok => catalog.record_scan(&path, ok),
        }
    }
    catalog.check_links();
    catalog
}

/// One pass over the members of a streamed tar: what each member's scan needs.
struct Pass {
    outer: Compression,
    depth: Depth,
    budget: Arc<DocumentBudget>,
    /// Each member's scan, as it ends.
    done: mpsc::Sender<(String, io::Result<BlobScan>)>,
    /// Bytes of the input read so far (compressed, for a wrapped tar).
    read_in: Arc<AtomicU64>,
}

impl Pass {
    /// Reads every member, handing each file's data to a scan. `true` when the stream broke
    /// (a finding says where).
    fn members<R: crate::tarstream::Source>(&mut self, tar: &mut TarReader<R>, catalog: &mut Catalog) -> bool {
        let mut last = None;
        loop {
            let entry = match tar.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => return false,
                Err(TarError::Truncated { offset }) => {
                    catalog.findings.push(cut::truncated(&self.what(), last.as_ref(), offset, &self.how()));
                    catalog.cut = true;
                    return true;
                }
                Err(e) => {
                    let what = self.what();
                    catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("{what} is broken: {e}")));
                    return true;
                }
            };
            let (kind, is_file) = member_kind(&entry, catalog);
            let added = add_member(catalog, &entry.path, Member { kind, size: entry.size, offset: 0, scan: None });
            last = Some(cut::Last::new(added.as_deref().unwrap_or(&entry.path), &entry));
            let Some(path) = added.filter(|_| is_file) else { continue };
            if let Err(e) = self.member(tar, &path, entry.size, catalog) {
                let finding = match (e.kind(), &last) {
                    (io::ErrorKind::UnexpectedEof, Some(l)) => {
                        catalog.cut = true;
                        cut::truncated(&self.what(), Some(l), tar.offset(), &self.how())
                    }
                    _ => corrupt(self.outer.as_str(), &path, e),
                };
                catalog.findings.push(finding);
                return true;
            }
        }
    }

    /// Scans one member's data: a small one here, a large one on a rayon worker fed in
    /// chunks. An error is the stream's (the member's scan reports its own).
    fn member<R: crate::tarstream::Source>(
        &self,
        tar: &mut TarReader<R>,
        path: &str,
        size: u64,
        catalog: &mut Catalog,
    ) -> io::Result<()> {
        let (depth, path) = (self.depth, path.to_string());
        if size <= INLINE_MAX {
            let mut buf = Vec::with_capacity(size as usize);
            tar.data().read_to_end(&mut buf)?;
            let r = scan::blob::scan(&buf[..], size, depth, &self.budget);
            let name = path.rsplit('/').next().unwrap_or(&path);
            if super::catalog::KEPT_NAMES.contains(&name) {
                catalog.kept.insert(path.clone(), buf);
            }
            let _ = self.done.send((path, r));
            return Ok(());
        }
        let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(CHANNEL_CHUNKS);
        let (budget, done) = (self.budget.clone(), self.done.clone());
        rayon::spawn(move || {
            let r = scan::blob::scan(ChunkReader::new(rx), size, depth, &budget);
            let _ = done.send((path, r));
        });
        feed(tar, &tx).inspect_err(|e| {
            let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
        })
    }

    /// "the gzip-compressed tar", or "the tar" when it is not wrapped.
    fn what(&self) -> String {
        match self.outer {
            Compression::None => "the tar".to_string(),
            c => format!("the {}-compressed tar", c.as_str()),
        }
    }

    /// How much of the input was read, for a wrapped one: the cut is in the compressed bytes.
    fn how(&self) -> String {
        match self.outer {
            Compression::None => String::new(),
            c => format!(
                " (the {} stream stops after {} bytes of input)",
                c.as_str(),
                self.read_in.load(Ordering::Relaxed)
            ),
        }
    }
}

/// Counts the bytes read from the input.
struct Counted<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Damage in the outer stream after the tar's end-of-archive marker.
fn trailer_finding(outer: Compression, e: io::Error) -> Finding {
    use crate::tarstream::gzip::GzipError;
    let name = outer.as_str();
    // Damage inside compressed data: where Go's reader stops there is not known to the byte.
    if outer != Compression::Gzip || GzipError::in_data(&e) {
        return Finding::new(Code::ArchiveCorrupt, format!("the {name} stream is broken after the tar's end: {e}"));
    }
    let what = match (e.kind(), GzipError::of(&e)) {
        (io::ErrorKind::UnexpectedEof, _) => "ends inside a gzip header or trailer",
        (_, Some(GzipError::Checksum)) => "has a gzip trailer whose CRC-32 or size does not match",
        (_, Some(GzipError::Header)) => "has bytes that are not a gzip member",
        // A read error of the input itself, not damage Go would stop before.
        _ => return Finding::new(Code::ArchiveCorrupt, format!("the {name} stream cannot be read to its end: {e}")),
    };
    Finding::new(
        Code::ArchiveTrailerIgnored,
        format!(
            "after the tar's end-of-archive marker the gzip stream {what} ({e}); docker stops reading at the marker and loads the archive (docker 20.10 with unpigz refuses a damaged trailer)"
        ),
    )
}

fn corrupt(name: &str, path: &str, e: io::Error) -> Finding {
    Finding::new(Code::ArchiveCorrupt, format!("the {name}-compressed archive breaks inside member {path}: {e}"))
        .member(path)
}

fn feed<R: crate::tarstream::Source>(tar: &mut TarReader<R>, tx: &SyncSender<io::Result<Vec<u8>>>) -> io::Result<()> {
    let mut data = tar.data();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let filled = crate::digest::read_full(&mut data, &mut chunk)?;
        if filled == 0 {
            return Ok(());
        }
        chunk.truncate(filled);
        // A worker that stopped early is not waited for; the data is still read past.
        let _ = tx.send(Ok(chunk));
    }
}
