//! Step 1 of the flow: open an input and read every member into a [`Catalog`].
//!
//! Three ways in, one result:
//! - a directory (an OCI layout): files are scanned in parallel;
//! - a plain tar file: headers are indexed first (seeking past the data), then members are
//!   read in parallel at their offsets;
//! - a tar wrapped in gzip or zstd: streamed once; each blob is handed in chunks to a worker
//!   so the outer decompression overlaps with hashing and layer decompression.

pub mod catalog;
mod cut;
mod dir;
pub mod path;
pub mod split;
pub(crate) mod tar_file;
mod tar_stream;

pub use catalog::{Catalog, DataSource, Member, MemberKind, Unresolved};

use crate::error::Error;
use crate::finding::{Code, Finding};
use crate::scan::{Compression, Depth};
use std::fs::File;
use std::io::{self, Read as _};
use std::path::Path;

/// Reads an input whole. Problems with the archive itself are findings in the catalog; an
/// input that cannot be opened at all is an [`Error::Open`] (exit status 2).
pub fn read_input(path: &Path, depth: Depth, progress: &crate::progress::Progress) -> Result<Catalog, Error> {
    let sniffed = Sniffed::open(path)?;
    read_sniffed(path, sniffed, depth, progress)
}

/// An input opened and its first bytes read, once: what it is (a directory, a tar, a
/// wrapped stream, a split header) is decided from them by whoever reads it next.
pub struct Sniffed {
    meta: std::fs::Metadata,
    /// The open file, positioned after `head`; `None` for a directory.
    file: Option<File>,
    head: [u8; 512],
    n: usize,
}

impl Sniffed {
    pub fn open(path: &Path) -> Result<Sniffed, Error> {
        let err = |source| Error::open(path, source);
        let meta = std::fs::metadata(path).map_err(err)?;
        let mut head = [0u8; 512];
        if meta.is_dir() {
            // Decided from the top level alone: `airlock verify /etc` or `~` is refused at
            // once, never walked and hashed.
            if !dir::is_image_dir(path) {
                return Err(Error::NotALayout(path.to_path_buf()));
            }
            return Ok(Sniffed { meta, file: None, head, n: 0 });
        }
        let mut file = open_input(path).map_err(err)?;
        let n = crate::digest::read_full(&mut file, &mut head).map_err(err)?;
        Ok(Sniffed { meta, file: Some(file), head, n })
    }

    /// The whole-file compression (`None` for a directory).
    pub fn compression(&self) -> Option<Compression> {
        self.file.as_ref().map(|_| Compression::sniff(&self.head[..self.n]))
    }

    /// The whole stream again: the bytes already read, then the rest of the file.
    fn into_stream(self) -> Option<Box<dyn io::Read + Send>> {
        let head = io::Cursor::new(self.head[..self.n].to_vec());
        self.file.map(|f| -> Box<dyn io::Read + Send> { Box::new(head.chain(f)) })
    }
}

/// [`read_input`] from an input already opened and sniffed.
pub fn read_sniffed(
    path: &Path,
    sniffed: Sniffed,
    depth: Depth,
    progress: &crate::progress::Progress,
) -> Result<Catalog, Error> {
    let Sniffed { meta, file, head, n } = sniffed;
    let Some(file) = file else {
        return Ok(dir::read(path, depth, progress));
    };
    let mut catalog = Catalog::default();
    if n == 0 {
        catalog.findings.push(Finding::new(Code::ArchiveCorrupt, "the file is empty"));
        return Ok(catalog);
    }
    // A split package's header part: the parts beside it are read as one stream.
    if head[0] == b'{'
        && meta.len() <= 4096
        && let Some(c) = split::read_zarf(path, &head[..n], depth, progress)
    {
        return Ok(c);
    }
    let compression = Compression::sniff(&head[..n]);
    let plain_tar = compression == Compression::None && n == 512 && looks_like_tar(&head);
    // A chunk of a file cut into numbered chunks (a chunked Hauler haul).
    if meta.is_file()
        && let Some(c) = split::read_numbered(path, compression != Compression::None || plain_tar, depth, progress)
    {
        return Ok(c);
    }
    // A pipe, FIFO or character device (`cat app.tar | airlock verify /dev/stdin`) can be
    // read once, front to back: it is streamed, with the bytes already read put back first.
    let seekable = meta.is_file();
    if seekable {
        progress.set_total(meta.len());
    }
    let stream = |file: File| -> Box<dyn io::Read + Send> { Box::new(io::Cursor::new(head[..n].to_vec()).chain(file)) };
    match compression {
        Compression::None if plain_tar => {
            if seekable {
                let mut catalog = tar_file::read(file, meta.len(), depth, progress);
                catalog.whole = Some(crate::digest::Whole { size: meta.len(), sha256: None });
                Ok(catalog)
            } else {
                Ok(read_hashed(stream(file), compression, false, depth, progress))
            }
        }
        Compression::None => {
            catalog.findings.push(Finding::new(
                Code::ArchiveCorrupt,
                "not an archive: neither a tar, a gzip, zstd, bzip2, xz or lz4 stream, nor a directory",
            ));
            Ok(catalog)
        }
        c @ (Compression::Gzip | Compression::Zstd | Compression::Bzip2 | Compression::Lz4 | Compression::Xz) => {
            Ok(read_hashed(stream(file), c, seekable, depth, progress))
        }
    }
}

/// Reads a stream (the whole input, from its first byte) and hashes it in the same pass: the
/// catalog's `whole`. What the tar reader leaves unread at its end (a compressed stream's
/// trailer, padding) is hashed after it; a file that broke early is hashed to its end, since
/// its bytes are still to be read once. A pipe is hashed only if at most [`PIPE_TAIL`] more
/// bytes follow, so an endless one cannot hold the verify.
fn read_hashed<'a>(
    src: Box<dyn io::Read + Send + 'a>,
    compression: Compression,
    seekable: bool,
    depth: Depth,
    progress: &crate::progress::Progress,
) -> Catalog {
    let mut hashed = crate::digest::HashReader::new(src);
    let mut catalog = tar_stream::read(Box::new(&mut hashed), compression, depth, progress);
    if seekable || drain_at_most(&mut hashed, PIPE_TAIL).is_some() {
        catalog.whole = hashed.finish().ok().map(|(d, size)| crate::digest::Whole { size, sha256: Some(d) });
    }
    catalog
}

/// At most this many bytes of a pipe are read after its tar ends, to hash it whole.
pub const PIPE_TAIL: u64 = 1 << 20;

/// Reads `r` to its end if that comes within `limit` bytes.
fn drain_at_most(r: &mut impl io::Read, limit: u64) -> Option<u64> {
    let n = io::copy(&mut r.take(limit + 1), &mut io::sink()).ok()?;
    (n <= limit).then_some(n)
}

/// How long an input that is a FIFO may wait for a writer.
pub const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens an input file. Opening a FIFO blocks until a process opens it for writing, so a
/// FIFO is opened on a helper thread: with no writer within [`FIFO_WAIT`], the open fails
/// (exit 2, "cannot open") instead of hanging. (The helper stays blocked until a writer
/// comes or the process ends; it holds nothing.) Pipes such as `/dev/stdin` have their
/// writer already and open at once.
pub fn open_input(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    if !std::fs::metadata(path)?.file_type().is_fifo() {
        return File::open(path);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(File::open(p));
    });
    rx.recv_timeout(FIFO_WAIT).unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("it is a FIFO and no process opened it for writing within {} s", FIFO_WAIT.as_secs()),
        ))
    })
}

/// Reads an archive from a stream (a member of a bundle, which ends with the member),
/// compressed as `outer` says, hashing it whole in the same pass.
pub fn read_stream<'a>(
    src: Box<dyn io::Read + Send + 'a>,
    outer: Compression,
    depth: Depth,
    progress: &crate::progress::Progress,
) -> Catalog {
    read_hashed(src, outer, true, depth, progress)
}

/// A streamed input's bytes again, from the start, and their whole-file compression: a
/// file, or the parts of a split or chunked one. A pipe or device was read once and cannot be.
pub fn reopen_input(path: &Path) -> io::Result<(Box<dyn io::Read + Send>, Compression)> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(io::Error::other("the input is a pipe or a device, which can be read only once: give the file"));
    }
    let mut src: Box<dyn io::Read + Send> = match split::reopen(path) {
        Some(parts) => parts,
        None => Box::new(File::open(path)?),
    };
    let mut head = [0u8; 8];
    let n = crate::digest::read_full(&mut src, &mut head)?;
    Ok((Box::new(io::Cursor::new(head[..n].to_vec()).chain(src)), Compression::sniff(&head[..n])))
}

/// The data of `member` in the tar that `src` holds (compressed as `compression`), read up
/// to it as a stream.
pub fn member_of_stream<'a>(
    src: Box<dyn io::Read + Send + 'a>,
    compression: Compression,
    member: &str,
) -> io::Result<Box<dyn io::Read + Send + 'a>> {
    use crate::tarstream::{Stream, TarReader};
    let decoder = crate::scan::compression::outer_decoder(std::io::BufReader::new(src), compression)?;
    let mut tar = TarReader::new(Stream(decoder));
    loop {
        match tar.next_entry() {
            Ok(Some(e)) if path::normalize(&e.path).is_ok_and(|p| p == member) => {
                return Ok(Box::new(EntryReader { tar }));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err(io::Error::new(io::ErrorKind::NotFound, format!("{member} is gone"))),
            Err(e) => return Err(io::Error::other(e.to_string())),
        }
    }
}

/// The current entry's data of a tar reader it owns.
struct EntryReader<R> {
    tar: crate::tarstream::TarReader<R>,
}

impl<R: crate::tarstream::Source> io::Read for EntryReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tar.data().read(buf)
    }
}

/// A first block that parses as a tar header (checksum included), or an empty archive.
fn looks_like_tar(block: &[u8; 512]) -> bool {
    block.iter().all(|&b| b == 0) || crate::tarstream::parse_header_block(block).is_ok()
}

/// Records a member found by any of the readers, normalising its path.
/// More members than any image archive has; past it, the rest are not recorded, so a tar of
/// millions of empty entries cannot grow memory without bound.
pub const MAX_MEMBERS: usize = 200_000;

fn add_member(catalog: &mut Catalog, raw_name: &str, member: Member) -> Option<String> {
    if catalog.members.len() >= MAX_MEMBERS {
        if !catalog.members_capped {
            catalog.members_capped = true;
            catalog.findings.push(Finding::new(
                Code::ArchiveCorrupt,
                format!("the archive has more than {MAX_MEMBERS} members; the rest are not read"),
            ));
        }
        return None;
    }
    match path::normalize(raw_name) {
        Ok(p) if p.is_empty() => None, // "./" itself
        Ok(p) => {
            catalog.insert(p.clone(), member);
            Some(p)
        }
        Err(why) => {
            catalog.findings.push(
                Finding::new(
                    Code::UnsafePath,
                    format!("archive member {raw_name:?} would be written outside the archive ({why})"),
                )
                .member(raw_name),
            );
            None
        }
    }
}

/// Decompresses a gzip-, zstd-, bzip2-, xz- or lz4-wrapped input, already sniffed, into `dest`.
pub fn unwrap_to(sniffed: Sniffed, dest: &Path) -> io::Result<()> {
    let compression = sniffed.compression().unwrap_or(Compression::None);
    if compression == Compression::None {
        return Err(io::Error::other("not gzip, zstd, bzip2, xz or lz4"));
    }
    let src = std::io::BufReader::new(sniffed.into_stream().ok_or_else(|| io::Error::other("a directory"))?);
    let mut out = File::create(dest)?;
    io::copy(&mut crate::scan::compression::outer_decoder(src, compression)?, &mut out)?;
    Ok(())
}
