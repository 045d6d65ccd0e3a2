//! Helpers shared by the integration tests: run the binary, read fixtures, and rewrite
//! archives in the ways real damage and real attacks take.
#![allow(dead_code)]

pub mod images;
pub mod real_tools;
pub mod tar_cases;

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

pub fn airlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock")).args(args).env("NO_COLOR", "1").output().expect("run airlock")
}

pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

/// `airlock verify --json` with extra args; asserts it did not panic.
pub fn verify(path: &Path, extra: &[&str]) -> Run {
    let p = path.to_str().unwrap();
    let mut args = vec!["verify", "--json", "-q", p];
    args.extend_from_slice(extra);
    run_json(&args)
}

pub fn run_json(args: &[&str]) -> Run {
    let out = airlock(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "airlock panicked on {args:?}: {stderr}");
    let code = out.status.code().expect("exit code (not a signal)");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Run { code, json, stderr }
}

/// Every finding code of every input (and the top level).
pub fn codes(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut take = |fs: &Value| {
        for f in fs.as_array().into_iter().flatten() {
            out.push(f["code"].as_str().unwrap_or("").to_string());
        }
    };
    take(&json["findings"]);
    for i in json["inputs"].as_array().into_iter().flatten() {
        take(&i["findings"]);
    }
    out
}

/// Every finding of the run, as (input, severity, code, member), in report order: the top
/// level's under input "", then each input's. For assertions on the exact finding set.
pub fn all_findings(json: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out = Vec::new();
    let mut take = |input: &str, fs: &Value| {
        for f in fs.as_array().into_iter().flatten() {
            out.push((input.to_string(), s(&f["severity"]), s(&f["code"]), s(&f["member"])));
        }
    };
    take("", &json["findings"]);
    for i in json["inputs"].as_array().into_iter().flatten() {
        take(i["path"].as_str().unwrap_or("?"), &i["findings"]);
    }
    out
}

/// Findings as `all_findings` gives them, from (input, severity, code, member) literals.
pub fn want_findings(want: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    want.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect()
}

/// The distinct codes of one severity, of every input and the top level, sorted.
pub fn codes_of(json: &Value, severity: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut take = |fs: &Value| {
        for f in fs.as_array().into_iter().flatten().filter(|f| f["severity"] == severity) {
            out.push(f["code"].as_str().unwrap_or("").to_string());
        }
    };
    take(&json["findings"]);
    for i in json["inputs"].as_array().into_iter().flatten() {
        take(&i["findings"]);
    }
    out.sort();
    out.dedup();
    out
}

/// Asserts the exact sets of error and warning codes the run reported (each code once,
/// however many findings have it), and the exit status they mean: 1 with an error, else 0
/// (a run with `--deny` checks its status itself).
#[track_caller]
pub fn assert_codes(run: &Run, errors: &[&str], warnings: &[&str]) {
    let sorted = |c: &[&str]| {
        let mut v: Vec<String> = c.iter().map(|s| s.to_string()).collect();
        v.sort();
        v.dedup();
        v
    };
    let pretty = serde_json::to_string_pretty(&run.json).unwrap();
    assert_eq!(codes_of(&run.json, "error"), sorted(errors), "error codes; stderr {}\n{pretty}", run.stderr);
    assert_eq!(codes_of(&run.json, "warning"), sorted(warnings), "warning codes\n{pretty}");
    let denied = pretty.contains("\"denied\": true");
    if !denied {
        assert_eq!(run.code, if errors.is_empty() { 0 } else { 1 }, "exit status; stderr {}", run.stderr);
        assert_eq!(run.json["ok"], Value::Bool(errors.is_empty()));
    }
}

/// The codes of the `error[CODE]` and `warning[CODE]` lines of a text report (a command's
/// stderr), each set sorted and without repeats: (errors, warnings).
pub fn text_codes(text: &str) -> (Vec<String>, Vec<String>) {
    let of = |severity: &str| {
        let open = format!("{severity}[");
        let mut out: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix(open.as_str()))
            .filter_map(|rest| rest.split_once(']').map(|(code, _)| code.to_string()))
            .collect();
        out.sort();
        out.dedup();
        out
    };
    (of("error"), of("warning"))
}

pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// A tar member as read back: path, data, type, link target.
#[derive(Clone)]
pub struct M {
    pub path: String,
    pub data: Vec<u8>,
    pub kind: tar::EntryType,
    pub link: Option<String>,
}

pub fn read_tar(path: &Path) -> Vec<M> {
    let f = std::fs::File::open(path).unwrap();
    let mut a = tar::Archive::new(f);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        let link = e.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(M { path, data, kind, link });
    }
    out
}

/// Writes members as a tar, names written raw (so `..` and `/` survive).
pub fn write_tar(path: &Path, members: &[M]) {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(m.kind);
        h.set_mode(if m.kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_size(if m.kind == tar::EntryType::Regular { m.data.len() as u64 } else { 0 });
        set_raw_name(&mut h, &m.path);
        if let Some(l) = &m.link {
            let g = h.as_gnu_mut().unwrap();
            g.linkname = [0; 100];
            g.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        let data: &[u8] = if m.kind == tar::EntryType::Regular { &m.data } else { &[] };
        b.append(&h, data).unwrap();
    }
    std::fs::write(path, b.into_inner().unwrap()).unwrap();
}

fn set_raw_name(h: &mut tar::Header, name: &str) {
    assert!(name.len() < 100, "test names are short");
    let g = h.as_gnu_mut().unwrap();
    g.name = [0; 100];
    g.name[..name.len()].copy_from_slice(name.as_bytes());
}

pub fn regular(path: &str, data: Vec<u8>) -> M {
    M { path: path.into(), data, kind: tar::EntryType::Regular, link: None }
}

pub fn find<'a>(ms: &'a mut [M], path: &str) -> &'a mut M {
    ms.iter_mut()
        .find(|m| m.path == path || m.path == format!("./{path}"))
        .unwrap_or_else(|| panic!("no member {path}"))
}

pub fn json_of(m: &M) -> Value {
    serde_json::from_slice(&m.data).unwrap()
}

/// Copies a directory tree (an OCI layout fixture) into `dst`.
pub fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(src).unwrap();
        let to = dst.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// In an OCI layout directory: the first image manifest reachable from index.json (following
/// nested indexes), as (blob path, JSON).
pub fn first_manifest(dir: &Path) -> (PathBuf, Value) {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    loop {
        let d = doc["manifests"][0]["digest"].as_str().unwrap().to_string();
        let p = dir.join("blobs/sha256").join(d.trim_start_matches("sha256:"));
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        if v.get("manifests").is_some() {
            doc = v;
            continue;
        }
        return (p, v);
    }
}

/// Rewrites the first image manifest of an OCI layout directory, storing it under its new
/// digest and updating every descriptor that pointed at the old one.
pub fn rewrite_manifest(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let (old_path, mut m) = first_manifest(dir);
    edit(&mut m);
    let bytes = serde_json::to_vec(&m).unwrap();
    let hex = sha256_hex(&bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), &bytes).unwrap();
    let old_hex = old_path.file_name().unwrap().to_str().unwrap().to_string();
    // Update the parent documents (index.json, or a nested index: rewritten in place by name).
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let text = std::fs::read(e.path()).unwrap();
        if let Ok(s) = String::from_utf8(text)
            && s.contains(&old_hex)
            && e.path() != old_path
        {
            let mut v: Value = match serde_json::from_str(&s) {
                Ok(v) => v,
                Err(_) => continue,
            };
            for d in v["manifests"].as_array_mut().into_iter().flatten() {
                if d["digest"].as_str() == Some(&format!("sha256:{old_hex}")) {
                    d["digest"] = Value::String(format!("sha256:{hex}"));
                    d["size"] = Value::from(bytes.len());
                }
            }
            std::fs::write(e.path(), serde_json::to_vec(&v).unwrap()).unwrap();
        }
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Raw tar bytes, for headers no tar library would write
// ---------------------------------------------------------------------------------------------

/// A 512-byte header: `name` (raw bytes, at most 100), type flag, size (octal), mode 0644,
/// the given magic (`b"ustar\0"` + `b"00"`, or GNU's `b"ustar "` + `b" \0"`), then `edit`
/// for anything else; the checksum is set last.
pub fn raw_header(name: &[u8], typeflag: u8, size: u64, gnu: bool, edit: impl FnOnce(&mut [u8; 512])) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name);
    b[100..107].copy_from_slice(b"0000644");
    b[108..115].copy_from_slice(b"0000000");
    b[116..123].copy_from_slice(b"0000000");
    b[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    b[136..147].copy_from_slice(b"00000000000");
    b[156] = typeflag;
    if gnu {
        b[257..263].copy_from_slice(b"ustar ");
        b[263..265].copy_from_slice(b" \0");
    } else {
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        b[329..336].copy_from_slice(b"0000000");
        b[337..344].copy_from_slice(b"0000000");
    }
    edit(&mut b);
    set_checksum(&mut b);
    b
}

pub fn set_checksum(b: &mut [u8; 512]) {
    b[148..156].copy_from_slice(b"        ");
    let sum: u32 = b.iter().map(|&c| c as u32).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// Data padded to whole blocks.
pub fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(512) * 512, 0);
    v
}

/// A PAX extended header ('x') carrying `records`, as raw bytes (header + padded payload).
pub fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (k, v) in records {
        let body = [b" ", k.as_bytes(), b"=", v, b"\n"].concat();
        let mut len = body.len() + 1;
        while format!("{len}").len() + body.len() != len {
            len += 1;
        }
        payload.extend_from_slice(format!("{len}").as_bytes());
        payload.extend_from_slice(&body);
    }
    let mut out = raw_header(b"PaxHeader", b'x', payload.len() as u64, false, |_| {}).to_vec();
    out.extend(padded(&payload));
    out
}

/// A legacy docker-save archive of one image with `layers` (plain tars), tagged `tag`.
pub fn docker_archive(path: &Path, layers: &[Vec<u8>], tag: &str) {
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect();
    let cfg = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/x"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let cfg_name = format!("{}.json", sha256_hex(&cfg));
    let mut members = vec![regular(&cfg_name, cfg)];
    let mut paths = Vec::new();
    for l in layers {
        let p = format!("{}/layer.tar", sha256_hex(l));
        members.push(regular(&p, l.clone()));
        paths.push(p);
    }
    let man = serde_json::json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": paths}]);
    members.push(regular("manifest.json", serde_json::to_vec(&man).unwrap()));
    write_tar(path, &members);
}

/// `data` wrapped whole in bzip2, lz4 (frame format) or xz, as `bzip2`, `lz4` and `xz` write it.
pub fn wrap(data: &[u8], how: &str) -> Vec<u8> {
    use std::io::Write;
    match how {
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "lz4" => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::encode_all(data, 3).unwrap(),
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        other => panic!("wrap: {other}"),
    }
}

/// `b` gzip-compressed (one member), as `gzip` writes it.
pub fn gz(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// `b` as one streamed zstd frame (no content size, so the frame says its window), the window
/// then set to 2^`log` bytes: what `zstd --long=LOG` writes from a pipe.
pub fn zstd_window(b: &[u8], log: u8) -> Vec<u8> {
    use std::io::Write;
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.write_all(b).unwrap();
    let mut z = e.finish().unwrap();
    assert_eq!(z[4] & 0x20, 0, "not a single-segment frame: byte 5 is the window descriptor");
    z[5] = (log - 10) << 3;
    z
}

/// A docker-save archive with one 48 MiB layer of random bytes: slow to re-compress.
pub fn slow_docker_archive(dir: &Path) -> PathBuf {
    let mut rnd = Vec::with_capacity(48 << 20);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while rnd.len() < 48 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rnd.extend_from_slice(&x.to_le_bytes());
    }
    let layer_path = dir.join("layer.tar");
    write_tar(&layer_path, &[regular("noise.bin", rnd)]);
    let layer = std::fs::read(&layer_path).unwrap();
    std::fs::remove_file(&layer_path).unwrap();
    let diff = sha256_hex(&layer);
    let cfg = serde_json::to_vec(&serde_json::json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff}")]}}))
    .unwrap();
    let cfg_name = format!("{}.json", sha256_hex(&cfg));
    let man = serde_json::json!([{"Config": cfg_name, "RepoTags": ["slow/image:1"], "Layers": [format!("{diff}/layer.tar")]}]);
    let input = dir.join("slow.tar");
    write_tar(
        &input,
        &[
            regular(&cfg_name, cfg),
            regular(&format!("{diff}/layer.tar"), layer),
            regular("manifest.json", serde_json::to_vec(&man).unwrap()),
        ],
    );
    input
}

/// `airlock convert INPUT -o OUT ARGS…`: its exit status and stderr.
pub fn convert_to(input: &Path, out: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["convert", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = airlock(&all);
    (o.status.code().expect("exit code (not a signal)"), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `tar -C DIR -cf OUT MEMBERS…`, which must succeed.
pub fn tar_c(dir: &Path, out: &Path, members: &[&str]) {
    let st = Command::new("tar").arg("-C").arg(dir).arg("-cf").arg(out).args(members).status().unwrap();
    assert!(st.success(), "tar -C {} -cf {} {members:?}", dir.display(), out.display());
}
