//! Writing layer blobs: each is read once, and that read both verifies it (the same scan
//! `verify` runs) and writes it, byte for byte or re-compressed.

use crate::digest::{Digest, HashWriter};
use crate::formats::output::{BlobKind, OutputFormat};
use crate::open::Catalog;
use crate::output::Staging;
use crate::progress::Progress;
use crate::scan::{self, BlobScan, Compression, Content, Depth, DocumentBudget};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One layer blob to write.
#[derive(Debug, Clone)]
pub struct Job {
    /// The input member.
    pub member: String,
    pub size: u64,
    /// `None`: copy the bytes; `Some(c)`: write the decompressed stream compressed with `c`.
    pub recompress: Option<Compression>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
    pub recompressed: bool,
    /// The input's scan, for the checks.
    pub input: BlobScan,
}

#[derive(Debug)]
pub enum JobError {
    /// The input could not be read as this blob (it is reported by the checks instead).
    Input(String),
    /// The output could not be written.
    Output(io::Error),
}

pub struct Writer<'a> {
    pub catalog: &'a Catalog,
    pub staging: &'a Staging,
    pub format: OutputFormat,
    pub level: Option<i32>,
    pub progress: &'a Progress,
    pub counter: AtomicUsize,
}

impl Writer<'_> {
    pub fn write(&self, job: &Job) -> Result<Written, JobError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.staging.file(&format!(".partial/{n}")).map_err(JobError::Output)?;
        let input = self.catalog.open_member(&job.member).map_err(|e| JobError::Input(e.to_string()))?;
        let input = self.progress.reader(input);
        let file = File::create(&tmp).map_err(JobError::Output)?;
        let mut out = HashWriter::new(BufWriter::with_capacity(256 * 1024, file));
        let budget = DocumentBudget::new();
        let (scan, compression) = match job.recompress {
            None => {
                let failed = std::cell::RefCell::new(None);
                let tee = CopyReader { inner: input, out: &mut out, failed: &failed };
                let s = scan::blob::scan(tee, job.size, Depth::Full, &budget);
                // A failed write is the output's, whatever the scan made of the read it ended.
                if let Some(e) = failed.into_inner() {
                    return Err(JobError::Output(e));
                }
                let s = s.map_err(classify)?;
                let c = match &s.content {
                    Content::Layer(l) => l.compression,
                    _ => Compression::None,
                };
                (s, c)
            }
            Some(c) => {
                let s = {
                    let mut enc = Encoder::new(c, self.level, &mut out).map_err(JobError::Output)?;
                    // A failed write ends the scan with an OutputError (`classify`).
                    let s = scan::blob::scan_into(input, job.size, Depth::Full, &budget, Some(&mut enc))
                        .map_err(classify)?;
                    enc.finish().map_err(JobError::Output)?;
                    s
                };
                (s, c)
            }
        };
        let (digest, size) = out.finish().map_err(JobError::Output)?;
        let dest = self.staging.file(&self.format.blob_path(BlobKind::Layer, &digest)).map_err(JobError::Output)?;
        fs::rename(&tmp, &dest).map_err(JobError::Output)?;
        Ok(Written { digest, size, compression, recompressed: job.recompress.is_some(), input: scan })
    }
}

/// A scan's error: the output's when it holds a [`scan::blob::OutputError`], else the input's.
fn classify(e: io::Error) -> JobError {
    if !scan::blob::is_output_error(&e) {
        return JobError::Input(e.to_string());
    }
    match e.into_inner().map(|inner| inner.downcast::<scan::blob::OutputError>()) {
        Some(Ok(output)) => JobError::Output(output.0),
        _ => JobError::Output(io::Error::other("the output failed")),
    }
}

/// Copies every byte read into the output: a kept blob is written by the same read that
/// verifies it.
/// A failed write ends the read and is kept in `failed`.
struct CopyReader<'a, R, W: Write> {
    inner: R,
    out: &'a mut HashWriter<W>,
    failed: &'a std::cell::RefCell<Option<io::Error>>,
}

impl<R: Read, W: Write> Read for CopyReader<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let shown = io::Error::new(e.kind(), format!("output: {e}"));
            self.failed.borrow_mut().get_or_insert(e);
            return Err(shown);
        }
        Ok(n)
    }
}

/// A layer re-compressor. Levels are pinned (unless `--level`), gzip blocks are fixed and its
/// header is too (no name, mtime 0), so the same input gives the same bytes.
enum Encoder<'a, W: Write> {
    Gzip(super::pargz::ParallelGzip<&'a mut W>),
    Zstd(zstd::stream::write::Encoder<'static, &'a mut W>),
    None(&'a mut W),
}

impl<'a, W: Write> Encoder<'a, W> {
    fn new(c: Compression, level: Option<i32>, w: &'a mut W) -> io::Result<Self> {
        Ok(match c {
            Compression::Gzip => {
                let level = level.unwrap_or(DEFAULT_GZIP_LEVEL).clamp(0, 12) as u32;
                Encoder::Gzip(super::pargz::ParallelGzip::new(w, level)?)
            }
            Compression::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(w, level.unwrap_or(DEFAULT_ZSTD_LEVEL))?;
                e.include_checksum(true)?;
                // A fixed worker count, not the machine's: zstd's output depends on its
                // parameters, and the same input must give the same bytes everywhere.
                e.multithread(ZSTD_WORKERS)?;
                // Small jobs keep memory bounded (the default scales with the window).
                e.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB))?;
                Encoder::Zstd(e)
            }
            _ => Encoder::None(w),
        })
    }
    fn finish(self) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.finish().map(|_| ()),
            Encoder::Zstd(e) => e.finish().map(|_| ()),
            Encoder::None(_) => Ok(()),
        }
    }
}

impl<W: Write> Write for Encoder<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
            Encoder::None(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
            Encoder::None(w) => w.flush(),
        }
    }
}

/// libdeflate level 1: on the bench's layers (1.57 GB), 8.95 CPU-s for 629.9 MB where skopeo
/// wrote 622.4 MB (+1.2%) and zlib-rs level 2, the earlier default, took 15.3 CPU-s for
/// 639.5 MB. `--level` trades back (libdeflate 4: 13.9 CPU-s, 601.9 MB; 6: 19.1, 588.8).
pub const DEFAULT_GZIP_LEVEL: i32 = 1;
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
const ZSTD_WORKERS: u32 = 2;
const ZSTD_JOB: u32 = 2 << 20;
