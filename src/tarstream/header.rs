//! One 512-byte tar header and PAX extended records, read the way Go's `archive/tar` reads
//! them (docker, containerd, podman and skopeo are Go programs; a header they read
//! differently is a way to show airlock one file and them another). Where Go would fail,
//! this fails too; see `tests.rs` for each rule.
//!
//! Go's rules, from src/archive/tar/{reader,format,strconv}.go:
//! - The checksum field is octal; the sum may be of unsigned or signed bytes.
//! - The format follows the magic: `ustar\0` is USTAR/PAX, or STAR when bytes 508..512 are
//!   `tar\0`; `ustar ` with version ` \0` is GNU; anything else is V7.
//! - Numeric fields: base-256 when the high bit is set (negative sizes are an error),
//!   else octal after trimming spaces and NULs at both ends and cutting at the first NUL
//!   (so `"0000\0001"` is 0, not 1). An invalid mode, uid, gid, size or mtime, or (not V7)
//!   devmajor/devminor, is an error.
//! - Name prefix: USTAR/PAX 155 bytes at 345, STAR 131 bytes at 345, none for GNU and V7,
//!   except a GNU header whose atime/ctime do not parse and whose prefix bytes are ASCII
//!   (Go's fallback for archives of pre-1.8 Go writers).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Hardlink,
    Symlink,
    Dir,
    /// Character and block devices, FIFOs.
    Device,
    GnuLongName,
    GnuLongLink,
    Pax,
    PaxGlobal,
    /// Old GNU sparse ('S'): extension blocks may follow the header, before the data.
    GnuSparse,
    /// Any other type flag (contiguous files, vendor types…): data follows as for a file.
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    Checksum,
    Number(&'static str),
    MetaTooLarge(u64),
    Pax(&'static str),
    /// A header Go refuses for another reason.
    Refused(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Checksum => write!(f, "checksum does not match (not a tar header)"),
            HeaderError::Number(field) => {
                write!(f, "the {field} field is not a number as Go's archive/tar reads it (docker would fail)")
            }
            HeaderError::MetaTooLarge(n) => {
                write!(f, "a PAX or GNU long-name header of {n} bytes exceeds the {} byte cap", super::MAX_META)
            }
            HeaderError::Pax(why) => write!(f, "malformed PAX record: {why}"),
            HeaderError::Refused(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V7,
    Ustar,
    Star,
    Gnu,
}

pub struct Header {
    pub name: String,
    pub link: Option<String>,
    /// The raw type flag, before Go's fix-ups (`'\0'` + trailing `/` is a directory).
    pub kind: EntryKind,
    pub typeflag: u8,
    pub size: u64,
    /// Old GNU sparse: more sparse map blocks follow this header.
    pub sparse_extended: bool,
}

pub fn parse(b: &[u8; 512]) -> Result<Header, HeaderError> {
    verify_checksum(b)?;
    let format = match (&b[257..263], &b[263..265], &b[508..512]) {
        (b"ustar\0", _, b"tar\0") => Format::Star,
        (b"ustar\0", _, _) => Format::Ustar,
        (b"ustar ", b" \0", _) => Format::Gnu,
        _ => Format::V7,
    };
    for (range, field) in [(100..108, "mode"), (108..116, "uid"), (116..124, "gid"), (136..148, "mtime")] {
        numeric(&b[range]).ok_or(HeaderError::Number(field))?;
    }
    let size = numeric(&b[124..136]).ok_or(HeaderError::Number("size"))?;
    let size = u64::try_from(size).map_err(|_| HeaderError::Number("size"))?;
    if format != Format::V7 {
        numeric(&b[329..337]).ok_or(HeaderError::Number("devmajor"))?;
        numeric(&b[337..345]).ok_or(HeaderError::Number("devminor"))?;
    }
    let typeflag = b[156];
    let kind = match typeflag {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::Hardlink,
        b'2' => EntryKind::Symlink,
        b'3' | b'4' | b'6' => EntryKind::Device,
        b'5' => EntryKind::Dir,
        b'L' => EntryKind::GnuLongName,
        b'K' => EntryKind::GnuLongLink,
        b'x' => EntryKind::Pax,
        b'g' => EntryKind::PaxGlobal,
        b'S' => EntryKind::GnuSparse,
        other => EntryKind::Other(other),
    };
    let prefix = match format {
        Format::Ustar => c_bytes(&b[345..500]),
        Format::Star => c_bytes(&b[345..476]),
        Format::Gnu => {
            let bad_time = |r: std::ops::Range<usize>| b[r.start] != 0 && numeric(&b[r]).is_none();
            let p = c_bytes(&b[345..500]);
            if (bad_time(345..357) || bad_time(357..369)) && p.is_ascii() { p } else { &[] }
        }
        Format::V7 => &[],
    };
    let mut name = name_string(c_bytes(&b[0..100]));
    if !prefix.is_empty() {
        name = format!("{}/{name}", name_string(prefix));
    }
    if kind == EntryKind::GnuSparse && format != Format::Gnu {
        // STAR uses the same flag for another layout; Go refuses it.
        return Err(HeaderError::Refused("a sparse ('S') header that is not GNU format"));
    }
    let link = name_string(c_bytes(&b[157..257]));
    let link = (!link.is_empty()).then_some(link);
    Ok(Header { name, link, kind, typeflag, size, sparse_extended: b[482] != 0 })
}

/// Whether an old GNU sparse extension block says another one follows.
pub fn sparse_block_extended(b: &[u8; 512]) -> bool {
    b[504] != 0
}

fn verify_checksum(b: &[u8; 512]) -> Result<(), HeaderError> {
    let stored = octal(&b[148..156]).ok_or(HeaderError::Checksum)?;
    let mut unsigned: i64 = 0;
    let mut signed: i64 = 0;
    for (i, &c) in b.iter().enumerate() {
        let c = if (148..156).contains(&i) { b' ' } else { c };
        unsigned += c as i64;
        signed += c as i8 as i64;
    }
    // Some old tars summed signed chars; both are accepted, as GNU tar and Go do.
    if stored == unsigned || stored == signed { Ok(()) } else { Err(HeaderError::Checksum) }
}

/// The bytes of a NUL-terminated field.
fn c_bytes(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// A name as text, losslessly. Valid UTF-8 reads as written. A name with invalid bytes
/// (or, to keep the mapping one-to-one, one that starts with U+FFFD) becomes U+FFFD
/// followed by the name with backslashes doubled and invalid bytes as `\xNN`. So two
/// different raw names never become one string, as a lossy conversion would make `a\xff`
/// and `a\xfe` (Go compares the bytes).
pub fn name_string(b: &[u8]) -> String {
    const MARK: char = '\u{FFFD}';
    if let Ok(s) = std::str::from_utf8(b)
        && !s.starts_with(MARK)
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(b.len() + 8);
    out.push(MARK);
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Go's `parseNumeric`: base-256 (two's complement) when the high bit is set, else octal.
pub(super) fn numeric(b: &[u8]) -> Option<i64> {
    if b[0] & 0x80 != 0 {
        let inv: u8 = if b[0] & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &c) in b.iter().enumerate() {
            let mut c = c ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 > 0 {
                return None;
            }
            x = (x << 8) | c as u64;
        }
        if x >> 63 > 0 {
            return None;
        }
        return Some(if inv == 0xff { !(x as i64) } else { x as i64 });
    }
    octal(b)
}

/// Go's `parseOctal`: trim spaces and NULs at both ends, cut at the first NUL, then the
/// rest must be octal digits (empty is 0).
fn octal(b: &[u8]) -> Option<i64> {
    let start = b.iter().position(|&c| c != b' ' && c != 0).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ' && c != 0).map_or(start, |e| e + 1);
    let s = c_bytes(&b[start..end.max(start)]);
    if s.is_empty() {
        return Some(0);
    }
    let mut v: u64 = 0;
    for &c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add((c - b'0') as u64)?;
    }
    i64::try_from(v).ok()
}

#[derive(Default)]
pub struct PaxRecords {
    pub path: Option<String>,
    pub linkpath: Option<String>,
    pub size: Option<u64>,
    /// `GNU.sparse.name`, which Go uses as the name of a PAX-format sparse file.
    pub sparse_name: Option<String>,
    pub sparse_major: Option<String>,
    pub sparse_minor: Option<String>,
    pub sparse_map: bool,
}

impl PaxRecords {
    /// The name Go gives a PAX-format GNU sparse file (`readGNUSparsePAXHeaders`), if this is
    /// one: `GNU.sparse.name` for versions 0.0, 0.1 and 1.0 (or no version and a map).
    pub fn sparse_file_name(&self) -> Option<&String> {
        let known = match (self.sparse_major.as_deref(), self.sparse_minor.as_deref()) {
            (Some("0"), Some("0" | "1")) | (Some("1"), Some("0")) => true,
            (None, None) => self.sparse_map,
            _ => false,
        };
        self.sparse_name.as_ref().filter(|n| known && !n.is_empty())
    }
}

/// Parses `"<len> <key>=<value>\n"` records, failing where Go's `parsePAX` fails. An empty
/// value leaves the header's own field as it is (Go's `mergePAX` skips it). `values` says
/// whether bad values fail too: they do for an `x` header, not for a global `g` one (Go
/// ignores merge errors there).
pub fn parse_pax(mut b: &[u8], values: bool) -> Result<PaxRecords, HeaderError> {
    let mut out = PaxRecords::default();
    while !b.is_empty() {
        let sp = b.iter().position(|&c| c == b' ').ok_or(HeaderError::Pax("no length"))?;
        let len: usize =
            std::str::from_utf8(&b[..sp]).ok().and_then(|s| s.parse().ok()).ok_or(HeaderError::Pax("bad length"))?;
        if len < 5 || len <= sp + 1 || len > b.len() || b[len - 1] != b'\n' {
            return Err(HeaderError::Pax("length out of range"));
        }
        let rec = &b[sp + 1..len - 1];
        let eq = rec.iter().position(|&c| c == b'=').ok_or(HeaderError::Pax("no '='"))?;
        let (key, value) = (&rec[..eq], &rec[eq + 1..]);
        if key.is_empty() {
            return Err(HeaderError::Pax("empty key"));
        }
        if value.is_empty() {
            b = &b[len..];
            continue;
        }
        let text = || name_string(value);
        let int = || -> Result<i64, HeaderError> {
            match std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()) {
                Some(n) => Ok(n),
                None if !values => Ok(0),
                None => Err(HeaderError::Pax("bad number")),
            }
        };
        match key {
            b"path" | b"linkpath" | b"uname" | b"gname" if value.contains(&0) => {
                return Err(HeaderError::Pax("NUL in a name"));
            }
            b"path" => out.path = Some(text()),
            b"linkpath" => out.linkpath = Some(text()),
            b"size" => out.size = Some(u64::try_from(int()?).map_err(|_| HeaderError::Pax("negative size"))?),
            b"uid" | b"gid" => {
                int()?;
            }
            b"atime" | b"mtime" | b"ctime" if values && !is_pax_time(value) => {
                return Err(HeaderError::Pax("bad time"));
            }
            b"GNU.sparse.name" => out.sparse_name = Some(text()),
            b"GNU.sparse.major" => out.sparse_major = Some(text()),
            b"GNU.sparse.minor" => out.sparse_minor = Some(text()),
            b"GNU.sparse.map" | b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => out.sparse_map = true,
            _ => {}
        }
        b = &b[len..];
    }
    Ok(out)
}

/// `[+-]seconds[.fraction]`, as Go's `parsePAXTime` accepts.
fn is_pax_time(v: &[u8]) -> bool {
    let v = v.strip_prefix(b"-").or_else(|| v.strip_prefix(b"+")).unwrap_or(v);
    let (secs, frac) = match v.iter().position(|&c| c == b'.') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    !secs.is_empty() && secs.iter().all(u8::is_ascii_digit) && frac.is_none_or(|f| f.iter().all(u8::is_ascii_digit))
}
