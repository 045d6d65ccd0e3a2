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

mod header;
mod meta;

pub use header::{EntryKind, HeaderError, name_string};
pub use meta::{Meta, Mtime, name_bytes};
use std::io::{self, Read};

/// The largest PAX or GNU long-name payload we accept. Real ones are a few hundred bytes.
pub const MAX_META: u64 = 1 << 20;

/// Where to skip entry data: a seekable file skips with a seek, a stream reads and discards
/// (and so hashes) the bytes.
pub trait Source: Read + Sized {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut self.by_ref().take(n), &mut io::sink())?;
        if copied < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// One entry's header, after PAX and GNU extensions are applied.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub link: Option<String>,
    pub kind: EntryKind,
    /// Bytes of data that follow the header in the stream.
    pub size: u64,
    /// Offset of the first data byte from the start of the tar stream.
    pub data_offset: u64,
    /// The raw type flag ('0', '5', 'S', …), for what extractors accept.
    pub typeflag: u8,
}

#[derive(Debug)]
pub enum TarError {
    Io {
        offset: u64,
        error: io::Error,
    },
    /// The stream ended inside a header or inside an entry's data.
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
            TarError::Truncated { offset } => write!(f, "it ends early, {offset} bytes into the tar"),
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

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next entry's header(s). `Ok(None)` once the archive has ended.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, TarError> {
        if self.end.is_some() {
            return Ok(None);
        }
        self.skip_pending()?;
        let mut long_path: Option<String> = None;
        let mut long_link: Option<String> = None;
        let mut pax = header::PaxRecords::default();
        let mut pax_raw = Vec::new();
        loop {
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
            let size = match h.kind {
                // GNU tar and Go give these header-only types no data, whatever `size` says.
                EntryKind::Hardlink | EntryKind::Symlink | EntryKind::Dir | EntryKind::Device => 0,
                _ => h.size,
            };
            match h.kind {
                EntryKind::GnuLongName | EntryKind::GnuLongLink | EntryKind::Pax | EntryKind::PaxGlobal => {
                    if size > MAX_META {
                        return Err(at(HeaderError::MetaTooLarge(size)));
                    }
                    let payload = self.read_meta(size)?;
                    match h.kind {
                        EntryKind::GnuLongName => long_path = Some(header::name_string(c_bytes(&payload))),
                        EntryKind::GnuLongLink => long_link = Some(header::name_string(c_bytes(&payload))),
                        EntryKind::Pax => {
                            pax = header::parse_pax(&payload, true).map_err(at)?;
                            pax_raw = payload;
                        }
                        // Go returns a global header as an entry of its own (extractors skip
                        // it): what was pending for the next file (x, L, K) is dropped.
                        // Malformed records fail; bad values do not (Go ignores them).
                        _ => {
                            header::parse_pax(&payload, false).map_err(at)?;
                            long_path = None;
                            long_link = None;
                            pax = header::PaxRecords::default();
                            pax_raw = Vec::new();
                        }
                    }
                    continue;
                }
                _ => {}
            }
            // Go's order (reader.go `next`): the PAX path replaces the header's name, a GNU
            // long name replaces that, and a PAX-format sparse file's GNU.sparse.name
            // replaces both.
            let mut path = long_path.or(pax.path.take()).unwrap_or(h.name);
            if let Some(n) = pax.sparse_file_name() {
                path = n.clone();
            }
            let link = long_link.or(pax.linkpath.take()).or(h.link);
            let mut kind = h.kind;
            let mut size = if matches!(kind, EntryKind::File | EntryKind::Other(_) | EntryKind::GnuSparse) {
                pax.size.unwrap_or(size)
            } else {
                size
            };
            // A '\0' type flag names a directory when the (final) name ends in '/': Go then
            // reads no data for it, so what follows is the next header, not this entry's data.
            if h.typeflag == 0 && path.ends_with('/') {
                kind = EntryKind::Dir;
                size = 0;
            }
            if kind == EntryKind::GnuSparse && h.sparse_extended {
                self.skip_sparse_extensions(header_offset)?;
            }
            self.pending_data = size;
            self.pending_pad = pad(size);
            self.last_block = block;
            self.last_pax = pax_raw;
            return Ok(Some(Entry { path, link, kind, size, data_offset: self.offset, typeflag: h.typeflag }));
        }
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

    /// Old GNU sparse headers continue in 512-byte blocks of 21 more map entries each, read
    /// before the data (Go: `readOldGNUSparseMap`). Bounded like other metadata.
    fn skip_sparse_extensions(&mut self, header_offset: u64) -> Result<(), TarError> {
        let mut read: u64 = 0;
        loop {
            let mut block = [0u8; 512];
            if !self.read_block(&mut block)? {
                return Err(TarError::Truncated { offset: self.offset });
            }
            read += 512;
            if read > MAX_META {
                return Err(TarError::Header { offset: header_offset, error: HeaderError::MetaTooLarge(read) });
            }
            if !header::sparse_block_extended(&block) {
                return Ok(());
            }
        }
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

    fn skip_pending(&mut self) -> Result<(), TarError> {
        let n = self.pending_data + self.pending_pad;
        if n > 0 {
            let at = self.offset;
            self.inner.skip(n).map_err(|e| map_io(at, e))?;
            self.offset += n;
            self.pending_data = 0;
            self.pending_pad = 0;
        }
        Ok(())
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

    fn read_meta(&mut self, size: u64) -> Result<Vec<u8>, TarError> {
        let mut payload = vec![0u8; size as usize];
        let at = self.offset;
        self.inner.read_exact(&mut payload).map_err(|e| map_io(at, e))?;
        self.offset += size;
        let p = pad(size);
        self.inner.skip(p).map_err(|e| map_io(at + size, e))?;
        self.offset += p;
        Ok(payload)
    }
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
