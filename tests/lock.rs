//! `airlock lock` and `verify --lock`: pinned on one side of the gap, checked on the other.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn lock(inputs: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["lock", "-q", "-o", out.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(extra);
    airlock(&args)
}

fn locked(d: &tempfile::TempDir, inputs: &[&Path]) -> PathBuf {
    let out = d.path().join("images.lock");
    let o = lock(inputs, &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn with_lock(inputs: &[&Path], lock: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["verify", "--json", "-q", "--lock", lock.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(extra);
    run_json(&args)
}

#[test]
fn a_lock_is_deterministic_and_documents_every_image() {
    let d = tempdir();
    let inputs = [fixture("docker-save-multi.tar"), fixture("skopeo-oci-gzip")];
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let a = locked(&d, &refs);
    let first = std::fs::read(&a).unwrap();
    // Same inputs, other order: same bytes.
    let b = d.path().join("again.lock");
    assert_eq!(lock(&[refs[1], refs[0]], &b, &[]).status.code(), Some(0));
    assert_eq!(std::fs::read(&b).unwrap(), first, "deterministic");
    // And on stdout.
    let o = airlock(&["lock", "-q", refs[0].to_str().unwrap(), refs[1].to_str().unwrap()]);
    assert_eq!(o.stdout, first);

    let v: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(v["version"], 1);
    let names: Vec<&str> = v["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["docker-save-multi.tar", "skopeo-oci-gzip"]);
    assert_eq!(v["inputs"][1]["sha256"], Value::Null, "a directory has no file hash");
    let want = sha256_hex(&std::fs::read(&inputs[0]).unwrap());
    assert_eq!(v["inputs"][0]["sha256"], format!("sha256:{want}"));
    let images = v["images"].as_array().unwrap();
    let exp: Value =
        serde_json::from_slice(&std::fs::read(fixture("expected/docker-save-multi.tar.json")).unwrap()).unwrap();
    for e in exp["images"].as_array().unwrap() {
        let got = images.iter().find(|i| i["image_id"] == e["image_id"]).expect("every image locked");
        let diffs: Vec<&Value> = got["layers"].as_array().unwrap().iter().map(|l| &l["diff_id"]).collect();
        assert_eq!(diffs, e["diff_ids"].as_array().unwrap().iter().collect::<Vec<_>>());
    }
    let ids: Vec<&str> = images.iter().map(|i| i["image_id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "images sorted by image ID");
    // The OCI layout's manifest digest is kept beside the image ID.
    assert!(images.iter().any(|i| i["input"] == "skopeo-oci-gzip" && i["manifest_digest"].is_string()));
}

#[test]
fn the_lock_passes_for_a_conversion_and_says_what_changed() {
    let d = tempdir();
    let src = fixture("docker-save-legacy.tar");
    let l = locked(&d, &[&src]);
    assert_eq!(with_lock(&[&src], &l, &[]).code, 0);
    // An OCI conversion keeping the blobs: same images, no finding.
    let oci = d.path().join("oci");
    assert!(
        airlock(&["convert", "-q", src.to_str().unwrap(), "--to", "oci", "-o", oci.to_str().unwrap()]).status.success()
    );
    let r = with_lock(&[&oci], &l, &[]);
    assert_codes(&r, &[], &[]);
    // Re-compressed: passes, with lock-manifest-changed (never silent).
    let gz = d.path().join("gz");
    let o = airlock(&[
        "convert",
        "-q",
        src.to_str().unwrap(),
        "--to",
        "oci",
        "--compression",
        "gzip",
        "-o",
        gz.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let r = with_lock(&[&gz], &l, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_codes(&r, &[], &["lock-manifest-changed"]);
    // ... unless the operator denies it.
    assert_eq!(with_lock(&[&gz], &l, &["--deny", "lock-manifest-changed"]).code, 1);
}

#[test]
fn missing_images_wrong_tags_and_extra_images() {
    let d = tempdir();
    let multi = fixture("docker-save-multi.tar");
    let l = locked(&d, &[&multi]);
    // Only one of the two images arrived.
    let r = with_lock(&[&fixture("docker-save-legacy.tar")], &l, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["lock-image-missing", "lock-tag-mismatch"], &[]);

    // A tag moved to another image: edit the lock so airlock/app:1 pins the tool image.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&l).unwrap()).unwrap();
    let images = v["images"].as_array_mut().unwrap();
    let tool = images.iter().position(|i| i["tags"].to_string().contains("airlock/tool:1")).unwrap();
    images[tool]["tags"].as_array_mut().unwrap().push(Value::String("docker.io/airlock/app:1".into()));
    let moved = d.path().join("moved.lock");
    std::fs::write(&moved, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let r = with_lock(&[&multi], &moved, &[]);
    assert_eq!(r.code, 1);
    let msg = r.json.to_string();
    assert!(msg.contains("lock-tag-mismatch") && msg.contains("names sha256:"), "{msg}");

    // An image the lock does not list: a warning.
    let d2 = tempdir();
    let small = locked(&d2, &[&fixture("docker-save-legacy.tar")]);
    let r = with_lock(&[&multi], &small, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_codes(&r, &[], &["lock-image-unlisted"]);
}

#[test]
fn a_platform_absent_from_a_partial_export_fails_a_lock_that_pins_it() {
    let d = tempdir();
    let l = locked(&d, &[&fixture("multi-platform-oci")]);
    let r = with_lock(&[&fixture("ctr-export-partial.tar")], &l, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let msg = r.json.to_string();
    assert!(msg.contains("lock-image-missing") && msg.contains("linux/arm64"), "{msg}");
}

#[test]
fn bad_locks_are_usage_errors() {
    let d = tempdir();
    let cases: [(&str, &[u8], &str); 4] = [
        ("notjson", b"{", "is not JSON"),
        ("v3", br#"{"version":3,"inputs":[],"images":[]}"#, "version 3"),
        ("shape", br#"{"version":1,"inputs":[{"name":1}],"images":[]}"#, "wrong shape"),
        ("noversion", br#"[]"#, "no \"version\""),
    ];
    for (name, bytes, says) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = airlock(&[
            "verify",
            "-q",
            "--lock",
            p.to_str().unwrap(),
            fixture("docker-save-legacy.tar").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says) && err.lines().count() == 1, "{name}: {err}");
    }
    let o = airlock(&["verify", "--lock", "/nonexistent.lock", fixture("docker-save-legacy.tar").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_input_with_errors_is_not_locked_unless_forced() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let layer = man[0]["Layers"][0].as_str().unwrap().to_string();
    ms.retain(|m| m.path != layer);
    let broken = d.path().join("broken.tar");
    write_tar(&broken, &ms);
    let out = d.path().join("l.lock");
    let o = lock(&[&broken], &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists(), "nothing written");
    // Without -q (one verdict line per input), so the notes are printed.
    let o = airlock(&["lock", "-o", out.to_str().unwrap(), broken.to_str().unwrap(), "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 0, "an image with an unreadable layer is left out");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not locked"));
}

/// Each input's sha256 and size come from verify's own pass where it reads the input front to
/// back (a compressed file, a pipe), and from hashing the file where it does not (a plain tar,
/// read at its members' offsets). A FIFO can be read once only: its hash in the lock is the
/// pass's (it used to be null, "not hashed", when the lock read every file a second time).
#[test]
fn each_input_is_hashed_where_it_is_read() {
    let d = tempdir();
    let (gz, plain) = (fixture("docker-save-legacy.tar.gz"), fixture("docker-save-multi.tar"));
    let fifo = d.path().join("carried.tar.gz");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (f, src) = (fifo.clone(), gz.clone());
    let feeder = std::thread::spawn(move || std::fs::write(&f, std::fs::read(src).unwrap()));
    let out = d.path().join("images.lock");
    let o = lock(&[&fifo, &plain], &out, &[]);
    feeder.join().unwrap().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let said = format!("{}: OK\n{}: OK\n", fifo.display(), plain.display());
    assert_eq!(String::from_utf8_lossy(&o.stderr), said, "the verdicts, and no note: every input hashed");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let file = |p: &Path| {
        let b = std::fs::read(p).unwrap();
        serde_json::json!({"sha256": format!("sha256:{}", sha256_hex(&b)), "size": b.len()})
    };
    let got: Vec<(Value, Value)> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].clone(), serde_json::json!({"sha256": i["sha256"], "size": i["size"]})))
        .collect();
    assert_eq!(got, [("carried.tar.gz".into(), file(&gz)), ("docker-save-multi.tar".into(), file(&plain))]);
}
