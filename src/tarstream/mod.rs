//! A bounded, streaming reader of tar headers.
//!
//! Why not `tar::Archive`: it reads GNU long-name and PAX payloads whole with no cap (a hostile
//! header can ask for gigabytes), and it stops at the first zero block, so the bytes after it
//! are never read. We need both bounds and the whole stream: a layer's diffID is the sha256 of
//! every decompressed byte, end-of-archive blocks and padding included. This reader parses
//! headers only; entry data is read or skipped by the caller through [`TarReader::data`].
//!
//! Security model: nothing here trusts a size. Metadata payloads (PAX, GNU long names) are
//! capped at [`MAX_META`]; data is never buffered; every header's checksum is verified, so
//! garbage is rejected instead of being parsed into huge sizes.

pub mod gzip;
mod header;
mod meta;
mod sparse;

pub use header::{EntryKind, HeaderError, name_string};
pub use meta::{Meta, Mtime, name_bytes};
use std::io::{self, Read};

/// The largest PAX or GNU long-name payload we accept. Real ones are a few hundred bytes.
pub const MAX_META: u64 = 1 << 20;

/// Where to skip entry data: a seekable file skips with a seek, a stream reads and discards
/// (and so hashes) the bytes.
pub trait Source: Read + Sized {
    /// Skips `n` bytes; a stream that ends first is a [`ShortSkip`] error saying how many
    /// bytes were there.
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut self.by_ref().take(n), &mut io::sink())?;
        if copied < n {
            return Err(ShortSkip::error(copied));
        }
        Ok(())
    }
}

/// A skip that reached the end of the stream after `got` of the bytes it was to skip: the
/// payload of an `UnexpectedEof` error, read back by type, so a truncated archive's report can
/// say where the stream was cut.
#[derive(Debug, Clone, Copy)]
pub struct ShortSkip {
    pub got: u64,
}

impl ShortSkip {
    pub fn error(got: u64) -> io::Error {
        io::Error::new(io::ErrorKind::UnexpectedEof, ShortSkip { got })
    }

    /// The bytes a failed skip got past, when the error is a [`ShortSkip`].
    fn of(e: &io::Error) -> u64 {
        e.get_ref().and_then(|inner| inner.downcast_ref::<ShortSkip>()).map_or(0, |s| s.got)
    }
}

impl std::fmt::Display for ShortSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the stream ends {} bytes into the data skipped", self.got)
    }
}

impl std::error::Error for ShortSkip {}

/// One entry's header, after PAX and GNU extensions are applied.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub link: Option<String>,
    pub kind: EntryKind,
    /// Bytes of data that follow the header in the stream (for a sparse file: the stored
    /// fragments, after a PAX 1.0 map).
    pub size: u64,
    /// Offset of the first data byte from the start of the tar stream.
    pub data_offset: u64,
    /// The raw type flag ('0', '5', 'S', …), for what extractors accept.
    pub typeflag: u8,
    /// Go reads this entry as a GNU sparse file (old GNU 'S', or PAX 0.0/0.1/1.0 records):
    /// its data is expanded, holes read as zeros.
    pub sparse: Option<Sparse>,
}

/// A sparse file as Go reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sparse {
    /// The file's size once expanded (Go's `Header.Size`).
    pub size: u64,
    /// Whether the stored data is exactly what the map refers to. When it is not, Go's
    /// `Read` fails ("sparse file references non-existent data" or "contains unreferenced
    /// data"), so every extractor fails on this entry.
    pub data_matches: bool,
}

#[derive(Debug)]
pub enum TarError {
    Io {
        offset: u64,
        error: io::Error,
    },
    /// The stream ended inside a header or inside an entry's data: `offset` is where it
    /// ended (the cut), counted in tar bytes.
    Truncated {
        offset: u64,
    },
    Header {
        offset: u64,
        error: HeaderError,
    },
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TarError::Io { offset, error } => write!(f, "read error at byte {offset}: {error}"),
            TarError::Truncated { offset } => write!(f, "it ends early, at byte {offset} of the tar"),
            TarError::Header { offset, error } => {
                write!(f, "invalid tar header at byte {offset}: {error}")
            }
        }
    }
}

/// How the archive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The zero block(s) of a proper end-of-archive marker.
    Marker,
    /// The stream ended at a header boundary with no marker. Go's archive/tar (and so docker
    /// and containerd) accept this.
    CleanEof,
}

pub struct TarReader<R> {
    inner: R,
    /// Bytes consumed from the start of the tar stream.
    offset: u64,
    /// Unread data of the current entry, then its padding up to the next 512-byte block.
    pending_data: u64,
    pending_pad: u64,
    end: Option<End>,
    /// The current entry's final header block and the payload of the PAX `x` header before
    /// it (empty if none), for [`TarReader::meta`].
    last_block: [u8; 512],
    last_pax: Vec<u8>,
}

impl<R: Source> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            offset: 0,
            pending_data: 0,
            pending_pad: 0,
            end: None,
            last_block: [0; 512],
            last_pax: Vec::new(),
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads the next entry's header(s). `Ok(None)` once the archive has ended.
    ///
    /// Go's order (reader.go `next`): metadata headers (`x`, `L`, `K`) apply to the next
    /// regular header; a later one of a kind replaces an earlier one. The PAX path replaces
    /// the header's name, a non-empty GNU long name replaces that (an empty one is kept
    /// but not used), and a PAX-format sparse file's `GNU.sparse.name` replaces both.
    /// How many bytes of the tar stream were read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.end.is_some() {
            return Ok(None);
        }
        let mut pending = Pending::default();
        loop {
            if !self.skip_pending()? {
                self.end = Some(End::CleanEof);
                return Ok(None);
            }
            let header_offset = self.offset;
            let mut block = [0u8; 512];
            if !self.read_block(&mut block)? {
                self.end = Some(End::CleanEof);
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                return self.end_marker(header_offset).map(|()| None);
            }
            let at = |error| TarError::Header { offset: header_offset, error };
            let h = header::parse(&block).map_err(at)?;
            // Go's `handleRegularFile`, before anything else: a negative size fails every
            // type but the header-only ones, which have no data whatever the field says.
            if h.size < 0 && !header::header_only(h.typeflag) {
                return Err(at(HeaderError::Number("size")));
            }
            let size = if header::header_only(h.typeflag) { 0 } else { h.size as u64 };
            match h.kind {
                EntryKind::GnuLongName | EntryKind::GnuLongLink | EntryKind::Pax | EntryKind::PaxGlobal => {
                    self.read_meta(h.kind, size, &mut pending, header_offset)?;
                }
                _ => return self.regular(h, &block, pending, header_offset).map(Some),
            }
        }
    }

    /// A metadata header's payload, bounded, applied to what is pending for the next file.
    fn read_meta(&mut self, kind: EntryKind, size: u64, p: &mut Pending, header_offset: u64) -> Result<(), TarError> {
        let at = |error| TarError::Header { offset: header_offset, error };
        if size > MAX_META {
            return Err(at(HeaderError::MetaTooLarge(size)));
        }
        let mut payload = vec![0u8; size as usize];
        let start = self.offset;
        self.inner.read_exact(&mut payload).map_err(|e| map_io(start, e))?;
        self.offset += size;
        // The padding is skipped before the next header: the stream may end inside it.
        self.pending_pad = pad(size);
        match kind {
            EntryKind::GnuLongName => p.long_name = c_bytes(&payload).to_vec(),
            EntryKind::GnuLongLink => p.long_link = c_bytes(&payload).to_vec(),
            EntryKind::Pax => {
                p.pax = header::parse_pax(&payload).map_err(at)?;
                p.pax_raw = payload;
            }
            // Go returns a global header as an entry of its own (extractors skip it): what
            // was pending for the next file (x, L, K) is dropped. Malformed records fail;
            // bad values do not (Go ignores its merge errors there).
            _ => {
                header::parse_pax(&payload).map_err(at)?;
                *p = Pending::default();
            }
        }
        Ok(())
    }

    /// A regular header (anything but `x`, `g`, `L`, `K`) with what was pending merged in.
    fn regular(&mut self, h: header::Header, block: &[u8; 512], p: Pending, at: u64) -> Result<Entry, TarError> {
        let err = |error| TarError::Header { offset: at, error };
        let merged = p.pax.merge().map_err(err)?;
        let mut name = merged.path.unwrap_or(h.name);
        if !p.long_name.is_empty() {
            name = p.long_name;
        }
        let mut link = merged.linkpath.unwrap_or(h.link);
        if !p.long_link.is_empty() {
            link = p.long_link;
        }
        // A '\0' type flag names a directory when the (final) name ends in '/': Go then
        // reads no data for it, so what follows is the next header, not this entry's data.
        let (mut kind, mut typeflag) = (h.kind, h.typeflag);
        if typeflag == 0 && name.ends_with(b"/") {
            (kind, typeflag) = (EntryKind::Dir, b'5');
        }
        let size = merged.size.unwrap_or(h.size);
        if size < 0 && !header::header_only(typeflag) {
            return Err(err(HeaderError::Number("size")));
        }
        self.pending_data = if header::header_only(typeflag) { 0 } else { size as u64 };
        let sparse = if h.typeflag == b'S' {
            if !h.gnu {
                // STAR uses the same flag for another layout; Go refuses it.
                return Err(err(HeaderError::Refused("a sparse ('S') header that is not GNU format")));
            }
            Some(self.old_gnu_sparse(block, at)?)
        } else {
            self.pax_sparse(&p.pax, size, &mut name, at)?
        };
        let sparse = match sparse {
            Some((logical, map)) => Some(self.check_sparse(&map, logical, typeflag, at)?),
            None => None,
        };
        self.pending_pad = pad(self.pending_data);
        self.last_block = *block;
        self.last_pax = p.pax_raw;
        let link = (!link.is_empty()).then(|| header::name_string(&link));
        let path = header::name_string(&name);
        Ok(Entry { path, link, kind, size: self.pending_data, data_offset: self.offset, typeflag: h.typeflag, sparse })
    }

    /// After one zero block, Go reads one more: a second zero block (or the end of the
    /// stream) ends the archive; anything else is `ErrHeader`, so the load fails.
    fn end_marker(&mut self, first_zero: u64) -> Result<(), TarError> {
        let mut block = [0u8; 512];
        if self.read_block(&mut block)? && !block.iter().all(|&b| b == 0) {
            return Err(TarError::Header {
                offset: first_zero,
                error: HeaderError::Refused(
                    "a single zero block followed by more headers (Go's archive/tar, so docker, fails here)",
                ),
            });
        }
        self.end = Some(End::Marker);
        Ok(())
    }

    /// The metadata of the entry `next_entry` returned last (mode, owner, mtime, device
    /// numbers, `SCHILY.xattr.*`), as Go reads them.
    pub fn meta(&self) -> Meta {
        meta::parse(&self.last_block, &self.last_pax)
    }

    /// How the archive ended, once `next_entry` has returned `None`.
    pub fn end(&self) -> Option<End> {
        self.end
    }

    /// A reader over the current entry's unread data.
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { tar: self }
    }

    /// Skips the rest of the current entry's data (an early end is an error), then its
    /// padding. `false` when the stream ends inside the padding: Go's `next` reads the padding
    /// with `tryReadFull` and takes that end as the end of the archive.
    fn skip_pending(&mut self) -> Result<bool, TarError> {
        if self.pending_data > 0 {
            let at = self.offset;
            self.inner.skip(self.pending_data).map_err(|e| map_io(at + ShortSkip::of(&e), e))?;
            self.offset += self.pending_data;
            self.pending_data = 0;
        }
        let want = std::mem::take(&mut self.pending_pad) as usize;
        let mut padding = [0u8; 512];
        let mut got = 0;
        while got < want {
            match self.inner.read(&mut padding[got..want]) {
                Ok(0) => {
                    self.offset += got as u64;
                    return Ok(false);
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(map_io(self.offset + got as u64, e)),
            }
        }
        self.offset += want as u64;
        Ok(true)
    }

    /// Reads one 512-byte block; `false` on EOF before its first byte.
    fn read_block(&mut self, block: &mut [u8; 512]) -> Result<bool, TarError> {
        let mut got = 0;
        while got < 512 {
            match self.inner.read(&mut block[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => {
                    return Err(TarError::Truncated { offset: self.offset + got as u64 });
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(map_io(self.offset + got as u64, e)),
            }
        }
        self.offset += 512;
        Ok(true)
    }
}

/// What metadata headers left for the next regular header.
#[derive(Default)]
struct Pending {
    long_name: Vec<u8>,
    long_link: Vec<u8>,
    pax: header::PaxRecords,
    /// The PAX records as they were read, for [`TarReader::meta`].
    pax_raw: Vec<u8>,
}

fn map_io(offset: u64, error: io::Error) -> TarError {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        TarError::Truncated { offset }
    } else {
        TarError::Io { offset, error }
    }
}

fn pad(size: u64) -> u64 {
    (512 - size % 512) % 512
}

fn c_bytes(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// Reads the current entry's data; returns EOF at the entry's end. A stream that ends early
/// is an `UnexpectedEof` error, not a short entry.
pub struct EntryData<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Source> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.tar.pending_data) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.tar.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("tar stream truncated at byte {}", self.tar.offset),
            ));
        }
        self.tar.pending_data -= n as u64;
        self.tar.offset += n as u64;
        Ok(n)
    }
}

/// A plain stream: skipping reads the bytes.
pub struct Stream<R>(pub R);

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl<R: Read> Source for Stream<R> {}

#[cfg(test)]
mod tests;

/// Checks one block as a tar header (used to recognise a tar by its first block).
pub fn parse_header_block(block: &[u8; 512]) -> Result<(), HeaderError> {
    header::parse(block).map(|_| ())
}
