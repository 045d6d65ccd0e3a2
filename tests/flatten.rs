//! `airlock flatten` on the export fixtures (fixtures/export/: deletes, opaque directories,
//! hard links, xattrs) in every output format: verify finds nothing, the export of the
//! flattened image is the export of the original byte for byte, the config keeps every field
//! but rootfs and history, the tags stay, the bytes are the same every run; and refusals
//! leave nothing behind. tests/interop.rs loads the outputs into docker, containerd, podman.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

const FIXTURES: [(&str, &str, usize); 3] = [
    ("export/docker-vfs.tar", "airlock/export-vfs:1", 5),
    ("export/docker-overlay2.tar", "airlock/export-overlay2:1", 4),
    ("export/podman-xattrs.oci.tar", "localhost/airlock/export-xattrs:1", 3),
];
const FORMATS: [&str; 4] = ["oci", "oci-archive", "docker", "crane"];

fn run(args: &[&str]) -> Output {
    let out = airlock(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn flatten(input: &Path, to: &str, out: &Path, extra: &[&str]) -> Output {
    run(&[&["flatten", input.to_str().unwrap(), "--to", to, "-o", out.to_str().unwrap()], extra].concat())
}

fn export_bytes(input: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join(format!("{}.rootfs.tar", input.file_name().unwrap().to_string_lossy()));
    let o = run(&["export", "-q", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "export {}: {}", input.display(), stderr(&o));
    std::fs::read(out).unwrap()
}

fn config(input: &Path) -> Value {
    let o = run(&["inspect", "--config", input.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "inspect --config {}: {}", input.display(), stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn inspect(input: &Path) -> Value {
    let o = run(&["inspect", "--json", input.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "inspect {}: {}", input.display(), stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["inputs"][0]["images"][0].clone()
}

/// Every file under `p` (or `p` itself), by relative path, with its bytes.
fn files(p: &Path) -> Vec<(String, Vec<u8>)> {
    if p.is_file() {
        return vec![(String::new(), std::fs::read(p).unwrap())];
    }
    let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(p)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(p).unwrap().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_flattens_in_every_format_to_the_same_filesystem() {
    let d = tempdir();
    for (fx, tag, layers) in FIXTURES {
        let input = fixture(fx);
        let want_fs = export_bytes(&input, d.path());
        let mut want_cfg = config(&input);
        for to in FORMATS {
            let what = format!("{fx} --to {to}");
            let out = d.path().join(format!("{}.{to}", input.file_name().unwrap().to_string_lossy()));
            let o = flatten(&input, to, &out, &[]);
            assert_eq!(code(&o), 0, "{what}: {}", stderr(&o));
            let v = verify(&out, &[]);
            assert_codes(&v, &[], &[]);
            assert!(export_bytes(&out, d.path()) == want_fs, "{what}: the flattened image exports other bytes");
            let img = inspect(&out);
            // The tags as convert writes them in this format (docker.io/ in an OCI index).
            let converted = d.path().join(format!("converted.{to}"));
            let (c, err) = convert_to(&input, &converted, &["--to", to, "--force"]);
            assert_eq!(c, 0, "{what}: convert: {err}");
            assert_eq!(img["tags"], inspect(&converted)["tags"], "{what}: tags");
            let short = tag.trim_start_matches("localhost/");
            assert!(img["tags"][0].as_str().unwrap().ends_with(short), "{what}: tags {}", img["tags"]);
            assert_eq!(img["layers"].as_array().unwrap().len(), 1, "{what}: layers");
            let diff_id = img["layers"][0]["diff_id"].clone();
            let mut cfg = config(&out);
            assert_eq!(cfg["rootfs"], json!({"type": "layers", "diff_ids": [diff_id]}), "{what}: rootfs");
            let created = want_cfg["created"].clone();
            let history = json!([{
                "created": created,
                "created_by": "airlock flatten",
                "comment": format!("{layers} layers flattened into one"),
            }]);
            assert_eq!(cfg["history"], history, "{what}: history");
            for c in [&mut cfg, &mut want_cfg] {
                let o = c.as_object_mut().unwrap();
                o.remove("rootfs");
                o.remove("history");
            }
            assert_eq!(cfg, want_cfg, "{what}: every other field of the config");
        }
    }
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let d = tempdir();
    let input = fixture("export/docker-vfs.tar");
    for (to, extra) in [("oci", &[][..]), ("oci-archive", &["--compression", "zstd"][..]), ("docker", &[][..])] {
        let a = d.path().join(format!("a.{to}"));
        let b = d.path().join(format!("b.{to}"));
        assert_eq!(code(&flatten(&input, to, &a, extra)), 0);
        assert_eq!(code(&flatten(&input, to, &b, extra)), 0);
        assert!(files(&a) == files(&b), "--to {to} {extra:?}: two runs differ");
    }
    // stdout gets the file's bytes.
    let o = run(&["flatten", "-q", input.to_str().unwrap(), "--to", "docker", "-o", "-"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout == std::fs::read(d.path().join("a.docker")).unwrap(), "-o - differs from the file");
}

#[test]
fn compression_and_image_selection() {
    let d = tempdir();
    let input = fixture("docker-29-save-multi-platform.tar");
    for (c, want) in [("zstd", "zstd"), ("none", "none"), ("gzip", "gzip")] {
        let out = d.path().join(format!("{c}.tar"));
        let o = flatten(&input, "oci-archive", &out, &["--platform", "linux/arm64", "--compression", c]);
        assert_eq!(code(&o), 0, "{c}: {}", stderr(&o));
        let img = inspect(&out);
        assert_eq!(img["platform"], "linux/arm64", "{c}");
        assert_eq!(img["layers"][0]["compression"], want, "{c}");
    }
    // Two platforms and no choice: a usage error, nothing written.
    let o = flatten(&input, "oci", &d.path().join("both"), &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("takes one image"), "{}", stderr(&o));
    assert!(!d.path().join("both").exists());
}

#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let d = tempdir();
    let input = fixture("export/docker-vfs.tar");
    let out = d.path().join("out");
    for (extra, to, want) in [
        (&["--compression", "keep"][..], "docker", "no compression to keep"),
        (&["--compression", "zstd"][..], "crane", "crane archives hold gzip layers only"),
        (&["--compression", "none", "--level", "3"][..], "docker", "--level 3 does nothing"),
    ] {
        let o = flatten(&input, to, &out, extra);
        assert_eq!(code(&o), 2, "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{extra:?}: {}", stderr(&o));
    }
    let o = run(&["flatten", input.to_str().unwrap(), "--to", "oci", "-o", "-"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    std::fs::write(&out, b"keep me").unwrap();
    let o = flatten(&input, "docker", &out, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("exists; give --force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let o = flatten(&input, "docker", &out, &["--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    nothing_left(d.path(), &["out"]);
    let o = run(&[
        "flatten",
        d.path().join("missing.tar").to_str().unwrap(),
        "--to",
        "docker",
        "-o",
        d.path().join("x.tar").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// Only `keep` is in `dir`: no work area, staging area, lock or temporary file.
#[track_caller]
fn nothing_left(dir: &Path, keep: &[&str]) {
    let mut left: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, keep, "what is left in {}", dir.display());
}

/// A layer with a symlink to /etc and a file written through it in the next layer: refused
/// as export refuses it, naming the image, layer and member, and nothing is left.
#[test]
fn an_entry_export_refuses_refuses_the_flatten() {
    let d = tempdir();
    let input = d.path().join("in.tar");
    let l0 = tar_of(&[("evil", b'2', b"".as_slice(), "/etc")]);
    let l1 = tar_of(&[("evil/passwd", b'0', b"root::0:0::/:/bin/sh\n".as_slice(), "")]);
    docker_archive(&input, &[l0, l1.clone()], "airlock/hostile:1");
    for to in ["oci", "docker"] {
        let o = flatten(&input, to, &d.path().join("out"), &[]);
        assert_eq!(code(&o), 1, "{to}: {}", stderr(&o));
        let s = stderr(&o);
        let member = format!("{}/layer.tar", sha256_hex(&l1));
        assert!(s.contains("flatten refused (nothing written)"), "{s}");
        assert!(s.contains("image @0 airlock/hostile:1, layer 1 (") && s.contains(&member), "{s}");
        assert!(s.contains("[no-path-through-symlink]"), "{s}");
        nothing_left(d.path(), &["in.tar"]);
    }
}

#[test]
fn a_corrupt_layer_is_refused_with_the_report() {
    let d = tempdir();
    let input = d.path().join("in.tar");
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let layer = ms.iter_mut().find(|m| m.path.ends_with("layer.tar") && m.data.len() > 2000).unwrap();
    let n = layer.data.len();
    layer.data[n / 2] ^= 1;
    write_tar(&input, &ms);
    let o = flatten(&input, "oci-archive", &d.path().join("out.tar"), &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let s = stderr(&o);
    assert!(s.contains("flatten (nothing written)"), "{s}");
    assert_eq!(text_codes(&s), (vec!["layer-corrupt".to_string()], vec![]), "{s}");
    nothing_left(d.path(), &["in.tar"]);
}

/// A layer tar of (name, typeflag, data, link target) entries.
fn tar_of(entries: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, flag, data, link) in entries {
        out.extend(raw_header(name.as_bytes(), *flag, data.len() as u64, false, |b| {
            b[157..157 + link.len()].copy_from_slice(link.as_bytes());
        }));
        out.extend(padded(data));
    }
    out.extend([0u8; 1024]);
    out
}
