//! Honest reports on partial input (issue 16 items 2-5): a copy cut short names the cut and
//! still reports the images read whole before it; every input of a batch is reported, one
//! that cannot be opened as such (exit 2); `-q` is one verdict line per input and
//! `--status` prints nothing; a directory that is not a layout is refused at once.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Exit code, stdout and stderr of `airlock ARGS` run in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

/// `head -c n fixture > dir/name`.
fn cut(dir: &Path, fixture_name: &str, n: usize, name: &str) -> PathBuf {
    let bytes = std::fs::read(fixture(fixture_name)).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, &bytes[..n]).unwrap();
    p
}

/// Every finding of the first input, as (severity, code, member, message).
fn findings(json: &Value) -> Vec<(String, String, Value, String)> {
    json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("severity"), s("code"), f["member"].clone(), s("message"))
        })
        .collect()
}

const LAST_LAYER: &str = "fbbfe0005feaeb22b63b46bb0bdce71c7831c60f72bd9774ef6c9da2df4aa735/layer.tar";

#[test]
fn a_cut_copy_names_the_member_and_keeps_the_images_read_whole() {
    let d = tempdir();
    // docker-save-multi.tar cut 880 bytes into its last layer: image 961ede… (config and both
    // layers) lies whole before the cut; e46a39…'s last layer is the one cut.
    cut(d.path(), "docker-save-multi.tar", 58000, "t.tar");
    let (code, out, err) = run_in(d.path(), &["verify", "--json", "t.tar"]);
    assert_eq!((code, err.as_str()), (1, ""));
    let json: Value = serde_json::from_str(&out).unwrap();
    let message = format!(
        "the tar archive is cut short: member {LAST_LAYER} needs 2560 bytes of data and 1680 are present (the tar ends at byte 58000, 880 bytes short); every member before it was read whole"
    );
    assert_eq!(findings(&json), vec![("error".into(), "archive-corrupt".into(), json!(LAST_LAYER), message.clone())]);
    let input = &json["inputs"][0];
    assert_eq!((&input["format"], &input["ok"]), (&Value::Null, &json!(false)));
    let images = input["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{input}");
    let image = &images[0];
    assert_eq!(image["config_digest"], "sha256:961ede6d04e345e8e4f10914007c5a93e32b87561b69e4e1b9c0bf60f0ef589f");
    assert_eq!(image["config_member"], "961ede6d04e345e8e4f10914007c5a93e32b87561b69e4e1b9c0bf60f0ef589f.json");
    assert_eq!(
        (&image["tags"], &image["platform"], &image["manifest_digest"]),
        (&json!([]), &json!("linux/amd64"), &Value::Null)
    );
    let diff_ids: Vec<&str> =
        image["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].as_str().unwrap()).collect();
    assert_eq!(
        diff_ids,
        [
            "sha256:bc998ea4eea8fe602aec1627782c402bce6950c9e2b077e2c9b66dd85870e2a1",
            "sha256:436677b48582bde94ec8174cca9ae2e8eeb267013c4dead7dce82f49165e8fbc"
        ]
    );
    // The human report says it in its first line.
    let (code, out, _) = run_in(d.path(), &["verify", "t.tar"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().next().unwrap(),
        "t.tar: cut short, 1 image read whole before the cut (untagged: the tags were in the manifest)"
    );
    // inspect names the cut the same way (it hashes no layer, so it finds no image whole).
    let (code, out, _) = run_in(d.path(), &["inspect", "--json", "t.tar"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 1);
    assert_eq!(findings(&json), vec![("error".into(), "archive-corrupt".into(), json!(LAST_LAYER), message)]);
    assert_eq!(json["inputs"][0]["images"], json!([]));
}

#[test]
fn a_cut_inside_a_header_and_a_cut_compressed_bundle_say_where() {
    let d = tempdir();
    // 100 bytes into the header after the first layer.tar (its data is bytes 3072-5120).
    cut(d.path(), "docker-save-multi.tar", 5120 + 100, "h.tar");
    let (code, out, _) = run_in(d.path(), &["verify", "--json", "h.tar"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        findings(&json),
        vec![(
            "error".into(),
            "archive-corrupt".into(),
            Value::Null,
            "the tar archive is cut short: it ends at byte 5220 of the tar, inside the tar header after member 1435a9c80eadeb7c04f63c7478f951b195c3da3d91e5343f2a021c86a97c3a0f/layer.tar (read whole, as was every member before it)".into()
        )]
    );
    // The k3s airgap tarball cut in half: its one zstd block never decompresses.
    let (code, out, _) = run_in(&fixture("bundles"), &["verify", "--json", "k3s-airgap-truncated.tar.zst"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        findings(&json),
        vec![(
            "error".into(),
            "archive-corrupt".into(),
            Value::Null,
            "the zstd-compressed tar is cut short (the zstd stream stops after 1872 bytes of input): it ends at byte 0 of the tar, inside its first header; no member could be read".into()
        )]
    );
}

#[test]
fn lock_and_convert_refuse_a_cut_copy_and_write_nothing() {
    let d = tempdir();
    cut(d.path(), "docker-save-multi.tar", 58000, "t.tar");
    let (code, _, err) = run_in(d.path(), &["lock", "t.tar", "-o", "t.lock"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.ends_with("FAILED lock (nothing written; --force writes anyway): 1 input, 1 error, 0 warnings\n"),
        "{err}"
    );
    let (code, _, err) = run_in(d.path(), &["convert", "t.tar", "--to", "oci", "-o", "out", "--force"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run_in(d.path(), &["convert", "-q", "t.tar", "--to", "oci-archive", "-o", "out.tar"]);
    assert_eq!((code, err.as_str()), (1, "t.tar: FAILED (1 error)\n"));
    let mut left: Vec<String> =
        std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["t.tar"]);
}

#[test]
fn every_input_of_a_batch_is_reported_and_the_status_is_the_worst() {
    let fixtures = fixture("");
    let (code, out, err) = run_in(&fixtures, &["verify", "--json", "docker-save-legacy.tar", "missing.tar"]);
    assert_eq!(code, 2);
    assert_eq!(err, "airlock: cannot open missing.tar: No such file or directory (os error 2)\n");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["ok"], false);
    let inputs = json["inputs"].as_array().unwrap();
    assert_eq!((inputs.len(), &inputs[0]["ok"], &inputs[0]["format"]), (2, &json!(true), &json!("docker-archive")));
    assert_eq!(
        inputs[1],
        json!({"path": "missing.tar", "format": null, "compression": "none", "size": null, "sha256": null,
               "ok": false, "images": [],
               "findings": [{"severity": "error", "code": "input-unreadable",
                             "message": "cannot open missing.tar: No such file or directory (os error 2)",
                             "image": null, "layer": null, "member": null}]})
    );
    // The human report, -q and --status alike; inspect too.
    let (code, out, _) = run_in(&fixtures, &["verify", "docker-save-legacy.tar", "missing.tar"]);
    assert_eq!(code, 2);
    assert!(
        out.ends_with(
            "missing.tar: cannot be opened\n  findings:\n    error[input-unreadable]: cannot open missing.tar: No such file or directory (os error 2)\n  verdict: FAILED (1 error, 0 warnings)\n\nFAILED verify: 2 inputs, 1 error, 0 warnings\n"
        ),
        "{out}"
    );
    for verb in ["verify", "inspect"] {
        let (code, out, _) = run_in(&fixtures, &[verb, "-q", "missing.tar", "docker-save-legacy.tar"]);
        assert_eq!((code, out.as_str()), (2, "missing.tar: FAILED (cannot be opened)\ndocker-save-legacy.tar: OK\n"));
    }
    let (code, out, err) = run_in(&fixtures, &["verify", "--status", "docker-save-legacy.tar", "missing.tar"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (2, "", "airlock: cannot open missing.tar: No such file or directory (os error 2)\n")
    );
    // A failed check and a missing input: still 2, the worst.
    let d = tempdir();
    cut(d.path(), "docker-save-multi.tar", 58000, "t.tar");
    let (code, out, _) = run_in(d.path(), &["verify", "-q", "t.tar", "missing.tar"]);
    assert_eq!((code, out.as_str()), (2, "t.tar: FAILED (1 error)\nmissing.tar: FAILED (cannot be opened)\n"));
}

#[test]
fn lock_refuses_to_leave_out_an_input_even_with_force() {
    let d = tempdir();
    let legacy = fixture("docker-save-legacy.tar");
    let lock = d.path().join("images.lock");
    let (code, out, err) =
        run_in(d.path(), &["lock", legacy.to_str().unwrap(), "missing.tar", "--force", "-o", "images.lock"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("airlock: cannot open missing.tar: No such file or directory (os error 2)\n"), "{err}");
    assert!(
        err.ends_with("FAILED lock (nothing written: a lock must hold every input, and --force does not change that): 2 inputs, 1 error, 0 warnings\n"),
        "{err}"
    );
    assert!(!lock.exists());
    let (code, out, err) = run_in(d.path(), &["lock", "-q", legacy.to_str().unwrap(), "missing.tar"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        format!(
            "airlock: cannot open missing.tar: No such file or directory (os error 2)\n{}: OK\nmissing.tar: FAILED (cannot be opened)\n",
            legacy.display()
        )
    );
}

#[test]
fn quiet_is_one_verdict_line_everywhere_and_status_prints_nothing() {
    let fixtures = fixture("");
    let (code, out, err) = run_in(&fixtures, &["verify", "-q", "docker-save-legacy.tar", "skopeo-oci-gzip"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "docker-save-legacy.tar: OK\nskopeo-oci-gzip: OK\n", ""));
    let (code, out, err) = run_in(&fixtures, &["verify", "--status", "docker-save-legacy.tar"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    // A warning denied: FAILED, and says why.
    let (code, out, _) = run_in(&fixtures, &["verify", "-q", "--deny", "warnings", "ctr-export-partial.tar"]);
    assert_eq!((code, out.as_str()), (1, "ctr-export-partial.tar: FAILED (1 denied warning)\n"));
    let (code, out, _) = run_in(&fixtures, &["verify", "-q", "ctr-export-partial.tar"]);
    assert_eq!((code, out.as_str()), (0, "ctr-export-partial.tar: OK (1 warning)\n"));
    // An --expect-id found in none of two inputs: a line for the inputs together.
    let none = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let (code, out, _) =
        run_in(&fixtures, &["verify", "-q", "docker-save-legacy.tar", "skopeo-oci-gzip", "--expect-id", none]);
    assert_eq!(
        (code, out.as_str()),
        (1, "docker-save-legacy.tar: OK\nskopeo-oci-gzip: OK\nall inputs: FAILED (1 error)\n")
    );
    // The commands that write an output: the line on stderr (stdout may be the output).
    let d = tempdir();
    let o = d.path().join("app.tar");
    let (code, out, err) = run_in(
        &fixtures,
        &["convert", "-q", "docker-save-legacy.tar", "--to", "oci-archive", "-o", o.to_str().unwrap()],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", "docker-save-legacy.tar: OK\n"));
    let o2 = d.path().join("app2.tar");
    let (code, out, err) = run_in(
        &fixtures,
        &["convert", "--status", "docker-save-legacy.tar", "--to", "oci-archive", "-o", o2.to_str().unwrap()],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert!(o.is_file() && o2.is_file());
    let lock = d.path().join("l.lock");
    let (code, out, err) = run_in(&fixtures, &["lock", "-q", "docker-save-legacy.tar", "-o", lock.to_str().unwrap()]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", "docker-save-legacy.tar: OK\n"));
    let (code, out, err) = run_in(&fixtures, &["verify", "--status", "--json", "docker-save-legacy.tar"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (2, "", "airlock: --status prints nothing and --json prints the report: give one of them\n")
    );
}

#[test]
fn a_directory_that_is_not_a_layout_is_refused_at_once() {
    let d = tempdir();
    let dir = d.path().join("etc");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("hosts"), "127.0.0.1 localhost\n").unwrap();
    // Walking the tree would report this link as an unsafe-path error: it is never looked at.
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/index.json"), "{}").unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = run_in(d.path(), &["verify", "--json", "etc"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let message = "not an image layout: etc has no oci-layout, index.json or manifest.json (nor zarf.yaml); nothing in it was read";
    assert_eq!((code, err.as_str()), (2, format!("airlock: {message}\n").as_str()));
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(findings(&json), vec![("error".into(), "input-unreadable".into(), Value::Null, message.into())]);
    for verb in ["inspect", "lock"] {
        let (code, _, err) = run_in(d.path(), &[verb, "etc"]);
        assert_eq!(code, 2, "{verb}");
        assert!(err.starts_with(&format!("airlock: {message}\n")), "{verb}: {err}");
    }
    let (code, out, err) = run_in(d.path(), &["convert", "etc", "--to", "oci", "-o", "out"]);
    assert_eq!((code, out.as_str(), err.as_str()), (2, "", format!("airlock: {message}\n").as_str()));
    // A layout one level down is a layout of its own: given as it is, it is read.
    let (code, _, _) = run_in(&fixture(""), &["verify", "-q", "skopeo-oci-gzip"]);
    assert_eq!(code, 0);
}

#[test]
fn quiet_on_delta_apply_and_export() {
    let d = tempdir();
    let (old, new) = (fixture("release/app-1.oci.tar"), fixture("release/app-2.docker.tar"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (lock, delta, out, rootfs) = (
        d.path().join("app-1.lock"),
        d.path().join("app-2.delta"),
        d.path().join("app-2.tar"),
        d.path().join("fs.tar"),
    );
    let (code, _, err) = run_in(d.path(), &["lock", "--status", &s(&old), "-o", &s(&lock)]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, out_text, err) = run_in(d.path(), &["delta", "-q", &s(&new), "--have", &s(&lock), "-o", &s(&delta)]);
    assert_eq!((code, out_text.as_str(), err), (0, "", format!("{}: OK\n", new.display())));
    let (code, out_text, err) = run_in(d.path(), &["apply", "-q", &s(&delta), "--from", &s(&old), "-o", &s(&out)]);
    assert_eq!((code, out_text.as_str(), err), (0, "", format!("{}: OK\n", delta.display())));
    let (code, out_text, err) = run_in(d.path(), &["export", "-q", &s(&out), "-o", &s(&rootfs)]);
    assert_eq!((code, out_text.as_str(), err), (0, "", format!("{}: OK\n", out.display())));
    let (code, out_text, err) = run_in(d.path(), &["export", "--status", &s(&out), "-o", &s(&rootfs), "--force"]);
    assert_eq!((code, out_text.as_str(), err.as_str()), (0, "", ""));
    assert!(delta.is_file() && out.is_file() && rootfs.is_file());
}
