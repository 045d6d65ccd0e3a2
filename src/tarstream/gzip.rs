//! A gzip stream read as Go's `compress/gzip` `Reader` reads it (multistream, the default),
//! which is what docker, containerd and podman decompress archives and layers with.
//!
//! flate2's `MultiGzDecoder` differs from Go at the member boundaries, where an archive can
//! be made to read one way in airlock and another in Go: Go refuses a file name or comment
//! longer than 511 bytes and a header CRC that does not match, and ignores the reserved flag
//! bits. So the framing is ours, read byte for byte as gzip/gunzip.go reads it;
//! the deflate data in between is inflated by flate2 (raw deflate, no framing).
//!
//! Errors keep their kind: `UnexpectedEof` for a stream that ends early, `InvalidData`
//! for a bad header or a bad checksum (CRC-32 or size in a member's trailer).

use flate2::{Crc, Decompress, FlushDecompress, Status};
use std::io::{self, BufRead, Read};

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;

/// Go's `gzip.Reader`, multistream: every member's data, in order.
pub struct GzipReader<R> {
    inner: R,
    state: State,
    inflate: Decompress,
    crc: Crc,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a member header; `first` when no member was read yet.
    Header {
        first: bool,
    },
    Body,
    Done,
    /// A sticky error, as Go's reader keeps it.
    Failed(io::ErrorKind),
}

impl<R: BufRead> GzipReader<R> {
    pub fn new(inner: R) -> Self {
        GzipReader { inner, state: State::Header { first: true }, inflate: Decompress::new(false), crc: Crc::new() }
    }

    /// Go's `readHeader`. `Ok(false)` where Go sees the end of the stream: no byte at all
    /// before a later member.
    fn header(&mut self, first: bool) -> io::Result<bool> {
        let mut h = [0u8; 10];
        let n = crate::digest::read_full(&mut self.inner, &mut h)?;
        if n == 0 && !first {
            return Ok(false);
        }
        if n < 10 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if h[..3] != [0x1f, 0x8b, 8] {
            return Err(invalid(GzipError::Header));
        }
        let flags = h[3];
        let mut crc = Crc::new();
        crc.update(&h);
        if flags & FEXTRA != 0 {
            let mut len = [0u8; 2];
            self.inner.read_exact(&mut len)?;
            crc.update(&len);
            let mut extra = vec![0u8; u16::from_le_bytes(len) as usize];
            self.inner.read_exact(&mut extra)?;
            crc.update(&extra);
        }
        for flag in [FNAME, FCOMMENT] {
            if flags & flag != 0 {
                self.string(&mut crc)?;
            }
        }
        if flags & FHCRC != 0 {
            let mut sum = [0u8; 2];
            self.inner.read_exact(&mut sum)?;
            if u16::from_le_bytes(sum) != crc.sum() as u16 {
                return Err(invalid(GzipError::Header));
            }
        }
        Ok(true)
    }

    /// A NUL-terminated name or comment of at most 512 bytes with its NUL (Go's
    /// `readString` into its 512-byte buffer).
    fn string(&mut self, crc: &mut Crc) -> io::Result<()> {
        for _ in 0..512 {
            let mut b = [0u8; 1];
            self.inner.read_exact(&mut b)?;
            crc.update(&b);
            if b[0] == 0 {
                return Ok(());
            }
        }
        Err(invalid(GzipError::Header))
    }

    /// Go's trailer check: CRC-32 and size (mod 2^32) of the member's data.
    fn trailer(&mut self) -> io::Result<()> {
        let mut t = [0u8; 8];
        self.inner.read_exact(&mut t)?;
        let (sum, size) =
            (u32::from_le_bytes(t[..4].try_into().unwrap()), u32::from_le_bytes(t[4..].try_into().unwrap()));
        if sum != self.crc.sum() || size != self.crc.amount() {
            return Err(invalid(GzipError::Checksum));
        }
        Ok(())
    }

    /// Inflates into `buf`; `Ok(0)` once the member's deflate data has ended.
    fn body(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.inner.fill_buf()?;
            let eof = input.is_empty();
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, buf, FlushDecompress::None)
                .map_err(|e| invalid(GzipError::Deflate(e.to_string())))?;
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            self.inner.consume(consumed);
            self.crc.update(&buf[..produced]);
            if produced > 0 {
                return Ok(produced);
            }
            if status == Status::StreamEnd {
                return Ok(0);
            }
            if eof {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, GzipError::TruncatedData));
            }
            if consumed == 0 {
                return Err(invalid(GzipError::Deflate("no progress".into())));
            }
        }
    }

    fn step(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Failed(kind) => return Err(io::Error::new(kind, "the gzip stream failed earlier")),
                State::Header { first } => {
                    if !self.header(first)? {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    self.inflate.reset(false);
                    self.crc.reset();
                    self.state = State::Body;
                }
                State::Body => {
                    let n = self.body(buf)?;
                    if n > 0 {
                        return Ok(n);
                    }
                    self.trailer()?;
                    self.state = State::Header { first: false };
                }
            }
        }
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.step(buf).inspect_err(|e| self.state = State::Failed(e.kind()))
    }
}

/// What is wrong with a gzip stream (inside an `InvalidData` error; a stream that ends
/// early is an `UnexpectedEof` error instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GzipError {
    /// A member header Go refuses (`gzip: invalid header`).
    Header,
    /// A member's trailer: its CRC-32 or size differs from the data (`gzip: invalid checksum`).
    Checksum,
    /// The deflate data is corrupt.
    Deflate(String),
    /// The stream ends inside a member's deflate data (inside an `UnexpectedEof` error).
    TruncatedData,
}

impl std::fmt::Display for GzipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GzipError::Header => f.write_str("gzip: invalid header"),
            GzipError::Checksum => f.write_str("gzip: invalid checksum (CRC-32 or size)"),
            GzipError::Deflate(e) => write!(f, "gzip: corrupt deflate data: {e}"),
            GzipError::TruncatedData => f.write_str("gzip: the stream ends inside compressed data"),
        }
    }
}

impl std::error::Error for GzipError {}

impl GzipError {
    /// The gzip error inside `e`, if it is one.
    pub fn of(e: &io::Error) -> Option<&GzipError> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<GzipError>())
    }

    /// Damage to the compressed data itself (not to the framing around it). Where such an
    /// error stops a reader, Go's flate and zlib may have yielded a few bytes more or less.
    pub fn in_data(e: &io::Error) -> bool {
        matches!(GzipError::of(e), Some(GzipError::Deflate(_) | GzipError::TruncatedData))
    }
}

fn invalid(why: GzipError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read(bytes: &[u8]) -> (Vec<u8>, Option<io::ErrorKind>) {
        let mut r = GzipReader::new(bytes);
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e.kind())),
            }
        }
    }

    #[test]
    fn members_are_read_in_order_and_checked() {
        let two = [gz(b"hello "), gz(b"world")].concat();
        assert_eq!(read(&two), (b"hello world".to_vec(), None));
        let mut bad_crc = gz(b"hello");
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert_eq!(read(&bad_crc), (b"hello".to_vec(), Some(io::ErrorKind::InvalidData)));
        let trailing = [gz(b"hello"), vec![0u8; 12]].concat();
        assert_eq!(read(&trailing), (b"hello".to_vec(), Some(io::ErrorKind::InvalidData)));
        let short = [gz(b"hello"), vec![0u8; 3]].concat();
        assert_eq!(read(&short), (b"hello".to_vec(), Some(io::ErrorKind::UnexpectedEof)));
        assert_eq!(read(&gz(b"hello")[..15]).1, Some(io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn header_fields_as_go_reads_them() {
        let body = &gz(b"x")[10..];
        let member = |flags: u8, extra: &[u8]| [&[0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3][..], extra, body].concat();
        // A 511-byte name and its NUL fit Go's buffer; 512 bytes do not.
        let name = |n: usize| [vec![b'a'; n], vec![0]].concat();
        assert_eq!(read(&member(FNAME, &name(511))).1, None);
        assert_eq!(read(&member(FNAME, &name(512))).1, Some(io::ErrorKind::InvalidData));
        // Reserved flag bits are ignored; a wrong header CRC is an error.
        assert_eq!(read(&member(0xe0, b"")).1, None);
        assert_eq!(read(&member(FHCRC, &[0, 0])).1, Some(io::ErrorKind::InvalidData));
        // A later member whose name ends early: an early end.
        let cut = [gz(b"x"), vec![0x1f, 0x8b, 8, FNAME, 0, 0, 0, 0, 0, 3, b'a']].concat();
        assert_eq!(read(&cut), (b"x".to_vec(), Some(io::ErrorKind::UnexpectedEof)));
        assert_eq!(read(&[]).1, Some(io::ErrorKind::UnexpectedEof));
    }
}
