//! A tar read as one stream with no temporary copy: wrapped whole in gzip, zstd, bzip2 or
//! lz4, or plain from a pipe.
//!
//! This thread decompresses the outer stream and parses the tar; each large member is handed
//! in bounded chunks to a rayon worker that hashes and decompresses it. So the outer
//! decompression (one core) overlaps with the per-blob work (the other). Memory stays bounded:
//! each in-flight blob holds at most `CHANNEL_CHUNKS` chunks, and a worker that is not yet
//! running blocks this thread once its channel is full.

use super::{Catalog, Member, add_member, tar_file::member_kind};
use crate::finding::{Code, Finding};
use crate::progress::Progress;
use crate::scan::chunks::ChunkReader;
use crate::scan::{self, BlobScan, Compression, Depth, DocumentBudget};
use crate::tarstream::{Stream, TarReader};
use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender};

const CHUNK: usize = 512 * 1024;
const CHANNEL_CHUNKS: usize = 8;
/// Members up to this size are read whole and scanned on this thread: a thread hand-off
/// would cost more than the hashing.
const INLINE_MAX: u64 = 256 * 1024;

pub fn read<'a>(src: Box<dyn Read + Send + 'a>, outer: Compression, depth: Depth, progress: &Progress) -> Catalog {
    let mut catalog = Catalog { outer: Some(outer), ..Catalog::default() };
    let counted = progress.reader(src);
    let decoder = match crate::scan::compression::outer_decoder(BufReader::with_capacity(CHUNK, counted), outer) {
        Ok(d) => d,
        Err(e) => {
            let name = outer.as_str();
            catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("the {name} stream cannot be read: {e}")));
            return catalog;
        }
    };
    let name = outer.as_str();
    let mut tar = TarReader::new(Stream(decoder));
    let budget = Arc::new(DocumentBudget::new());
    let (done_tx, done_rx) = mpsc::channel::<(String, io::Result<BlobScan>)>();
    let mut broken = false;
    loop {
        let entry = match tar.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                catalog
                    .findings
                    .push(Finding::new(Code::ArchiveCorrupt, format!("the {name}-compressed tar is broken: {e}")));
                broken = true;
                break;
            }
        };
        let (kind, is_file) = member_kind(&entry, &mut catalog);
        let Some(path) =
            add_member(&mut catalog, &entry.path, Member { kind, size: entry.size, offset: 0, scan: None })
        else {
            continue;
        };
        if !is_file {
            continue;
        }
        let size = entry.size;
        if size <= INLINE_MAX {
            let mut buf = Vec::with_capacity(size as usize);
            if let Err(e) = tar.data().read_to_end(&mut buf) {
                catalog.findings.push(corrupt(name, &path, e));
                broken = true;
                break;
            }
            let r = scan::blob::scan(&buf[..], size, depth, &budget);
            let name = path.rsplit('/').next().unwrap_or(&path);
            if super::catalog::KEPT_NAMES.contains(&name) {
                catalog.kept.insert(path.clone(), buf);
            }
            let _ = done_tx.send((path, r));
            continue;
        }
        let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(CHANNEL_CHUNKS);
        let (budget, done_tx, p) = (budget.clone(), done_tx.clone(), path.clone());
        rayon::spawn(move || {
            let r = scan::blob::scan(ChunkReader::new(rx), size, depth, &budget);
            let _ = done_tx.send((p, r));
        });
        if let Err(e) = feed(&mut tar, &tx) {
            let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
            catalog.findings.push(corrupt(name, &path, e));
            broken = true;
            break;
        }
    }
    // Read the outer stream to its end, so a broken checksum or trailing damage after the
    // tar's end is still found. Go's tar reader stops at the end-of-archive marker and never
    // reads what follows, so after a gzip stream that is a warning (measured: docker 20.10,
    // 26 and 28 load trailing bytes); every member before the marker was read and verified.
    if !broken && let Err(e) = crate::digest::drain(&mut tar.into_inner().0) {
        catalog.findings.push(trailer_finding(outer, e));
    }
    drop(done_tx);
    for (path, r) in done_rx {
        match r {
            // The producer already reported a broken stream under this member.
            Err(_) if broken => {}
            Err(e) => catalog.findings.push(corrupt(name, &path, e)),
            ok => catalog.record_scan(&path, ok),
        }
    }
    catalog.check_links();
    catalog
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
