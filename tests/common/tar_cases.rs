//! Layer tars that Go's archive/tar reads differently from a naive reader, shared by
//! tests/differential_tar.rs (what airlock reports) and tests/interop.rs (what docker does).

use super::{padded, pax, raw_header};

pub const ZERO: [u8; 512] = [0; 512];

pub fn end() -> Vec<u8> {
    [ZERO, ZERO].concat()
}

pub fn file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut v = raw_header(name.as_bytes(), b'0', data.len() as u64, false, |_| {}).to_vec();
    v.extend(padded(data));
    v
}

/// A GNU long-name header carrying `name`.
pub fn gnu_long_name(name: &str) -> Vec<u8> {
    let payload = [name.as_bytes(), b"\0"].concat();
    let mut v = raw_header(b"././@LongLink", b'L', payload.len() as u64, true, |_| {}).to_vec();
    v.extend(padded(&payload));
    v
}

/// What docker 20.10 does with a layer: refuse the load, or extract these regular files
/// (paths inside the layer root; docker applies layers in a chroot, so a `..` path is
/// clamped at the root rather than refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    Refuses,
    Extracts(&'static [&'static str]),
}

/// A layer case: name, bytes, whether airlock verifies it, and what Go (docker) does.
pub struct Case {
    pub name: &'static str,
    pub layer: Vec<u8>,
    pub airlock_ok: bool,
    pub go: Go,
}

/// The layer cases shared with tests/interop.rs.
pub fn cases() -> Vec<Case> {
    let evil = "../../../../etc/cron.d/airlock";
    vec![
        // Go uses the GNU long name over the PAX path.
        Case {
            name: "gnu-name-escapes",
            layer: [pax(&[("path", b"safe.txt")]), gnu_long_name(evil), file("short", b"hello"), end()].concat(),
            airlock_ok: false,
            go: Go::Extracts(&["etc/cron.d/airlock"]),
        },
        Case {
            name: "pax-path-escapes",
            layer: [pax(&[("path", evil.as_bytes())]), gnu_long_name("safe.txt"), file("short", b"hello"), end()]
                .concat(),
            airlock_ok: true,
            go: Go::Extracts(&["safe.txt"]),
        },
        // A '\0' type flag with a trailing slash is a directory with no data in Go: the
        // "data" is read as the next headers.
        Case {
            name: "nul-type-directory-hides-headers",
            layer: {
                let hidden = [
                    raw_header(evil.as_bytes(), b'0', 0, false, |_| {}),
                    raw_header(b"ok.txt", b'0', 0, false, |_| {}),
                ]
                .concat();
                let dir = raw_header(b"d/", 0, hidden.len() as u64, false, |_| {});
                [dir.to_vec(), hidden, end()].concat()
            },
            airlock_ok: false,
            go: Go::Extracts(&["etc/cron.d/airlock", "ok.txt"]),
        },
        // One zero block, then more: Go's reader fails (ErrHeader).
        Case {
            name: "single-zero-block-then-data",
            layer: [file("a.txt", b"a"), ZERO.to_vec(), file("b.txt", b"b"), end()].concat(),
            airlock_ok: false,
            go: Go::Refuses,
        },
        // An old GNU sparse entry ('S', with an extension block): read correctly, but no
        // extractor unpacks it ("unhandled tar header type 83").
        Case {
            name: "old-gnu-sparse-entry",
            layer: {
                let h = raw_header(b"sparse.bin", b'S', 5, true, |b| {
                    b[386..397].copy_from_slice(b"00000000000"); // offset 0
                    b[398..409].copy_from_slice(b"00000000005"); // 5 bytes
                    b[482] = 1; // an extension block follows
                    b[483..494].copy_from_slice(b"00000000005"); // real size
                });
                [h.to_vec(), ZERO.to_vec(), padded(b"hello"), file("after.txt", b"x"), end()].concat()
            },
            airlock_ok: false,
            go: Go::Refuses,
        },
        // A PAX-format (1.0) sparse file is named by GNU.sparse.name in Go; its data starts
        // with the sparse map.
        Case {
            name: "gnu-sparse-name-escapes",
            layer: {
                let mut data = padded(b"1\n0\n5\n");
                data.extend_from_slice(b"hello");
                let records = pax(&[
                    ("GNU.sparse.major", b"1"),
                    ("GNU.sparse.minor", b"0"),
                    ("GNU.sparse.name", evil.as_bytes()),
                    ("GNU.sparse.realsize", b"5"),
                ]);
                let h = raw_header(b"GNUSparseFile.0/plain.txt", b'0', data.len() as u64, false, |_| {});
                [records, h.to_vec(), padded(&data), end()].concat()
            },
            airlock_ok: false,
            go: Go::Extracts(&["etc/cron.d/airlock"]),
        },
    ]
}
