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
    String::from_utf8(out.stdout).unwrap()
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
