//! Go as the oracle: a seeded, bounded differential fuzz of airlock's readers against Go's
//! standard library (tests/go-oracle, built once per run into target/). docker, containerd,
//! podman and skopeo read tar, gzip and JSON with archive/tar, compress/gzip and
//! encoding/json, so "airlock reads what Go reads, or refuses" is the security property.
//!
//! Cases are mutations of the real fixtures: tar headers (fields, type flags, PAX and GNU
//! records, zero blocks, sizes, truncation), gzip framing (header flags, names, header
//! CRC, trailers, trailing bytes, members) and JSON documents (duplicate keys, case
//! variants, Unicode folds, numbers, nesting). For each case:
//! - tar: airlock refuses, or it yields exactly Go's entries (names, link names, type
//!   flags, data length and sha256; a sparse file's expanded size and readability) and ends
//!   where Go ends; and where Go fails, airlock refuses. airlock refusing what Go reads is
//!   allowed only past airlock's own bounds (1 MiB of metadata).
//! - gzip: what airlock yields is a prefix of what Go yields or the same; where Go fails,
//!   airlock fails no later; where airlock reads cleanly, Go reads the same cleanly.
//! - JSON: airlock refuses, or reads the fields it uses as Go decodes them.
//!
//! `AIRLOCK_FUZZ_SEED` picks the seed (printed; the default is fixed, so CI runs the same
//! cases), `AIRLOCK_FUZZ_SCALE` multiplies the number of cases. `AIRLOCK_GO` picks the Go
//! toolchain (default: `go` on PATH, Debian's golang-go).

mod common;
use common::{fixture, root};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use airlock::testing::{self, End, Json, TarData};

const DEFAULT_SEED: u64 = 0x00a1_7c0c_5eed_0014;
const TAR_CASES: usize = 2400;
const GZIP_CASES: usize = 1200;
const JSON_CASES: usize = 1600;

// ------------------------------------------------------------------------------------------
// The oracle
// ------------------------------------------------------------------------------------------

/// Builds tests/go-oracle into target/ (once per run). `None` (the test is skipped) when
/// there is no Go toolchain and the run does not require the oracle.
fn oracle() -> Option<PathBuf> {
    let go = std::env::var("AIRLOCK_GO").unwrap_or_else(|_| "go".into());
    let required = ["AIRLOCK_REQUIRE_INTEROP", "AIRLOCK_REQUIRE_ORACLE"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty() && s != "0"));
    let version = Command::new(&go).arg("version").output().ok().filter(|o| o.status.success());
    let Some(version) = version else {
        assert!(!required, "no Go toolchain ({go}): install golang-go (scripts/go-oracle.sh)");
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED differential_fuzz: no Go toolchain ({go}); scripts/go-oracle.sh installs it"
        );
        return None;
    };
    let target = root().join("target");
    let out = target.join("go-oracle");
    let tmp = target.join(format!("go-oracle.{}", std::process::id()));
    let st = Command::new(&go)
        .args(["build", "-trimpath", "-o"])
        .arg(&tmp)
        .arg(root().join("tests/go-oracle/main.go"))
        .env("GOCACHE", target.join("go-cache"))
        .env("GOPATH", target.join("go-path"))
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "0")
        .status()
        .expect("run go build");
    assert!(st.success(), "go build of tests/go-oracle failed");
    std::fs::rename(&tmp, &out).unwrap();
    let _ = writeln!(std::io::stderr(), "oracle: {}", String::from_utf8_lossy(&version.stdout).trim());
    Some(out)
}

/// Runs the oracle on a batch of (mode, bytes) cases; one JSON result per case.
fn ask(oracle: &PathBuf, cases: &[(u8, Vec<u8>)]) -> Vec<Value> {
    let mut child =
        Command::new(oracle).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("start the Go oracle");
    let mut input = Vec::new();
    for (mode, b) in cases {
        input.push(*mode);
        input.extend_from_slice(&(b.len() as u32).to_le_bytes());
        input.extend_from_slice(b);
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "the Go oracle failed");
    let lines: Vec<Value> = out
        .stdout
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len(), "one oracle answer per case");
    lines
}

// ------------------------------------------------------------------------------------------
// Randomness (xorshift: reproducible from the seed, no crate)
// ------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    match std::env::var("AIRLOCK_FUZZ_SEED") {
        Ok(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("AIRLOCK_FUZZ_SEED is hex"),
        Err(_) => DEFAULT_SEED,
    }
}

fn scale(n: usize) -> usize {
    n * std::env::var("AIRLOCK_FUZZ_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1usize)
}

// ------------------------------------------------------------------------------------------
// Tar
// ------------------------------------------------------------------------------------------

fn octal(n: u64, width: usize) -> Vec<u8> {
    let mut v = format!("{n:0w$o}", w = width - 1).into_bytes();
    v.push(0);
    v
}

fn set_checksum(b: &mut [u8]) {
    b[148..156].fill(b' ');
    let sum: u32 = b[..512].iter().map(|&c| c as u32).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A header block: name, type flag, size; USTAR or GNU magic.
fn header(name: &[u8], typeflag: u8, size: u64, gnu: bool) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    let n = name.len().min(100);
    b[..n].copy_from_slice(&name[..n]);
    b[100..108].copy_from_slice(b"0000644\0");
    b[108..116].copy_from_slice(b"0000000\0");
    b[116..124].copy_from_slice(b"0000000\0");
    b[124..136].copy_from_slice(&octal(size, 12));
    b[136..148].copy_from_slice(b"00000000000\0");
    b[156] = typeflag;
    b[257..265].copy_from_slice(if gnu { b"ustar  \0" } else { b"ustar\x0000" });
    set_checksum(&mut b);
    b
}

fn padded(d: &[u8]) -> Vec<u8> {
    let mut v = d.to_vec();
    v.resize(d.len().div_ceil(512) * 512, 0);
    v
}

fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = [b" ", key, b"=", value, b"\n"].concat();
    let mut n = body.len() + 1;
    while n.to_string().len() + body.len() != n {
        n += 1;
    }
    [n.to_string().as_bytes(), &body].concat()
}

/// Header block offsets, walked as a naive reader would (size field in octal).
fn header_offsets(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= b.len() && out.len() < 4096 {
        let h = &b[at..at + 512];
        if h.iter().all(|&c| c == 0) {
            break;
        }
        out.push(at);
        let size = std::str::from_utf8(&h[124..135])
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim_matches(['\0', ' ']), 8).ok());
        let data = match h[156] {
            b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => 0,
            _ => size.unwrap_or(0) as usize,
        };
        at += 512 + data.div_ceil(512) * 512;
    }
    out
}

const NAMES: &[&[u8]] = &[
    b"",
    b"manifest.json",
    b"./manifest.json",
    b"../../etc/x",
    b"/abs",
    b"d/",
    b"a\xffb",
    b"\xef\xbf\xbdx",
    b"dir//file",
    b"GNUSparseFile.0/x",
    b"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
];
const ENDS: &[&[u8]] = &[b"", b"\0"];
const MAGICS: &[&[u8]] = &[b"ustar\x0000", b"ustar  \0", b"\0\0\0\0\0\0\0\0", b"ustar\0 \0"];
const TYPEFLAGS: &[u8] = b"\x000123456789LKxgSVDMNA\xff";
const NUMBERS: &[&[u8]] = &[
    b"00000000000\0",
    b"0000\x000001\0\0\0",
    b"   17 \0\0\0\0\0\0",
    b"\0\0\0\0\0\0\0\0\0\0\0\0",
    b"7777777777 \0",
    b"00000001000 ",
    b"0000000008\0\0",
    b"+0000000010\0",
    b"\x80\0\0\0\0\0\0\0\0\0\x02\0",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x80\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"77777777777\0",
];
const PAX_KEYS: &[&[u8]] = &[
    b"path",
    b"linkpath",
    b"size",
    b"mtime",
    b"uid",
    b"gname",
    b"comment",
    b"GNU.sparse.major",
    b"GNU.sparse.minor",
    b"GNU.sparse.name",
    b"GNU.sparse.realsize",
    b"GNU.sparse.size",
    b"GNU.sparse.numblocks",
    b"GNU.sparse.map",
    b"GNU.sparse.offset",
    b"GNU.sparse.numbytes",
    b"SCHILY.xattr.a",
    b"a\0b",
    b"",
];
const PAX_VALUES: &[&[u8]] = &[
    b"",
    b"manifest.json",
    b"../evil",
    b"0",
    b"1",
    b"5",
    b"-1",
    b"+3",
    b"99999999999999999999",
    b"1.5",
    b"1.x",
    b"-5.",
    b"0,1",
    b"0,2,8,2",
    b"a\0b",
    b"\xff",
];

fn pax_payload(rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let (k, v) = (rng.pick(PAX_KEYS), rng.pick(PAX_VALUES));
        let mut r = pax_record(k, v);
        if rng.chance(8) {
            // A wrong length, or a missing newline.
            let i = rng.below(r.len());
            r[i] = *rng.pick(b"9 \n=0");
        }
        p.extend(r);
    }
    p
}

/// A metadata header (L, K, x, g) with its payload.
fn meta(rng: &mut Rng) -> Vec<u8> {
    let (t, payload) = match rng.below(4) {
        0 => (b'L', [*rng.pick(NAMES), *rng.pick(ENDS)].concat()),
        1 => (b'K', [*rng.pick(NAMES), *rng.pick(ENDS)].concat()),
        2 => (b'x', pax_payload(rng)),
        _ => (b'g', pax_payload(rng)),
    };
    [header(b"././@LongLink", t, payload.len() as u64, t == b'L' || t == b'K'), padded(&payload)].concat()
}

fn mutate_tar(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = base.to_vec();
    let offsets = header_offsets(&b);
    for _ in 0..1 + rng.below(3) {
        let at = if offsets.is_empty() { 0 } else { *rng.pick(&offsets) };
        if at + 512 > b.len() {
            continue;
        }
        let fix = rng.chance(92);
        match rng.below(11) {
            0 => {
                let n = rng.pick(NAMES);
                b[at..at + 100].fill(0);
                b[at..at + n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
            }
            1 => b[at + 156] = *rng.pick(TYPEFLAGS),
            2 => {
                let field = *rng.pick(&[100usize, 108, 116, 124, 136, 329, 337]);
                let width = if field == 124 || field == 136 { 12 } else { 8 };
                let v = rng.pick(NUMBERS);
                b[at + field..at + field + width].copy_from_slice(&v[v.len() - width..]);
            }
            3 => {
                let m = *rng.pick(MAGICS);
                b[at + 257..at + 265].copy_from_slice(m);
                if rng.chance(30) {
                    b[at + 508..at + 512].copy_from_slice(b"tar\0");
                }
            }
            4 => {
                let p = rng.pick(NAMES);
                b[at + 345..at + 345 + p.len()].copy_from_slice(p);
            }
            5 => {
                let l = rng.pick(NAMES);
                b[at + 157..at + 257].fill(0);
                b[at + 157..at + 157 + l.len().min(100)].copy_from_slice(&l[..l.len().min(100)]);
            }
            6 => {
                let m = meta(rng);
                b.splice(at..at, m);
                continue;
            }
            7 => {
                let z = vec![0u8; 512 * (1 + rng.below(2))];
                b.splice(at..at, z);
                continue;
            }
            8 => {
                let cut = at + rng.below(b.len() - at);
                b.truncate(cut);
                continue;
            }
            9 => {
                let i = at + rng.below(512);
                b[i] = rng.next() as u8;
            }
            _ => {
                // GNU sparse: old-format map entries, or an extension flag.
                b[at + 156] = b'S';
                b[at + 257..at + 265].copy_from_slice(b"ustar  \0");
                let e = at + 386 + 24 * rng.below(4);
                for range in [e..e + 12, e + 12..e + 24, at + 483..at + 495] {
                    let n = NUMBERS[rng.below(NUMBERS.len())];
                    b[range].copy_from_slice(n);
                }
                b[at + 482] = rng.below(2) as u8;
            }
        }
        if fix {
            set_checksum(&mut b[at..at + 512]);
        }
    }
    b
}

/// Small tars with PAX, GNU and sparse records, beside the real fixtures.
fn synthetic_tars() -> Vec<Vec<u8>> {
    let file = |n: &[u8], d: &[u8]| [header(n, b'0', d.len() as u64, false), padded(d)].concat();
    let end = vec![0u8; 1024];
    let sparse_1x0 = {
        let records = [
            pax_record(b"GNU.sparse.major", b"1"),
            pax_record(b"GNU.sparse.minor", b"0"),
            pax_record(b"GNU.sparse.name", b"real"),
            pax_record(b"GNU.sparse.realsize", b"10"),
        ]
        .concat();
        let data = [padded(b"1\n2\n5\n"), b"hello".to_vec()].concat();
        [header(b"x", b'x', records.len() as u64, false), padded(&records), file(b"GNUSparseFile/x", &data)].concat()
    };
    let long = |t: u8, p: &[u8]| [header(b"././@LongLink", t, p.len() as u64, true), padded(p)].concat();
    vec![
        [file(b"a.txt", b"hello"), file(b"manifest.json", b"[]"), end.clone()].concat(),
        [long(b'L', b""), file(b"manifest.json", b"[1]"), file(b"b", b"x"), end.clone()].concat(),
        [long(b'L', b"long/name\0"), long(b'K', b"target\0"), header(b"l", b'2', 0, true), end.clone()].concat(),
        [sparse_1x0, file(b"after", b"a"), end.clone()].concat(),
        [file(b"a", b"abc"), b"trailing after no end".to_vec()].concat(),
    ]
}

/// airlock's reading vs Go's, for one tar case. `Err` describes a divergence.
fn compare_tar(bytes: &[u8], go: &Value) -> Result<&'static str, String> {
    let ours = testing::read_tar(bytes);
    let go_err = go["err"].as_str().unwrap();
    // Go returns a global PAX header as an entry; extractors skip it, airlock never yields it.
    let go_entries: Vec<&Value> =
        go["entries"].as_array().unwrap().iter().filter(|e| e["type"] != 'g' as u32).collect();
    match &ours.end {
        End::Refused { bound, why } => {
            // Where airlock stops, Go's entry may be one whose data the oracle did not read
            // whole (a sparse file of gigabytes of holes): whether Go's read fails is unknown.
            let unknown = go_entries
                .get(ours.entries.len())
                .is_some_and(|g| g["data_err"].as_str().unwrap().starts_with("oracle:"));
            if unknown && go_err.is_empty() {
                return Ok("refused; Go's read not completed");
            }
            if go_err.is_empty() && !bound {
                return Err(format!("airlock refuses ({why}) what Go reads: {go}"));
            }
            return Ok(if go_err.is_empty() { "refused past a bound" } else { "both refuse" });
        }
        End::Ok if !go_err.is_empty() => return Err(format!("Go fails ({go_err}); airlock read {:?}", ours.entries)),
        End::Ok => {}
    }
    if go_entries.len() != ours.entries.len() {
        return Err(format!(
            "{} entries in Go, {} in airlock: {:?} / {go}",
            go_entries.len(),
            ours.entries.len(),
            ours.entries
        ));
    }
    for (a, g) in ours.entries.iter().zip(&go_entries) {
        let raw = |k: &str| hex_bytes(g[k].as_str().unwrap());
        let same_header = a.name == testing::name_text(&raw("name"))
            && a.link == testing::name_text(&raw("link"))
            && a.typeflag as u64 == g["type"].as_u64().unwrap();
        // The oracle reads at most 16 MiB of an entry (a sparse file may claim gigabytes).
        let unread = g["data_err"].as_str().unwrap().starts_with("oracle:");
        let same_data = match &a.data {
            TarData::Bytes { len, sha256 } => unread || (g["len"] == *len && g["sha256"] == sha256.as_str()),
            TarData::Sparse { size, readable } => g["size"] == *size && (unread || *readable == (g["data_err"] == "")),
        };
        if !same_header || !same_data {
            return Err(format!("entry differs: airlock {a:?}, Go {g}"));
        }
    }
    Ok("same reading")
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

// ------------------------------------------------------------------------------------------
// gzip
// ------------------------------------------------------------------------------------------

fn gz(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn crc32(b: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(b);
    c.sum()
}

/// A gzip member with the given header fields around `data`'s deflate stream.
fn member(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let plain = gz(data, 6);
    let (deflate, trailer) = (&plain[10..plain.len() - 8], &plain[plain.len() - 8..]);
    let mut flags = (rng.next() as u8) & 0x1e;
    if rng.chance(10) {
        flags |= 0xe0 & rng.next() as u8;
    }
    let mut h = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3];
    if rng.chance(5) {
        h[2] = rng.next() as u8;
    }
    if flags & 4 != 0 {
        let n = *rng.pick(&[0usize, 4, 300]);
        h.extend((n as u16).to_le_bytes());
        h.extend(vec![b'e'; n]);
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            h.extend(vec![b'n'; *rng.pick(&[0usize, 10, 510, 511, 512, 600])]);
            h.push(0);
        }
    }
    if flags & 2 != 0 {
        let c = crc32(&h) as u16 ^ if rng.chance(30) { 1 } else { 0 };
        h.extend(c.to_le_bytes());
    }
    let mut t = trailer.to_vec();
    if rng.chance(10) {
        let i = rng.below(8);
        t[i] ^= 1 << rng.below(8);
    }
    [h, deflate.to_vec(), t].concat()
}

fn gzip_case(payloads: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let p = rng.below(payloads.len());
        out.extend(member(&payloads[p], rng));
    }
    match rng.below(8) {
        0 => out.extend(vec![0u8; rng.below(20)]),
        1 => out.extend(b"junk after the stream"),
        2 => out.extend(&[0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3, b'a'][..1 + rng.below(11)]),
        3 if !out.is_empty() => out.truncate(rng.below(out.len())),
        4 if out.len() > 20 => {
            let i = 10 + rng.below(out.len() - 10);
            out[i] ^= 1 << rng.below(8);
        }
        _ => {}
    }
    out
}

fn compare_gzip(bytes: &[u8], go: &Value) -> Result<&'static str, String> {
    let ours = testing::read_gzip(bytes);
    let (len, sha) = (ours.len, ours.sha256.as_str());
    let (go_len, go_sha, go_err) =
        (go["len"].as_u64().unwrap(), go["sha256"].as_str().unwrap(), go["err"].as_str().unwrap());
    let Some((e, in_data)) = &ours.error else {
        return match go_err {
            "" if len == go_len && sha == go_sha => Ok("same reading"),
            "" => Err(format!("both read cleanly but differ: airlock {len} bytes, Go {go_len}")),
            _ => Err(format!("Go fails ({go_err}) after {go_len} bytes; airlock reads {len} cleanly")),
        };
    };
    // airlock fails: no later than Go does (where the framing is at fault, to the byte;
    // inside damaged deflate data Go's flate and zlib may stop a few bytes apart, and
    // airlock refuses the archive there, whatever the tar holds).
    if !go_err.is_empty() && len > go_len && !in_data {
        return Err(format!("airlock fails ({e}) after {len} bytes, Go ({go_err}) after {go_len}"));
    }
    if go_err.is_empty() && len > go_len {
        return Err(format!("airlock fails ({e}) after {len} bytes, past Go's clean {go_len}"));
    }
    if len == go_len && sha != go_sha {
        return Err("airlock and Go yield other bytes".into());
    }
    Ok(if go_err.is_empty() { "airlock refuses" } else { "both refuse" })
}

// ------------------------------------------------------------------------------------------
// JSON
// ------------------------------------------------------------------------------------------

/// The real documents: (mode, kind, text).
fn json_bases() -> Vec<(u8, Json, String)> {
    let mut out = Vec::new();
    for m in common::read_tar(&fixture("docker-save-legacy.tar")) {
        if m.path == "manifest.json" {
            out.push((b'm', Json::ManifestJson, String::from_utf8(m.data.clone()).unwrap()));
        } else if m.path.ends_with(".json") && m.path.len() == 69 {
            out.push((b'c', Json::Config, String::from_utf8(m.data.clone()).unwrap()));
        }
    }
    let dir = fixture("skopeo-oci-gzip");
    out.push((b'i', Json::Index, std::fs::read_to_string(dir.join("index.json")).unwrap()));
    let (manifest, _) = common::first_manifest(&dir);
    out.push((b'o', Json::Manifest, std::fs::read_to_string(manifest).unwrap()));
    out
}

const KEYS: &[&str] = &[
    "Config",
    "RepoTags",
    "Layers",
    "manifests",
    "layers",
    "config",
    "digest",
    "size",
    "mediaType",
    "platform",
    "annotations",
    "architecture",
    "os",
    "rootfs",
    "diff_ids",
    "history",
    "empty_layer",
    "variant",
    "schemaVersion",
];

/// A case or Unicode-fold variant of `k`: upper, lower, one letter flipped, the Kelvin sign
/// for k, the long s for s, or a JSON escape.
fn variant(k: &str, rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => k.to_uppercase(),
        1 => k.to_lowercase(),
        2 => {
            let i = rng.below(k.len());
            k.char_indices().map(|(j, c)| if j == i { flip_case(c) } else { c.to_string() }).collect()
        }
        3 => k.replacen('k', "\u{212a}", 1).replacen('K', "\u{212a}", 1),
        4 => k.replacen('s', "\u{17f}", 1).replacen('S', "\u{17f}", 1),
        _ => {
            let c = k.chars().next().unwrap();
            format!("\\u{:04x}{}", c as u32, &k[c.len_utf8()..])
        }
    }
}

fn flip_case(c: char) -> String {
    if c.is_uppercase() { c.to_lowercase().to_string() } else { c.to_uppercase().to_string() }
}

const VALUES: &[&str] = &[
    "null",
    "0",
    "-0",
    "1.0",
    "1e2",
    "99999999999999999999",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[\"a\"]",
    "true",
    "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"",
];

fn mutate_json(text: &str, rng: &mut Rng) -> String {
    let mut t = text.to_string();
    for _ in 0..1 + rng.below(2) {
        let key = rng.pick(KEYS);
        let quoted = format!("\"{key}\":");
        let Some(at) = t.find(&quoted) else {
            continue;
        };
        match rng.below(6) {
            // The same key again with another value, or a variant of it.
            0 | 1 => {
                let k = if rng.chance(50) { key.to_string() } else { variant(key, rng) };
                let v = if rng.chance(50) { value_after(&t, at + quoted.len()) } else { rng.pick(VALUES).to_string() };
                let ins = format!("\"{k}\":{v},");
                if rng.chance(50) {
                    t.insert_str(at, &ins);
                } else if let Some(end) = object_end(&t, at) {
                    t.insert_str(end, &format!(",{}", ins.trim_end_matches(',')));
                }
            }
            // Rename the key to a variant.
            2 => t.replace_range(at..at + quoted.len(), &format!("\"{}\":", variant(key, rng))),
            // Replace or nest its value.
            3 | 4 => {
                let start = at + quoted.len();
                let v = value_after(&t, start);
                let new = match rng.below(3) {
                    0 => rng.pick(VALUES).to_string(),
                    1 => format!("[{v}]"),
                    _ => format!("{{\"{}\":{v}}}", rng.pick(KEYS)),
                };
                t.replace_range(start..start + v.len(), &new);
            }
            _ => {
                let tail = *rng.pick(&[" ", "\n", "x", "{}", "\u{feff}"]);
                t.push_str(tail);
            }
        }
    }
    t
}

/// The JSON value that starts at `start` (a string, number, literal, array or object).
fn value_after(t: &str, start: usize) -> String {
    let b = t.as_bytes();
    let (mut depth, mut in_str, mut esc) = (0i32, false, false);
    for (i, &c) in b.iter().enumerate().skip(start) {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => {
                    in_str = false;
                    if depth == 0 {
                        return t[start..=i].to_string();
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => return t[start..i].to_string(),
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return t[start..=i].to_string();
                }
            }
            b',' if depth == 0 => return t[start..i].to_string(),
            _ => {}
        }
    }
    t[start..].to_string()
}

/// Where the object holding the key at `at` closes.
fn object_end(t: &str, at: usize) -> Option<usize> {
    let mut i = at;
    loop {
        let v = value_after(t, t[i..].find(':')? + i + 1);
        i = t[i..].find(':')? + i + 1 + v.len();
        match t.as_bytes().get(i)? {
            b',' => i += 1,
            b'}' => return Some(i),
            _ => return None,
        }
    }
}

/// The annotations airlock keeps, of Go's decoded map (null when none).
fn noted(a: &Value) -> Value {
    let map: serde_json::Map<String, Value> = airlock::testing::NOTED_ANNOTATIONS
        .iter()
        .filter_map(|k| a.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    if map.is_empty() { Value::Null } else { Value::Object(map) }
}

/// Go's decode, projected onto the fields airlock reads (absent ones as airlock's
/// `None`): what testing::read_json returns when it reads.
fn project_go(kind: Json, v: &Value) -> Value {
    let desc = |d: &Value| {
        let opt = |x: &Value| if x.is_null() || x == "" { Value::Null } else { x.clone() };
        let platform = match &d["platform"] {
            Value::Null => Value::Null,
            p => serde_json::json!({"os": p["os"], "architecture": p["architecture"], "variant": opt(&p["variant"])}),
        };
        serde_json::json!({
            "mediaType": opt(&d["mediaType"]), "digest": d["digest"], "size": d["size"],
            "urls": d["urls"], "annotations": noted(&d["annotations"]), "platform": platform,
        })
    };
    let list = |x: &Value| Value::Array(x.as_array().map(|a| a.iter().map(desc).collect()).unwrap_or_default());
    match kind {
        Json::ManifestJson => v.clone(),
        Json::Index => serde_json::json!({"manifests": list(&v["manifests"])}),
        Json::Manifest => serde_json::json!({"config": desc(&v["config"]), "layers": list(&v["layers"])}),
        Json::Config => v.clone(),
    }
}

/// airlock's config reading in the oracle's shape (its strings default to "", as Go's do).
fn project_config(ours: &Value) -> Value {
    let s = |k: &str| if ours[k].is_null() { Value::from("") } else { ours[k].clone() };
    let mut v = serde_json::json!({"architecture": s("architecture"), "os": s("os"), "rootfs": {"type": "layers", "diff_ids": ours["diff_ids"]}});
    if !ours["variant"].is_null() && ours["variant"] != "" {
        v["variant"] = ours["variant"].clone();
    }
    if let Some(h) = ours["history"].as_array().filter(|h| !h.is_empty()) {
        v["history"] = h
            .iter()
            .map(|e| {
                let mut o = serde_json::Map::new();
                for k in ["created_by", "comment"] {
                    if e[k].is_string() && e[k] != "" {
                        o.insert(k.into(), e[k].clone());
                    }
                }
                if e["empty_layer"] == true {
                    o.insert("empty_layer".into(), Value::Bool(true));
                }
                Value::Object(o)
            })
            .collect();
    }
    v
}

fn compare_json(kind: Json, bytes: &[u8], go: &Value) -> Result<&'static str, String> {
    let ours = testing::read_json(kind, bytes);
    let go_err = go["err"].as_str().unwrap();
    match ours {
        Err(_) => Ok(if go_err.is_empty() { "airlock refuses" } else { "both refuse" }),
        Ok(v) if !go_err.is_empty() => Err(format!("Go fails ({go_err}); airlock reads {v}")),
        Ok(v) => {
            let mut go_v = project_go(kind, &go["value"]);
            let ours = if kind == Json::Config {
                // Go's rootfs.type is not checked by airlock beyond "layers"-or-absent.
                go_v["rootfs"]["type"] = "layers".into();
                project_config(&v)
            } else {
                v
            };
            if ours == go_v { Ok("same reading") } else { Err(format!("airlock reads {ours}, Go {go_v}")) }
        }
    }
}

// ------------------------------------------------------------------------------------------
// The run
// ------------------------------------------------------------------------------------------

struct Tally {
    name: &'static str,
    counts: std::collections::BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn new(name: &'static str) -> Self {
        Tally { name, counts: Default::default(), failures: Vec::new() }
    }
    fn add(&mut self, i: usize, bytes: &[u8], r: Result<&'static str, String>) {
        match r {
            Ok(k) => *self.counts.entry(k).or_default() += 1,
            Err(e) => {
                if self.failures.len() < 5 {
                    let path = root().join("target").join(format!("fuzz-{}-{i}.bin", self.name));
                    let _ = std::fs::write(&path, bytes);
                    self.failures.push(format!("{} case {i} ({}): {e}", self.name, path.display()));
                }
                *self.counts.entry("DIVERGES").or_default() += 1;
            }
        }
    }
}

#[test]
fn airlock_reads_what_go_reads_or_refuses() {
    let Some(oracle) = oracle() else { return };
    let seed = seed();
    let started = std::time::Instant::now();
    let mut rng = Rng(seed | 1);
    let mut cases: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut kinds: Vec<Option<Json>> = Vec::new();

    let mut tars: Vec<Vec<u8>> =
        ["docker-save-legacy.tar", "ctr-export.tar", "skopeo-oci-archive.tar", "crane-tarball.tar"]
            .iter()
            .map(|f| std::fs::read(fixture(f)).unwrap())
            .collect();
    tars.extend(synthetic_tars());
    tars.extend(common::tar_cases::cases().into_iter().map(|c| c.layer));
    for t in &tars {
        cases.push((b't', t.clone()));
        kinds.push(None);
    }
    for _ in 0..scale(TAR_CASES) {
        let base = rng.pick(&tars).clone();
        cases.push((b't', mutate_tar(&base, &mut rng)));
        kinds.push(None);
    }
    let payloads: Vec<Vec<u8>> = vec![
        std::fs::read(fixture("docker-save-legacy.tar")).unwrap(),
        b"hello".to_vec(),
        Vec::new(),
        vec![0u8; 70_000],
    ];
    cases.push((b'z', std::fs::read(fixture("docker-save-legacy.tar.gz")).unwrap()));
    kinds.push(None);
    for _ in 0..scale(GZIP_CASES) {
        cases.push((b'z', gzip_case(&payloads, &mut rng)));
        kinds.push(None);
    }
    let docs = json_bases();
    for (mode, kind, text) in &docs {
        cases.push((*mode, text.clone().into_bytes()));
        kinds.push(Some(*kind));
    }
    for _ in 0..scale(JSON_CASES) {
        let (mode, kind, text) = rng.pick(&docs);
        cases.push((*mode, mutate_json(text, &mut rng).into_bytes()));
        kinds.push(Some(*kind));
    }

    let answers = ask(&oracle, &cases);
    let mut tallies = [Tally::new("tar"), Tally::new("gzip"), Tally::new("json")];
    for (i, ((mode, bytes), go)) in cases.iter().zip(&answers).enumerate() {
        match (mode, kinds[i]) {
            (b't', _) => tallies[0].add(i, bytes, compare_tar(bytes, go)),
            (b'z', _) => tallies[1].add(i, bytes, compare_gzip(bytes, go)),
            (_, Some(kind)) => tallies[2].add(i, bytes, compare_json(kind, bytes, go)),
            _ => unreachable!(),
        }
    }
    let mut failures = Vec::new();
    for t in &tallies {
        let _ = writeln!(
            std::io::stderr(),
            "differential fuzz, {}: {} cases: {:?}",
            t.name,
            t.counts.values().sum::<usize>(),
            t.counts
        );
        failures.extend(t.failures.iter().cloned());
    }
    let _ = writeln!(
        std::io::stderr(),
        "differential fuzz: {} cases against Go in {:.1} s, seed {seed:#x} (AIRLOCK_FUZZ_SEED={seed:x} to repeat)",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "seed {seed:#x}: airlock and Go read differently:\n{}", failures.join("\n"));
    // The property must be able to fail: every stage saw cases read the same way.
    for t in &tallies {
        assert!(t.counts.get("same reading").copied().unwrap_or(0) > 0, "{}: no case was read alike", t.name);
    }
}
