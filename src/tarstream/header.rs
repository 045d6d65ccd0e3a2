//! One 512-byte tar header (POSIX ustar, GNU, v7) and PAX extended records.

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
    /// Any other type flag (GNU sparse, contiguous files…): data follows as for a file.
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    Checksum,
    Number(&'static str),
    MetaTooLarge(u64),
    Pax(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Checksum => write!(f, "checksum does not match (not a tar header)"),
            HeaderError::Number(field) => write!(f, "the {field} field is not a number"),
            HeaderError::MetaTooLarge(n) => {
                write!(f, "a PAX or GNU long-name header of {n} bytes exceeds the {} byte cap", super::MAX_META)
            }
            HeaderError::Pax(why) => write!(f, "malformed PAX record: {why}"),
        }
    }
}

pub struct Header {
    pub name: String,
    pub link: Option<String>,
    pub kind: EntryKind,
    pub size: u64,
}

pub fn parse(b: &[u8; 512]) -> Result<Header, HeaderError> {
    verify_checksum(b)?;
    let size = number(&b[124..136]).ok_or(HeaderError::Number("size"))?;
    let kind = match b[156] {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::Hardlink,
        b'2' => EntryKind::Symlink,
        b'3' | b'4' | b'6' => EntryKind::Device,
        b'5' => EntryKind::Dir,
        b'L' => EntryKind::GnuLongName,
        b'K' => EntryKind::GnuLongLink,
        b'x' => EntryKind::Pax,
        b'g' => EntryKind::PaxGlobal,
        other => EntryKind::Other(other),
    };
    let mut name = field(&b[0..100]);
    // The POSIX prefix field; GNU headers use those bytes for other things.
    if &b[257..263] == b"ustar\0" {
        let prefix = field(&b[345..500]);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    let link = field(&b[157..257]);
    let link = (!link.is_empty()).then_some(link);
    Ok(Header { name, link, kind, size })
}

fn verify_checksum(b: &[u8; 512]) -> Result<(), HeaderError> {
    let stored = number(&b[148..156]).ok_or(HeaderError::Checksum)?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &c) in b.iter().enumerate() {
        let c = if (148..156).contains(&i) { b' ' } else { c };
        unsigned += c as u64;
        signed += c as i8 as i64;
    }
    // Some old tars summed signed chars; both are accepted, as GNU tar and Go do.
    if stored == unsigned || stored as i64 == signed { Ok(()) } else { Err(HeaderError::Checksum) }
}

fn field(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Octal (NUL/space padded) or GNU base-256 (high bit set).
fn number(b: &[u8]) -> Option<u64> {
    if b[0] & 0x80 != 0 {
        if b[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut v: u64 = (b[0] & 0x3f) as u64;
        for &c in &b[1..] {
            v = v.checked_mul(256)?.checked_add(c as u64)?;
        }
        return Some(v);
    }
    let s: Vec<u8> = b.iter().copied().filter(|&c| c != 0 && c != b' ').collect();
    if s.is_empty() {
        return Some(0);
    }
    let mut v: u64 = 0;
    for c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

#[derive(Default)]
pub struct PaxRecords {
    pub path: Option<String>,
    pub linkpath: Option<String>,
    pub size: Option<u64>,
}

/// Parses `"<len> <key>=<value>\n"` records.
pub fn parse_pax(mut b: &[u8]) -> Result<PaxRecords, HeaderError> {
    let mut out = PaxRecords::default();
    while !b.is_empty() {
        if b.iter().all(|&c| c == 0) {
            break;
        }
        let sp = b.iter().position(|&c| c == b' ').ok_or(HeaderError::Pax("no length"))?;
        let len: usize =
            std::str::from_utf8(&b[..sp]).ok().and_then(|s| s.parse().ok()).ok_or(HeaderError::Pax("bad length"))?;
        if len <= sp + 1 || len > b.len() || b[len - 1] != b'\n' {
            return Err(HeaderError::Pax("length out of range"));
        }
        let rec = &b[sp + 1..len - 1];
        let eq = rec.iter().position(|&c| c == b'=').ok_or(HeaderError::Pax("no '='"))?;
        let (key, value) = (&rec[..eq], &rec[eq + 1..]);
        let value_s = || String::from_utf8_lossy(value).into_owned();
        match key {
            b"path" => out.path = Some(value_s()),
            b"linkpath" => out.linkpath = Some(value_s()),
            b"size" => out.size = Some(value_s().parse().map_err(|_| HeaderError::Pax("bad size"))?),
            _ => {}
        }
        b = &b[len..];
    }
    Ok(out)
}
