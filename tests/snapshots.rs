//! The reports as users see them. Snapshots are reviewed by hand on every change
//! (`cargo insta review`); paths are redacted.

mod common;
use common::*;

fn run_in_fixtures(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .current_dir(fixture(""))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    redact_version(String::from_utf8(out.stdout).unwrap())
}

/// The airlock version in a JSON document, which changes with every release, not with the report.
fn redact_version(text: String) -> String {
    text.replace(
        &format!("\"airlock_version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"airlock_version\": \"[VERSION]\"",
    )
}

#[test]
fn human_verify_docker_save() {
    insta::assert_snapshot!(run_in_fixtures(&["verify", "docker-save-legacy.tar"]));
}

#[test]
fn human_inspect_docker_save() {
    insta::assert_snapshot!(run_in_fixtures(&["inspect", "docker-save-legacy.tar"]));
}

#[test]
fn json_verify_oci_zstd() {
    let out = run_in_fixtures(&["verify", "--json", "skopeo-oci-zstd"]);
    serde_json::from_str::<serde_json::Value>(&out).expect("valid JSON");
    insta::assert_snapshot!(out);
}

#[test]
fn json_verify_multi_platform() {
    let out = run_in_fixtures(&["verify", "--json", "multi-platform-oci"]);
    serde_json::from_str::<serde_json::Value>(&out).expect("valid JSON");
    insta::assert_snapshot!(out);
}

#[test]
fn human_report_of_a_broken_archive() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let cfg = man[0]["Config"].as_str().unwrap().to_string();
    find(&mut ms, &cfg).data.push(b' ');
    let layer = man[0]["Layers"][0].as_str().unwrap().to_string();
    ms.retain(|m| m.path != layer);
    let p = d.path().join("broken.tar");
    write_tar(&p, &ms);
    let out = airlock(&["verify", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::with_settings!({filters => vec![(regex_escape(d.path().to_str().unwrap()).as_str(), "[TMP]")]}, {
        insta::assert_snapshot!(text);
    });
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '/' || c == '_' { c.to_string() } else { format!("\\{c}") })
        .collect()
}

/// `convert --json`: zstd layers re-compressed for the docker target. Deterministic output,
/// so every digest is stable; the output path is redacted.
#[test]
fn json_convert_zstd_to_docker() {
    let d = tempdir();
    let out = d.path().join("app.tar");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["convert", "--json", "skopeo-oci-zstd", "--to", "docker", "--tag", "airlock/app:1", "-o"])
        .arg(&out)
        .current_dir(fixture(""))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = redact_version(String::from_utf8(o.stdout).unwrap());
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["bytes"].as_u64(), Some(std::fs::metadata(&out).unwrap().len()), "bytes is the output's size");
    insta::with_settings!({filters => vec![(regex_escape(d.path().to_str().unwrap()).as_str(), "[TMP]")]}, {
        insta::assert_snapshot!(text);
    });
}

/// `convert --json` of an input it refuses: ok false, the findings, nothing written; with
/// `-o -` the summary goes to stderr.
#[test]
fn json_convert_refused_goes_to_stderr_with_stdout_output() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let layer = man[0]["Layers"][0].as_str().unwrap().to_string();
    ms.retain(|m| m.path != layer);
    let p = d.path().join("broken.tar");
    write_tar(&p, &ms);
    let o = airlock(&["convert", "--json", p.to_str().unwrap(), "--to", "docker", "-o", "-"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing on stdout: it would be the archive");
    let v: serde_json::Value = serde_json::from_slice(&o.stderr).expect("the JSON summary on stderr");
    assert_eq!(v["ok"], false);
    assert_eq!(v["bytes"], serde_json::Value::Null);
    assert_eq!(codes(&v), ["blob-missing"], "{v}");
}

/// `inspect --compact`: one line per image, for archives of many images (a k3s bundle).
#[test]
fn human_inspect_compact() {
    insta::assert_snapshot!(run_in_fixtures(&["inspect", "--compact", "bundles/k3s-airgap-images-amd64.tar.zst"]));
}

/// A copy cut 880 bytes into its last layer, beside a path that is not there: the cut named,
/// the image read whole before it, the missing input reported (exit 2, the worst).
#[test]
fn human_verify_of_a_cut_copy_and_a_missing_input() {
    let d = tempdir();
    let bytes = std::fs::read(fixture("docker-save-multi.tar")).unwrap();
    std::fs::write(d.path().join("cut.tar"), &bytes[..58000]).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "cut.tar", "missing.tar"])
        .current_dir(d.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}
