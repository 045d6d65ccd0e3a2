//! An entry's metadata (mode, owner, mtime, device numbers, extended attributes), read as
//! Go's `archive/tar` reads them: from the header's numeric fields, then the PAX records of the
//! `x` header that applies to the entry (`mergePAX`). Only `airlock export` needs them; the
//! reader keeps the raw header block and PAX payload and parses them on request, so verify's
//! walk over millions of entries pays nothing for it.
//!
//! Go's rules (src/archive/tar/reader.go, format.go, strconv.go):
//! - mode, uid, gid, mtime: `parseNumeric` of the header field (base-256 or octal); PAX `uid`,
//!   `gid` (decimal) and `mtime` (`[-]secs[.frac]`, `parsePAXTime`) replace them, an empty PAX
//!   value keeps the header's.
//! - devmajor/devminor: parsed for USTAR, PAX, STAR and GNU headers, 0 for V7.
//! - extended attributes: every PAX record `SCHILY.xattr.NAME=VALUE` becomes `Xattrs[NAME]`
//!   (an empty value is skipped, as for every PAX key; the last record of a name wins). That
//!   map is what moby's and containerd's extractors set with `lsetxattr`.

use super::header;

/// Seconds and nanoseconds since the epoch; nanoseconds are in `0..1e9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Mtime {
    pub secs: i64,
    pub nanos: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// The whole mode field, as Go's `Header.Mode` (extractors keep `& 0o7777`).
    pub mode: i64,
    pub uid: i64,
    pub gid: i64,
    pub mtime: Mtime,
    pub devmajor: i64,
    pub devminor: i64,
    /// `SCHILY.xattr.*` records: name (without the prefix) and value, sorted by name.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

/// The metadata of the entry whose final header is `block`, with the payload of the PAX `x`
/// header that preceded it (empty if none). Both were checked by the reader already (the
/// header's checksum and numbers, the PAX records' syntax), so nothing here fails: a field
/// the reader accepted parses.
pub fn parse(block: &[u8; 512], pax: &[u8]) -> Meta {
    let num = |r: std::ops::Range<usize>| header::numeric(&block[r]).unwrap_or(0);
    let v7 = !(&block[257..263] == b"ustar\0" || (&block[257..263] == b"ustar " && &block[263..265] == b" \0"));
    let mut m = Meta {
        mode: num(100..108),
        uid: num(108..116),
        gid: num(116..124),
        mtime: Mtime { secs: num(136..148), nanos: 0 },
        devmajor: if v7 { 0 } else { num(329..337) },
        devminor: if v7 { 0 } else { num(337..345) },
        xattrs: Vec::new(),
    };
    let mut xattrs = std::collections::BTreeMap::new();
    for (key, value) in records(pax) {
        if value.is_empty() {
            continue;
        }
        let int = || std::str::from_utf8(value).ok().and_then(|s| s.parse::<i64>().ok());
        match key {
            b"uid" => m.uid = int().unwrap_or(m.uid),
            b"gid" => m.gid = int().unwrap_or(m.gid),
            b"mtime" => m.mtime = pax_time(value).unwrap_or(m.mtime),
            _ => {
                if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
                    xattrs.insert(name.to_vec(), value.to_vec());
                }
            }
        }
    }
    m.xattrs = xattrs.into_iter().collect();
    m
}

/// The raw bytes of a name as the reader gives it (`header::name_string`, which is lossless):
/// valid UTF-8 as it is; a name that starts with U+FFFD is the escaped form, `\\` for a
/// backslash and `\xNN` for a byte that is not UTF-8.
pub fn name_bytes(s: &str) -> Vec<u8> {
    let Some(escaped) = s.strip_prefix('\u{FFFD}') else {
        return s.as_bytes().to_vec();
    };
    let b = escaped.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|&c| (c as char).to_digit(16));
        match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) if hex(i + 2).is_some() && hex(i + 3).is_some() => {
                out.push((hex(i + 2).unwrap_or(0) * 16 + hex(i + 3).unwrap_or(0)) as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `"<len> <key>=<value>\n"` records; stops at the first malformed one (the reader refused
/// payloads with any).
fn records(mut b: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let sp = b.iter().position(|&c| c == b' ')?;
        let len: usize = std::str::from_utf8(&b[..sp]).ok()?.parse().ok()?;
        if len <= sp + 1 || len > b.len() {
            return None;
        }
        let rec = &b[sp + 1..len - 1];
        b = &b[len..];
        let eq = rec.iter().position(|&c| c == b'=')?;
        Some((&rec[..eq], &rec[eq + 1..]))
    })
}

/// Go's `parsePAXTime`: `[-]secs[.frac]`, the fraction cut to nanoseconds.
fn pax_time(v: &[u8]) -> Option<Mtime> {
    let (neg, v) = match v.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, v.strip_prefix(b"+").unwrap_or(v)),
    };
    let (secs, frac) = match v.iter().position(|&c| c == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &b""[..]),
    };
    let secs: i64 = std::str::from_utf8(secs).ok()?.parse().ok()?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos: u32 = 0;
    for i in 0..9 {
        nanos = nanos * 10 + frac.get(i).map_or(0, |d| (d - b'0') as u32);
    }
    Some(match (neg, nanos) {
        (false, _) => Mtime { secs, nanos },
        (true, 0) => Mtime { secs: -secs, nanos: 0 },
        (true, n) => Mtime { secs: -secs - 1, nanos: 1_000_000_000 - n },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ustar(mode: u32, uid: u64, gid: u64, mtime: u64) -> [u8; 512] {
        let mut h = tar::Header::new_ustar();
        h.set_path("f").unwrap();
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(mtime);
        h.set_device_major(8).unwrap();
        h.set_device_minor(1).unwrap();
        h.set_cksum();
        *h.as_bytes()
    }

    fn record(k: &str, v: &str) -> Vec<u8> {
        let body = format!(" {k}={v}\n");
        let mut n = body.len() + 1;
        while format!("{n}{body}").len() != n {
            n += 1;
        }
        format!("{n}{body}").into_bytes()
    }

    #[test]
    fn header_fields() {
        let m = parse(&ustar(0o4755, 1000, 50, 1_700_000_000), b"");
        assert_eq!(m.mode, 0o4755);
        assert_eq!((m.uid, m.gid), (1000, 50));
        assert_eq!(m.mtime, Mtime { secs: 1_700_000_000, nanos: 0 });
        assert_eq!((m.devmajor, m.devminor), (8, 1));
        assert!(m.xattrs.is_empty());
    }

    #[test]
    fn v7_headers_have_no_device_numbers() {
        let mut b = ustar(0o644, 0, 0, 0);
        b[257..265].fill(0);
        // The checksum is not checked here (the reader did): only the fields matter.
        assert_eq!((parse(&b, b"").devmajor, parse(&b, b"").devminor), (0, 0));
    }

    #[test]
    fn pax_records_replace_the_header_and_carry_xattrs() {
        let pax: Vec<u8> = [
            ("uid", "70000000"),
            ("gid", "123"),
            ("mtime", "1700000000.123456789"),
            ("SCHILY.xattr.user.a", "1"),
            ("SCHILY.xattr.user.a", "2"),
            ("SCHILY.xattr.user.b", ""),
            ("SCHILY.xattr.user.c", "z"),
        ]
        .iter()
        .flat_map(|(k, v)| record(k, v))
        .collect();
        let m = parse(&ustar(0o644, 1, 2, 3), &pax);
        assert_eq!((m.uid, m.gid), (70_000_000, 123));
        assert_eq!(m.mtime, Mtime { secs: 1_700_000_000, nanos: 123_456_789 });
        assert_eq!(m.xattrs, vec![(b"user.a".to_vec(), b"2".to_vec()), (b"user.c".to_vec(), b"z".to_vec())]);
    }

    #[test]
    fn names_round_trip_to_their_bytes() {
        for raw in [&b"etc/motd"[..], b"a\xff\\b", b"\xef\xbf\xbdstarts-with-the-mark", b"caf\xc3\xa9", b"x\\xff"] {
            assert_eq!(name_bytes(&header::name_string(raw)), raw, "{raw:?}");
        }
    }

    #[test]
    fn pax_times() {
        assert_eq!(pax_time(b"5"), Some(Mtime { secs: 5, nanos: 0 }));
        assert_eq!(pax_time(b"5.5"), Some(Mtime { secs: 5, nanos: 500_000_000 }));
        assert_eq!(pax_time(b"1.1234567899"), Some(Mtime { secs: 1, nanos: 123_456_789 }));
        assert_eq!(pax_time(b"-1.25"), Some(Mtime { secs: -2, nanos: 750_000_000 }));
        assert_eq!(pax_time(b"x"), None);
    }

    #[test]
    fn the_reader_keeps_the_pax_header_of_each_entry() {
        let mut b = tar::Builder::new(Vec::new());
        b.append_pax_extensions([("SCHILY.xattr.security.capability", b"\x01\x00".as_slice())]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("a").unwrap();
        h.set_mode(0o755);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b""[..]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("b").unwrap();
        h.set_mode(0o600);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b""[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let mut r = super::super::TarReader::new(super::super::Stream(&bytes[..]));
        r.next_entry().unwrap().unwrap();
        let a = r.meta();
        assert_eq!(a.mode, 0o755);
        assert_eq!(a.xattrs, vec![(b"security.capability".to_vec(), b"\x01\x00".to_vec())]);
        r.next_entry().unwrap().unwrap();
        let b = r.meta();
        assert_eq!(b.mode, 0o600);
        assert!(b.xattrs.is_empty(), "a PAX header applies to one entry only");
    }
}
