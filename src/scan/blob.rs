//! One blob, one read: sha256 of the stored bytes, compression by magic, decompression,
//! sha256 of the decompressed stream (the diffID) and a walk over the layer's tar headers.
//! Small JSON documents are kept in memory instead, for the model to parse.

use super::chunks::ChunkReader;
use super::compression::{Compression, ZstdFrames, window_refused, xz_decoder};
use super::layer_entries::escape_reason;
use super::stored::Stored;
use crate::digest::{Digest, HashReader, drain, read_full};
use crate::tarstream::{EntryKind, Stream, TarReader};
use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// A JSON document larger than this is not parsed (manifest-invalid / config-invalid).
pub const MAX_DOCUMENT: u64 = 32 << 20;
/// Documents held in memory at once by the whole process: every input, every archive of a
/// bundle. Past this, further ones are not kept (and refused as too large). With the model's
/// own limits (`model::MAX_*`) it bounds memory whatever the documents say; real archives hold
/// well under a megabyte of them.
pub const MAX_DOCUMENTS_TOTAL: u64 = 48 << 20;
/// Unsafe layer entries remembered per blob (all are counted).
const MAX_UNSAFE_LISTED: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Hash and decompress everything (`verify`).
    Full,
    /// Keep documents, skip layer data (`inspect`).
    Documents,
}

/// Bytes of documents held now, across the process (see [`MAX_DOCUMENTS_TOTAL`]).
static HELD: AtomicU64 = AtomicU64::new(0);

/// The cap on documents kept in memory. One pool for the process: a bundle of many archives
/// holds no more than a single input.
pub struct DocumentBudget(());

impl DocumentBudget {
    pub fn new() -> Self {
        DocumentBudget(())
    }
    fn take(&self, n: u64) -> bool {
        HELD.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            held.checked_add(n).filter(|&t| t <= MAX_DOCUMENTS_TOTAL)
        })
        .is_ok()
    }
}

impl Default for DocumentBudget {
    fn default() -> Self {
        Self::new()
    }
}

/// A kept JSON document: its bytes, shared (a layout inside a bundle is a view of the same
/// members), and given back to the budget when the last holder drops it.
#[derive(Clone)]
pub struct Document(Arc<Held>);

struct Held {
    bytes: Vec<u8>,
    /// What was taken from the budget for it (its declared size).
    taken: u64,
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(self.taken, Ordering::Relaxed);
    }
}

impl std::ops::Deref for Document {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0.bytes
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Document({} bytes)", self.0.bytes.len())
    }
}

#[derive(Debug, Clone)]
pub struct BlobScan {
    /// sha256 of the stored bytes; `None` when the data was skipped (`inspect`).
    pub digest: Option<Digest>,
    pub size: u64,
    pub content: Content,
    /// The stored bytes start with a valid tar header (a plain tar, whatever its name): what
    /// a bundle opens as an archive beside those that start with a compression magic.
    pub tar_head: bool,
}

#[derive(Debug, Clone)]
pub enum Content {
    /// A small JSON-looking member, kept whole.
    Document(Document),
    /// Looked like JSON but was too large to keep.
    OversizedDocument,
    /// Anything else, scanned as a (possibly compressed) layer tar. Boxed: every member of a
    /// catalog holds a `Content`, and a layer's summary is about 190 bytes that the other
    /// members would carry too (112 MiB against 130 MiB for 250,000 empty members).
    Layer(Box<LayerScan>),
    /// Not read past its magic bytes (`inspect`, convert's first pass).
    Sniffed(Compression),
}

#[derive(Debug, Clone)]
pub struct LayerScan {
    pub compression: Compression,
    pub tar: Result<TarSummary, LayerError>,
}

/// Why a layer's tar could not be read through; the message completes
/// "layer N (MEMBER, COMPRESSION): …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerError {
    /// Its zstd frames need a window larger than any runtime decodes (the decoder's words).
    ZstdWindow(String),
    /// Compressed in a way no container runtime decompresses as a layer.
    Unsupported(Compression),
    /// The stream or the tar in it is broken, or cannot be read (what was wrong).
    Corrupt(String),
}

impl std::fmt::Display for LayerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerError::ZstdWindow(e) => {
                write!(f, "its zstd frames need a window larger than any runtime decodes ({e})")
            }
            LayerError::Unsupported(c) => {
                write!(f, "compressed with {}, which no container runtime decompresses as a layer", c.as_str())
            }
            LayerError::Corrupt(why) => f.write_str(why),
        }
    }
}

/// A write to the output failed while a layer was read (convert's copy or re-compression):
/// the scan ends with an `io::Error` holding this, told apart from a read error by its type
/// ([`is_output_error`]).
#[derive(Debug)]
pub struct OutputError(pub io::Error);

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "output: {}", self.0)
    }
}

impl std::error::Error for OutputError {}

/// Whether `e` is an [`OutputError`]: the output failed, not the input.
pub fn is_output_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<OutputError>())
}

#[derive(Debug, Clone)]
pub struct TarSummary {
    pub diff_id: Digest,
    pub uncompressed_size: u64,
    pub entries: u64,
    pub unsafe_entries: Vec<UnsafeEntry>,
    pub unsafe_count: u64,
    /// Entries of a type no extractor unpacks (GNU sparse 'S', contiguous '7', …), as
    /// (path, type flag); the first few, and how many in all.
    pub unpackable: Vec<(String, u8)>,
    pub unpackable_count: u64,
    /// The tar ended with its end-of-archive marker (two zero blocks), not only at a header
    /// boundary.
    pub ended_with_marker: bool,
    /// The compressed stream went on after the tar's end-of-archive marker with bytes that
    /// are not a gzip member (why, as the decoder said it). Go's gzip reader returns that
    /// error only after the tar has ended, and docker, containerd and podman load such a
    /// layer (measured with all nine runtimes): it is a warning, and the diffID covers what
    /// was decompressed before it, as theirs does.
    pub trailing_ignored: Option<String>,
    /// An entry named `manifest.json`, `index.json` or `repositories`, at any depth: this tar,
    /// or a directory of it, could be loaded as an image archive or layout of its own.
    pub image_like: bool,
    /// A file entry whose data starts with a tar header or a compression magic: an archive
    /// inside this one.
    pub has_archives: bool,
}

#[derive(Debug, Clone)]
pub struct UnsafeEntry {
    pub path: String,
    pub why: String,
}

/// Scans one member of known size. Read errors of the source itself (a truncated outer
/// archive) are returned as `Err`; everything wrong *inside* the blob is in the result.
pub fn scan<R: Read>(src: R, size: u64, depth: Depth, budget: &DocumentBudget) -> io::Result<BlobScan> {
    scan_into(src, size, depth, budget, None)
}

/// As [`scan`], also writing the decompressed stream of a layer into `plain` (convert's
/// re-compression reads the layer this one time). A write error ends the scan with an
/// [`OutputError`].
pub fn scan_into<R: Read>(
    src: R,
    size: u64,
    depth: Depth,
    budget: &DocumentBudget,
    plain: Option<&mut dyn Write>,
) -> io::Result<BlobScan> {
    // Hashed on a thread of its own when large and read through (see `Stored`).
    let mut raw = Stored::new(src, size, depth == Depth::Full);
    let head = raw.fill_buf()?;
    // A tar whose first entry is named `[` or `{` starts like JSON; a valid header checksum
    // says it is a tar (no JSON document has one).
    let is_tar = head.len() >= 512 && crate::tarstream::parse_header_block(head[..512].try_into().unwrap()).is_ok();
    let looks_json = !is_tar && head.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b == b'{' || b == b'[');
    if looks_json {
        return document(raw, size, depth, budget);
    }
    let compression = Compression::sniff(head);
    if depth == Depth::Documents {
        // Not drained: a seekable input skips the rest, a stream's reader skips it for us.
        return Ok(BlobScan { digest: None, size, content: Content::Sniffed(compression), tar_head: is_tar });
    }
    let failed_output = std::cell::RefCell::new(None);
    let failed = &failed_output;
    let tar = match compression {
        // Stored uncompressed: the blob digest *is* the diffID, so hash once.
        Compression::None => {
            let mut tee = Tee { inner: &mut raw, sink: plain, failed };
            walk_layer(&mut tee).and_then(|walked| {
                drain(&mut tee).map_err(|e| LayerError::Corrupt(format!("read error: {e}")))?;
                Ok(walked)
            })
        }
        Compression::Gzip => {
            decoded(Tee { inner: crate::tarstream::gzip::GzipReader::new(&mut raw), sink: plain, failed }, "gzip")
        }
        Compression::Zstd => decoded(Tee { inner: ZstdFrames::layer(&mut raw), sink: plain, failed }, "zstd"),
        Compression::Bzip2 => {
            decoded(Tee { inner: bzip2::bufread::MultiBzDecoder::new(&mut raw), sink: plain, failed }, "bzip2")
        }
        Compression::Xz => match xz_decoder(&mut raw) {
            Ok(d) => decoded(Tee { inner: d, sink: plain, failed }, "xz"),
            Err(e) => Err(LayerError::Corrupt(format!("xz: {e}"))),
        },
        Compression::Lz4 => Err(LayerError::Unsupported(Compression::Lz4)),
    };
    if let Some(e) = failed_output.into_inner() {
        return Err(io::Error::other(OutputError(e)));
    }
    // Whatever happened inside, the stored bytes are hashed to their end.
    let (digest, size) = raw.finish()?;
    let tar = tar.map(|mut t| {
        if compression == Compression::None {
            t.diff_id = digest;
            t.uncompressed_size = size;
        }
        t
    });
    Ok(BlobScan {
        digest: Some(digest),
        size,
        content: Content::Layer(Box::new(LayerScan { compression, tar })),
        tar_head: is_tar,
    })
}

/// A blob that starts like JSON: kept whole for the model when within the bounds, else
/// hashed (with `Depth::Full`) and marked too large.
fn document<R: Read>(mut raw: Stored<R>, size: u64, depth: Depth, budget: &DocumentBudget) -> io::Result<BlobScan> {
    if size <= MAX_DOCUMENT && budget.take(size) {
        // Taken before reading: given back when it drops, read or not.
        let mut held = Held { bytes: Vec::new(), taken: size };
        held.bytes.reserve_exact(size as usize);
        (&mut raw).take(size).read_to_end(&mut held.bytes)?;
        drain(&mut raw)?;
        let (digest, size) = raw.finish()?;
        return Ok(BlobScan {
            digest: Some(digest),
            size,
            content: Content::Document(Document(Arc::new(held))),
            tar_head: false,
        });
    }
    if depth == Depth::Documents {
        return Ok(BlobScan { digest: None, size, content: Content::OversizedDocument, tar_head: false });
    }
    let (digest, size) = raw.finish()?;
    Ok(BlobScan { digest: Some(digest), size, content: Content::OversizedDocument, tar_head: false })
}

/// Decompresses on this thread and hands the output, in chunks, to a second thread that
/// hashes it (the diffID) and walks it as a tar. Decompression and hashing are the two big
/// costs of a layer; splitting them keeps both cores busy even when the last layer of a run
/// is the only one left.
fn decoded<D: Read>(mut decoder: D, name: &str) -> Result<TarSummary, LayerError> {
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(PIPE_CHUNKS);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let walk = move || {
            let mut plain = HashReader::new(ChunkReader::recycling(full_rx, empty_tx));
            let walked = walk_layer(&mut plain);
            // Drain whatever follows the tar's end: the diffID covers it too.
            (walked, plain.finish())
        };
        let walker = std::thread::Builder::new()
            .name("layer-diffid".into())
            .spawn_scoped(scope, walk)
            .map_err(|e| LayerError::Corrupt(format!("{name} layer: cannot start the hashing thread: {e}")))?;
        let mut failed = None;
        loop {
            let mut buf = empty_rx.try_recv().unwrap_or_default();
            buf.resize(PIPE_CHUNK, 0);
            // What was decoded before an error is handed on too: Go's readers return it
            // before the error, and the tar may have ended in it.
            let (n, error) = fill(&mut decoder, &mut buf);
            if n > 0 {
                buf.truncate(n);
                if full_tx.send(Ok(buf)).is_err() {
                    break; // the walker stopped; it reports why
                }
            }
            if error.is_some() || n == 0 {
                failed = error;
                break;
            }
        }
        drop(full_tx);
        let (walked, finished) =
            walker.join().map_err(|_| LayerError::Corrupt(format!("{name} layer: the hashing thread failed")))?;
        // A broken compressed stream explains everything the walker saw after it, unless
        // the tar had ended and what follows is not a gzip member at all (see
        // `TarSummary::trailing_ignored`).
        let mut trailing = None;
        if let Some(e) = failed {
            if window_refused(&e).is_some() {
                return Err(LayerError::ZstdWindow(e.to_string()));
            }
            let not_a_member =
                crate::tarstream::gzip::GzipError::of(&e) == Some(&crate::tarstream::gzip::GzipError::Header);
            if !(not_a_member && walked.as_ref().is_ok_and(|s| s.ended_with_marker)) {
                return Err(LayerError::Corrupt(format!("the {name} stream is corrupt: {e}")));
            }
            trailing = Some(e.to_string());
        }
        let mut summary = walked?;
        summary.trailing_ignored = trailing;
        let (diff_id, n) = finished.map_err(|e| LayerError::Corrupt(format!("{name} stream: {e}")))?;
        summary.diff_id = diff_id;
        summary.uncompressed_size = n;
        Ok(summary)
    })
}

/// Reads until `buf` is full or the stream ends: how many bytes, and the error that stopped
/// it early (the bytes read before it are kept).
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (got, Some(e)),
        }
    }
    (got, None)
}

const PIPE_CHUNK: usize = 256 * 1024;
const PIPE_CHUNKS: usize = 4;

/// Walks the tar headers, skipping (reading) the data. The caller drains the rest of the
/// stream after the end-of-archive marker, which the diffID covers too.
fn walk_layer<R: Read>(r: R) -> Result<TarSummary, LayerError> {
    walk_tar(r).map_err(LayerError::Corrupt)
}

fn walk_tar<R: Read>(r: R) -> Result<TarSummary, String> {
    let mut tar = TarReader::new(Stream(r));
    let mut summary = TarSummary {
        diff_id: Digest::of(b""),
        uncompressed_size: 0,
        entries: 0,
        unsafe_entries: Vec::new(),
        unsafe_count: 0,
        unpackable: Vec::new(),
        unpackable_count: 0,
        ended_with_marker: false,
        trailing_ignored: None,
        image_like: false,
        has_archives: false,
    };
    while let Some(entry) = tar.next_entry().map_err(|e| format!("not a valid tar: {e}"))? {
        summary.entries += 1;
        // Go expands a sparse file as it is read, and fails when the stored data is not
        // what its map needs: every extractor fails the load there.
        if entry.sparse.is_some_and(|s| !s.data_matches) {
            return Err(format!(
                "not a valid tar: the GNU sparse file {:?} holds other data than its map needs (Go fails reading it)",
                entry.path
            ));
        }
        let name = entry.path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        summary.image_like |= matches!(name, "manifest.json" | "index.json" | "repositories");
        if !summary.has_archives && matches!(entry.kind, EntryKind::File | EntryKind::Other(_)) && entry.size > 0 {
            // What the entry's data starts with (the rest is skipped as before).
            let mut head = [0u8; 512];
            let want = entry.size.min(512) as usize;
            let n = read_full(&mut tar.data(), &mut head[..want]).map_err(|e| format!("not a valid tar: {e}"))?;
            summary.has_archives = Compression::sniff(&head[..n]) != Compression::None
                || (n == 512 && crate::tarstream::parse_header_block(&head).is_ok());
        }
        // moby's and containerd's extractors (createTarFile / applyNaive) handle regular
        // files, links, devices, FIFOs and directories; any other type fails the whole load
        // ("unhandled tar header type 83" for GNU sparse, measured with docker 20.10,
        // containerd 1.6 and podman 4.3).
        if !matches!(entry.typeflag, b'0' | 0 | b'1' | b'2' | b'3' | b'4' | b'5' | b'6') {
            summary.unpackable_count += 1;
            if summary.unpackable.len() < MAX_UNSAFE_LISTED {
                summary.unpackable.push((entry.path.clone(), entry.typeflag));
            }
        }
        let mut note = |why: String| {
            summary.unsafe_count += 1;
            if summary.unsafe_entries.len() < MAX_UNSAFE_LISTED {
                summary.unsafe_entries.push(UnsafeEntry { path: entry.path.clone(), why });
            }
        };
        if let Some(why) = escape_reason(&entry.path) {
            note(why.to_string());
        }
        if entry.kind == EntryKind::Hardlink {
            let target = entry.link.as_deref().unwrap_or("");
            if let Some(why) = escape_reason(target) {
                note(format!("hard link to {target:?}: {why}"));
            }
        }
    }
    summary.ended_with_marker = tar.end() == Some(crate::tarstream::End::Marker);
    Ok(summary)
}

/// Copies what is read into an optional writer. A failed write ends the read, and is kept
/// in `failed`: the scan then ends with an [`OutputError`], whatever the read made of it.
struct Tee<'a, 'w, R> {
    inner: R,
    sink: Option<&'w mut dyn Write>,
    failed: &'a std::cell::RefCell<Option<io::Error>>,
}

impl<R: Read> Read for Tee<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(s) = self.sink.as_mut()
            && let Err(e) = s.write_all(&buf[..n])
        {
            let shown = io::Error::other(OutputError(io::Error::new(e.kind(), e.to_string())));
            self.failed.borrow_mut().get_or_insert(e);
            return Err(shown);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip_layer() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, "a", &b"abc"[..]).unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&b.into_inner().unwrap()).unwrap();
        e.finish().unwrap()
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_output_is_told_by_its_type() {
        let layer = gzip_layer();
        let budget = DocumentBudget::new();
        let e = scan_into(&layer[..], layer.len() as u64, Depth::Full, &budget, Some(&mut Full)).unwrap_err();
        assert!(is_output_error(&e), "{e}");
        let mut sink = Vec::new();
        let s = scan_into(&layer[..], layer.len() as u64, Depth::Full, &budget, Some(&mut sink)).unwrap();
        assert!(matches!(&s.content, Content::Layer(l) if l.tar.is_ok()));
        assert!(!is_output_error(&io::Error::other("output: a read error that says so")));
    }

    #[test]
    fn layer_errors_read_as_before() {
        let w = LayerError::ZstdWindow("Frame requires too much memory for decoding".into());
        assert_eq!(
            w.to_string(),
            "its zstd frames need a window larger than any runtime decodes (Frame requires too much memory for decoding)"
        );
        assert_eq!(
            LayerError::Unsupported(Compression::Lz4).to_string(),
            "compressed with lz4, which no container runtime decompresses as a layer"
        );
        let lz4 = [0x04, 0x22, 0x4d, 0x18, 0, 0, 0, 0];
        let s = scan(&lz4[..], 8, Depth::Full, &DocumentBudget::new()).unwrap();
        assert!(matches!(
            &s.content,
            Content::Layer(l) if matches!(l.tar, Err(LayerError::Unsupported(Compression::Lz4)))
        ));
    }
}
