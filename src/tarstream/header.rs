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
    /// The name as Go reads it: `prefix/name` where the format has a prefix (raw bytes).
    pub name: Vec<u8>,
    /// The link name field (raw bytes; empty when there is none).
    pub link: Vec<u8>,
    /// The raw type flag, before Go's fix-ups (`'\0'` + trailing `/` is a directory).
    pub kind: EntryKind,
    pub typeflag: u8,
    /// The size field. Negative only in base-256; Go accepts that for the header-only
    /// types (links, devices, directories, FIFOs), which have no data whatever it says.
    pub size: i64,
    /// The block is GNU format (`ustar  \0`): the only one where 'S' is an old GNU sparse file.
    pub gnu: bool,
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
    if format != Format::V7 {
        numeric(&b[329..337]).ok_or(HeaderError::Number("devmajor"))?;
        numeric(&b[337..345]).ok_or(HeaderError::Number("devminor"))?;
    }
    if format == Format::Star {
        // STAR keeps its access and change times after a 131-byte prefix; Go parses them
        // with the other fields, so a bad one fails the header.
        numeric(&b[476..488]).ok_or(HeaderError::Number("atime"))?;
        numeric(&b[488..500]).ok_or(HeaderError::Number("ctime"))?;
    }
    let typeflag = b[156];
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
    // Joined as bytes, then turned into text once: the escaping stays one-to-one.
    let mut name = Vec::with_capacity(prefix.len() + 101);
    if !prefix.is_empty() {
        name.extend_from_slice(prefix);
        name.push(b'/');
    }
    name.extend_from_slice(c_bytes(&b[0..100]));
    let link = c_bytes(&b[157..257]).to_vec();
    Ok(Header { name, link, kind: kind_of(typeflag), typeflag, size, gnu: format == Format::Gnu })
}

fn kind_of(typeflag: u8) -> EntryKind {
    match typeflag {
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
    }
}

/// Go's `isHeaderOnlyType`: these types have no data, whatever the size field says.
pub fn header_only(typeflag: u8) -> bool {
    matches!(typeflag, b'1' | b'2' | b'3' | b'4' | b'5' | b'6')
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
pub(super) fn c_bytes(b: &[u8]) -> &[u8] {
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

/// The records of one PAX `x` (or `g`) header as Go keeps them (`parsePAX`): a map in which
/// the last record of a key wins, an empty value too (an empty value then leaves the
/// header's own field as it is: `mergePAX` skips it). `GNU.sparse.offset` and
/// `GNU.sparse.numbytes` records are joined into `GNU.sparse.map`, as Go joins them.
#[derive(Default)]
pub struct PaxRecords {
    map: std::collections::HashMap<Vec<u8>, Vec<u8>>,
}

/// What a regular header takes from the PAX records before it (Go's `mergePAX`).
pub struct Merged {
    pub path: Option<Vec<u8>>,
    pub linkpath: Option<Vec<u8>>,
    pub size: Option<i64>,
}

impl PaxRecords {
    /// The value of `key`; empty when there is no such record (Go reads a missing key of
    /// its map as "").
    pub fn get(&self, key: &str) -> &[u8] {
        self.map.get(key.as_bytes()).map_or(&[], Vec::as_slice)
    }

    /// Go's `mergePAX`: every non-empty value of a known key must parse (uid, gid, size as
    /// 64-bit decimals, times as PAX times), or the header fails. Bad values only fail the
    /// header that uses them: records that a later `x` header replaces, or that end the
    /// archive unused, are never checked (as in Go).
    pub fn merge(&self) -> Result<Merged, HeaderError> {
        let mut m = Merged { path: None, linkpath: None, size: None };
        for (k, v) in &self.map {
            if v.is_empty() {
                continue;
            }
            match k.as_slice() {
                b"path" => m.path = Some(v.clone()),
                b"linkpath" => m.linkpath = Some(v.clone()),
                b"uid" | b"gid" => {
                    go_int(v).ok_or(HeaderError::Pax("bad number"))?;
                }
                b"size" => m.size = Some(go_int(v).ok_or(HeaderError::Pax("bad size"))?),
                b"atime" | b"mtime" | b"ctime" if !is_pax_time(v) => return Err(HeaderError::Pax("bad time")),
                _ => {}
            }
        }
        Ok(m)
    }
}

/// Go's `strconv.ParseInt(v, 10, 64)`: an optional sign, then decimal digits, in range.
pub fn go_int(v: &[u8]) -> Option<i64> {
    // Rust's parser takes the same forms ("+5", "-5"; no spaces, no underscores).
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Parses `"<len> <key>=<value>\n"` records, failing where Go's `parsePAX` fails: the
/// record syntax, `validPAXRecord` (no NUL in a key; none in a path, linkpath, uname or gname
/// value) and the order of GNU 0.0 sparse records.
pub fn parse_pax(mut b: &[u8]) -> Result<PaxRecords, HeaderError> {
    let mut out = PaxRecords::default();
    let mut sparse_map: Vec<&[u8]> = Vec::new();
    while !b.is_empty() {
        let sp = b.iter().position(|&c| c == b' ').ok_or(HeaderError::Pax("no length"))?;
        // ParseInt(s, 10, 0): an optional sign, decimal digits.
        let len = go_int(&b[..sp]).ok_or(HeaderError::Pax("bad length"))?;
        let len = usize::try_from(len).map_err(|_| HeaderError::Pax("bad length"))?;
        if len < 5 || len > b.len() || len <= sp + 1 || b[len - 1] != b'\n' {
            return Err(HeaderError::Pax("length out of range"));
        }
        let rec = &b[sp + 1..len - 1];
        let eq = rec.iter().position(|&c| c == b'=').ok_or(HeaderError::Pax("no '='"))?;
        let (key, value) = (&rec[..eq], &rec[eq + 1..]);
        let nul_in = match key {
            b"path" | b"linkpath" | b"uname" | b"gname" => value,
            _ => key,
        };
        if key.is_empty() || nul_in.contains(&0) {
            return Err(HeaderError::Pax("empty key or NUL byte"));
        }
        match key {
            b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                let want: &[u8] =
                    if sparse_map.len().is_multiple_of(2) { b"GNU.sparse.offset" } else { b"GNU.sparse.numbytes" };
                if key != want || value.contains(&b',') {
                    return Err(HeaderError::Pax("GNU sparse records out of order"));
                }
                sparse_map.push(value);
            }
            _ => {
                out.map.insert(key.to_vec(), value.to_vec());
            }
        }
        b = &b[len..];
    }
    if !sparse_map.is_empty() {
        out.map.insert(b"GNU.sparse.map".to_vec(), sparse_map.join(&b','));
    }
    Ok(out)
}

/// Go's `parsePAXTime`: seconds as `ParseInt(s, 10, 64)`, then optionally `.` and digits.
fn is_pax_time(v: &[u8]) -> bool {
    let (secs, frac) = match v.iter().position(|&c| c == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &[][..]),
    };
    go_int(secs).is_some() && frac.iter().all(u8::is_ascii_digit)
}
