//! Everyday use (issue 16): flags that would silently do nothing are refused with a hint,
//! images are selected with what users have, and the exact exit codes and messages.

mod common;
use common::*;
use std::path::Path;

/// Exit code, stdout and stderr of `airlock ARGS` run in the fixtures directory.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .current_dir(fixture(""))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

/// A usage error: exit 2, nothing on stdout, this one line on stderr, and nothing written.
#[track_caller]
fn refused(args: &[&str], message: &str) {
    let (code, out, err) = run(args);
    assert_eq!((code, out.as_str(), err.as_str()), (2, "", format!("airlock: {message}\n").as_str()), "{args:?}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn convert_refuses_compression_it_would_ignore() {
    let d = tempdir();
    let o = d.path().join("out.tar");
    let o = path(&o);
    refused(
        &["convert", "docker-save-legacy.tar", "--to", "crane", "--compression", "zstd", "-o", o],
        "--compression zstd: crane archives hold gzip layers only; use --compression gzip (or keep), or --to oci-archive for zstd layers",
    );
    refused(
        &["convert", "docker-save-legacy.tar", "--to", "oci-archive", "--level", "9", "-o", o],
        "--level 9 does nothing with --compression keep (the default); give --compression gzip (levels 0-12) or zstd (1-19)",
    );
    refused(
        &[
            "convert",
            "docker-save-legacy.tar",
            "--to",
            "oci-archive",
            "--compression",
            "gzip",
            "--level",
            "13",
            "-o",
            o,
        ],
        "--level 13: gzip levels are 0-12 (zstd's are 1-19)",
    );
    assert!(!Path::new(o).exists());
    // Out of clap's range: clap's own usage error.
    let (code, _, err) = run(&["convert", "docker-save-legacy.tar", "--to", "oci", "--level", "99", "-o", o]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: invalid value '99' for '--level <N>': 99 is not in 0..=19\n"), "{err}");
    // What works: crane with gzip at a level, zstd at 19.
    let (code, _, err) = run(&[
        "convert",
        "docker-save-legacy.tar",
        "--to",
        "crane",
        "--compression",
        "gzip",
        "--level",
        "9",
        "-q",
        "-o",
        o,
    ]);
    assert_eq!(code, 0, "{err}");
    let z = d.path().join("z.tar");
    let (code, _, err) = run(&[
        "convert",
        "docker-save-legacy.tar",
        "--to",
        "oci-archive",
        "--compression",
        "zstd",
        "--level",
        "19",
        "-q",
        "-o",
        path(&z),
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn convert_refuses_skopeo_transport_syntax() {
    let d = tempdir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["convert", path(&fixture("docker-save-legacy.tar")), "--to", "oci", "-o", "oci:foo"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "airlock: -o oci:foo: `oci:` is skopeo's transport syntax; airlock takes the format from --to: use --to oci -o foo (-o ./oci:foo names a path with a colon on purpose)\n"
    );
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0, "nothing written");
    // The explicit path writes that name.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["convert", "-q", path(&fixture("docker-save-legacy.tar")), "--to", "oci", "-o", "./oci:foo"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(d.path().join("oci:foo/index.json").is_file());
}

#[test]
fn lock_needs_force_to_replace() {
    let d = tempdir();
    let l = d.path().join("images.lock");
    std::fs::write(&l, "mine\n").unwrap();
    refused(
        &["lock", "-q", "docker-save-legacy.tar", "-o", path(&l)],
        &format!("{} exists; give --force to replace it", l.display()),
    );
    assert_eq!(std::fs::read_to_string(&l).unwrap(), "mine\n");
    let (code, _, err) = run(&["lock", "-q", "docker-save-legacy.tar", "-o", path(&l), "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&l).unwrap().starts_with('{'));
}

#[test]
fn deny_of_an_error_code_is_refused() {
    let (code, out, err) = run(&["verify", "docker-save-legacy.tar", "--deny", "archive-corrupt"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with(
            "error: invalid value 'archive-corrupt' for '--deny <warnings|CODE>': archive-corrupt is an error already (it always fails the input); --deny takes `warnings` or a warning code: unreferenced-blob, "
        ),
        "{err}"
    );
}

#[test]
fn checksums_ignore_missing() {
    let d = tempdir();
    let sums = d.path().join("SHA256SUMS");
    let real = sha256_hex(&std::fs::read(fixture("docker-save-legacy.tar")).unwrap());
    std::fs::write(&sums, format!("{real}  docker-save-legacy.tar\n{}  other.tar\n", "0".repeat(64))).unwrap();
    let without = verify(&fixture("docker-save-legacy.tar"), &["--checksums", path(&sums)]);
    assert_eq!((without.code, codes(&without.json)), (1, vec!["checksum-missing".to_string()]));
    let with = verify(&fixture("docker-save-legacy.tar"), &["--checksums", path(&sums), "--ignore-missing"]);
    assert_eq!((with.code, codes(&with.json)), (0, Vec::<String>::new()));
    // A list naming none of the inputs still fails, as `sha256sum --ignore-missing` does.
    std::fs::write(&sums, format!("{}  other.tar\n", "0".repeat(64))).unwrap();
    let none = verify(&fixture("docker-save-legacy.tar"), &["--checksums", path(&sums), "--ignore-missing"]);
    assert_eq!((none.code, codes(&none.json)), (1, vec!["checksum-missing".to_string()]));
    assert_eq!(
        none.json["inputs"][0]["findings"][0]["message"],
        "no line of the checksum lists (1 line) names an input or a bundle member"
    );
    // And a mismatch is still one.
    std::fs::write(&sums, format!("{}  docker-save-legacy.tar\n", "0".repeat(64))).unwrap();
    let bad = verify(&fixture("docker-save-legacy.tar"), &["--checksums", path(&sums), "--ignore-missing"]);
    assert_eq!((bad.code, codes(&bad.json)), (1, vec!["checksum-mismatch".to_string()]));
    let (code, _, err) = run(&["verify", "docker-save-legacy.tar", "--ignore-missing"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: the following required arguments were not provided:\n  --checksums <FILE>\n"),
        "{err}"
    );
}

/// The image IDs `verify --json ARGS` reports, per input.
fn selected(args: &[&str]) -> (i32, Vec<Vec<String>>, String) {
    let mut all = vec!["verify", "--json", "-q"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    let ids = json["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            i["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|im| im["config_digest"].as_str().unwrap()[7..19].to_string())
                .collect()
        })
        .collect();
    (code, ids, err)
}

const AMD64_ID: &str = "5c4c6d914fddabffd509448c65c24b0ebcc4af3e53f208c23d383aaa32c8d7f9";
const ARM64_MANIFEST: &str = "957b30e1d70bb1025f321621a1ef167615c025b523a3f5e106cd33068f162169";

#[test]
fn image_by_short_id_and_digest_reference() {
    let one = |ids: &[&str]| vec![ids.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for spec in [&AMD64_ID[..12], &format!("sha256:{}", &AMD64_ID[..12]), AMD64_ID, &format!("sha256:{AMD64_ID}")] {
        assert_eq!(
            selected(&["multi-platform-oci", "--image", spec]),
            (0, one(&["5c4c6d914fdd"]), String::new()),
            "{spec}"
        );
    }
    // A registry's digest reference: the manifest digest picks the image.
    for spec in [
        format!("docker.io/airlock/multi@sha256:{ARM64_MANIFEST}"),
        format!("airlock/multi:1@sha256:{ARM64_MANIFEST}"),
        format!("sha256:{}", &ARM64_MANIFEST[..8]),
    ] {
        assert_eq!(
            selected(&["multi-platform-oci", "--image", &spec]),
            (0, one(&["6f65d11a7a05"]), String::new()),
            "{spec}"
        );
    }
    // A digest reference to nothing in the input: the usage error lists what is there.
    let (code, ids, err) =
        selected(&["multi-platform-oci", "--image", &format!("airlock/multi@sha256:{}", "0".repeat(64))]);
    assert_eq!((code, ids), (2, vec![]));
    assert_eq!(
        err,
        format!(
            "airlock: multi-platform-oci: --image airlock/multi@sha256:{} matches no image; the input has: @0 1 [linux/amd64], @1 1 [linux/arm64]\n",
            "0".repeat(64)
        )
    );
}

#[test]
fn platform_normalised_as_containerd_does() {
    let arm = vec![vec!["6f65d11a7a05".to_string()]];
    for p in ["linux/arm64/v8", "linux/arm64", "linux/aarch64", "Linux/ARM64"] {
        assert_eq!(selected(&["multi-platform-oci", "--platform", p]), (0, arm.clone(), String::new()), "{p}");
    }
    let amd = vec![vec!["5c4c6d914fdd".to_string()]];
    for p in ["linux/x86_64", "linux/amd64/v1"] {
        assert_eq!(selected(&["multi-platform-oci", "--platform", p]), (0, amd.clone(), String::new()), "{p}");
    }
    let (code, _, err) = selected(&["multi-platform-oci", "--platform", "linux/arm64/v9"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "airlock: multi-platform-oci: --platform linux/arm64/v9 matches no image; the input has: @0 1 [linux/amd64], @1 1 [linux/arm64]\n"
    );
}

#[test]
fn expect_id_given_a_manifest_digest_gets_a_hint() {
    let run = verify(&fixture("multi-platform-oci"), &["--expect-id", &format!("sha256:{ARM64_MANIFEST}")]);
    assert_eq!((run.code, codes(&run.json)), (1, vec!["expected-id-mismatch".to_string()]));
    assert_eq!(
        run.json["inputs"][0]["findings"][0]["message"],
        format!(
            "no image in the input has the expected image ID sha256:{ARM64_MANIFEST}; sha256:{ARM64_MANIFEST} is the manifest digest of an image whose image ID (the sha256 of its config, what --expect-id takes) is sha256:6f65d11a7a05148d39af901310ac27379e201e8dce9e49a0a5936c7992aa8871"
        )
    );
}

/// Runs airlock with a file on standard input.
fn with_stdin(args: &[&str], file: &Path) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::fs::File::open(file).unwrap())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

#[test]
fn dash_reads_standard_input() {
    let f = fixture("docker-save-legacy.tar.zst");
    let (code, out, err) = with_stdin(&["verify", "-q", "--json", "-"], &f);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["inputs"][0]["path"], "/dev/stdin");
    assert_eq!(json["inputs"][0]["format"], "docker-archive");
    assert_eq!(json["inputs"][0]["compression"], "zstd");
    let (code, out, _) = with_stdin(&["inspect", "-"], &fixture("docker-save-legacy.tar"));
    assert_eq!(code, 0);
    assert!(out.starts_with("/dev/stdin: docker-archive, 1 image\n"), "{out}");
    let (code, out, err) = with_stdin(&["verify", "-", "-"], &f);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (2, "", "airlock: - (standard input) is given more than once; it can be read once\n")
    );
    let (code, _, err) = with_stdin(&["verify", "-", "--checksums", "SUMS"], &f);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "airlock: --checksums hashes each input file beside the verify, and standard input can be read once: give the file\n"
        )
    );
}

/// A member's bytes, as stored in a layout directory.
fn blob(layout: &str, digest: &str) -> Vec<u8> {
    std::fs::read(fixture(layout).join("blobs/sha256").join(digest)).unwrap()
}

#[test]
fn inspect_raw_and_config_are_the_bytes_as_stored() {
    let (code, out, err) = run(&["inspect", "-q", "--raw", "multi-platform-oci", "--platform", "linux/arm64/v8"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out.as_bytes(), blob("multi-platform-oci", ARM64_MANIFEST));
    assert_eq!(sha256_hex(out.as_bytes()), ARM64_MANIFEST);
    let (code, out, err) = run(&["inspect", "-q", "--config", "multi-platform-oci", "--image", &AMD64_ID[..12]]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out.as_bytes(), blob("multi-platform-oci", AMD64_ID));
    // A docker-save archive: the config is there, a manifest of the image is not.
    let (code, out, _) = run(&["inspect", "--config", "docker-save-legacy.tar"]);
    assert_eq!(
        (code, sha256_hex(out.as_bytes()).as_str()),
        (0, "e46a39f5dc010420e5974200c2340a7956c8122a0aad1639cbc338a993f982e8")
    );
    refused(
        &["inspect", "--raw", "docker-save-legacy.tar"],
        "--raw: docker-save-legacy.tar image @0 airlock/app:1 [linux/amd64]: it has no manifest of its own (a docker-save archive lists its images in manifest.json); --config prints its config",
    );
    refused(
        &["inspect", "--raw", "multi-platform-oci"],
        "--raw prints one image's document, and 2 are selected: multi-platform-oci image @0 1 [linux/amd64], multi-platform-oci image @1 1 [linux/arm64]; pick one with --image or --platform",
    );
    // Flags that cannot go together are clap's usage errors.
    let (code, out, err) = run(&["inspect", "--raw", "--json", "multi-platform-oci"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("error: the argument '--raw' cannot be used with '--json'\n"), "{err}");
}

#[test]
fn inspect_json_shows_what_the_image_runs_with() {
    let r = run_json(&["inspect", "--json", "-q", fixture("docker-save-legacy.tar").to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.json["inputs"][0]["images"][0]["config"],
        serde_json::json!({
            "created": "2026-11-23T17:51:54.132166118Z",
            "user": null,
            "working_dir": "/data",
            "entrypoint": null,
            "cmd": ["/bin/fixture-tool"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "AIRLOCK_FIXTURE=app"],
            "labels": {"org.opencontainers.image.title": "airlock app fixture"},
            "exposed_ports": []
        })
    );
    // verify reports no config block (it is inspect's view).
    let v = verify(&fixture("docker-save-legacy.tar"), &[]);
    assert!(v.json["inputs"][0]["images"][0].get("config").is_none());
}

/// The last line of `airlock verify docker-save-legacy.tar` with these flags and environment
/// (stdout is a pipe: no colour unless asked).
fn verdict_line(flags: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.args(["verify", "docker-save-legacy.tar"]).args(flags).current_dir(fixture(""));
    cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string()
}

#[test]
fn colour_as_asked() {
    let plain = "OK verify: 1 input, 0 errors, 0 warnings";
    let painted = "\u{1b}[1m\u{1b}[32mOK\u{1b}[0m verify: 1 input, 0 errors, 0 warnings";
    assert_eq!(verdict_line(&[], &[]), plain, "a pipe gets none");
    assert_eq!(verdict_line(&["--color", "always"], &[]), painted);
    assert_eq!(verdict_line(&["--color=always"], &[("NO_COLOR", "1")]), painted, "the flag wins");
    assert_eq!(verdict_line(&[], &[("CLICOLOR_FORCE", "1")]), painted);
    assert_eq!(verdict_line(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]), plain);
    assert_eq!(verdict_line(&["--color", "auto"], &[("NO_COLOR", "1"), ("TERM", "dumb")]), plain);
    let (code, _, err) = run(&["--color", "sometimes", "verify", "docker-save-legacy.tar"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: invalid value 'sometimes' for '--color <WHEN>'\n"), "{err}");
}
