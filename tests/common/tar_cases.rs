//! Layer tars that Go's archive/tar reads differently from a naive reader, shared by
//! tests/differential_tar.rs (what airlock reports) and tests/interop.rs (what docker does).

use super::{find, fixture, json_of, padded, pax, raw_header, read_tar, regular, sha256_hex, write_tar};
use std::path::{Path, PathBuf};

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
    /// The error codes airlock reports for it (none: it verifies).
    pub airlock_errors: &'static [&'static str],
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
            airlock_errors: &["unsafe-layer-entry"],
            go: Go::Extracts(&["etc/cron.d/airlock"]),
        },
        Case {
            name: "pax-path-escapes",
            layer: [pax(&[("path", evil.as_bytes())]), gnu_long_name("safe.txt"), file("short", b"hello"), end()]
                .concat(),
            airlock_errors: &[],
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
            airlock_errors: &["unsafe-layer-entry"],
            go: Go::Extracts(&["etc/cron.d/airlock", "ok.txt"]),
        },
        // One zero block, then more: Go's reader fails (ErrHeader).
        Case {
            name: "single-zero-block-then-data",
            layer: [file("a.txt", b"a"), ZERO.to_vec(), file("b.txt", b"b"), end()].concat(),
            airlock_errors: &["layer-corrupt"],
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
            airlock_errors: &["unpackable-layer-entry"],
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
            airlock_errors: &["unsafe-layer-entry"],
            go: Go::Extracts(&["etc/cron.d/airlock"]),
        },
        // An empty GNU long name (issue 14, HIGH-1): Go keeps the header's own name, so
        // the entry is extracted; a reader that takes the empty name drops it unchecked.
        Case {
            name: "empty-gnu-long-name",
            layer: [gnu_long_name(""), file(evil, b"x"), file("ok.txt", b"ok"), end()].concat(),
            airlock_errors: &["unsafe-layer-entry"],
            go: Go::Extracts(&["etc/cron.d/airlock", "ok.txt"]),
        },
    ]
}

/// The legacy docker-save fixture with a second `manifest.json` after the first, behind a
/// GNU long-name header whose name is empty (issue 14, HIGH-1). Go (docker load, ctr
/// import) reads the second under its own header name, and the later member wins; it names
/// an evil config (the good one with a label added), tagged as the good image is.
pub struct HiddenManifest {
    pub archive: PathBuf,
    pub tag: String,
    /// The image ID (config digest) of the image each manifest.json names.
    pub good_id: String,
    pub evil_id: String,
}

/// Writes the archive into `dir`. `payload` is the long-name header's data: `b""` (size
/// 0) or `b"\0"` (an empty NUL-terminated name).
pub fn hidden_manifest(dir: &Path, payload: &[u8]) -> HiddenManifest {
    let tag = "airlock/hidden:1".to_string();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(find(&mut ms, "manifest.json"));
    let good = man[0]["Config"].as_str().unwrap().to_string();
    let mut cfg = json_of(find(&mut ms, &good));
    cfg["config"]["Labels"] = serde_json::json!({"evil": "yes"});
    let evil_bytes = serde_json::to_vec(&cfg).unwrap();
    let evil = format!("{}.json", sha256_hex(&evil_bytes));
    ms.push(regular(&evil, evil_bytes.clone()));
    let layers = &man[0]["Layers"];
    let manifest = |config: &str| {
        serde_json::to_vec(&serde_json::json!([{"Config": config, "RepoTags": [&tag], "Layers": layers}])).unwrap()
    };
    find(&mut ms, "manifest.json").data = manifest(&good);
    let archive = dir.join("hidden-manifest.tar");
    write_tar(&archive, &ms);
    let mut bytes = std::fs::read(&archive).unwrap();
    // Drop the end-of-archive blocks, then append the hidden member and a new end.
    while bytes.len() >= 512 && bytes[bytes.len() - 512..].iter().all(|&b| b == 0) {
        bytes.truncate(bytes.len() - 512);
    }
    let evil_manifest = manifest(&evil);
    let mut long = raw_header(b"././@LongLink", b'L', payload.len() as u64, true, |_| {}).to_vec();
    long.extend(padded(payload));
    let mut hidden = raw_header(b"manifest.json", b'0', evil_manifest.len() as u64, false, |_| {}).to_vec();
    hidden.extend(padded(&evil_manifest));
    bytes.extend([long, hidden, end()].concat());
    std::fs::write(&archive, bytes).unwrap();
    HiddenManifest {
        archive,
        tag,
        good_id: format!("sha256:{}", good.trim_end_matches(".json")),
        evil_id: format!("sha256:{}", sha256_hex(&evil_bytes)),
    }
}

/// The gzip-wrapped legacy fixture, damaged after the tar's end in the ways docker meets:
/// trailing zeros, trailing bytes, a bad CRC-32, a bad size, a cut trailer.
pub fn gzip_trailer_cases() -> Vec<(&'static str, Vec<u8>)> {
    let good = std::fs::read(fixture("docker-save-legacy.tar.gz")).unwrap();
    let n = good.len();
    let flip = |at: usize| {
        let mut b = good.clone();
        b[at] ^= 0xff;
        b
    };
    vec![
        ("trailing-zeros", [good.clone(), vec![0u8; 1024]].concat()),
        ("trailing-bytes", [good.clone(), b"trailing junk bytes here".to_vec()].concat()),
        ("bad-crc", flip(n - 8)),
        ("bad-size", flip(n - 1)),
        ("cut-trailer", good[..n - 8].to_vec()),
    ]
}
