//! Parser differentials, JSON: documents Go's case-insensitive decoder (docker, containerd,
//! podman, skopeo) reads as another image than airlock would. Each case is built from a real
//! fixture and must be refused: `manifest-invalid` (or `config-invalid`), exit 1, naming the
//! keys; and `convert --force` must not carry it. What docker itself loads from such an
//! archive is asserted in tests/interop.rs (`docker_loads_the_folded_key`).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const LEGACY: &str = "docker-save-legacy.tar";

/// The legacy fixture with its manifest.json replaced by `manifest` (raw text: serde_json
/// cannot write duplicate keys), plus an extra config built by `edit` from the real one.
/// Returns the archive and the name of the extra config member.
fn legacy_with(
    d: &tempfile::TempDir,
    edit: impl FnOnce(&mut Value),
    manifest: impl FnOnce(&str, &str, &str) -> String,
) -> (PathBuf, String) {
    let mut ms = read_tar(&fixture(LEGACY));
    let man = json_of(find(&mut ms, "manifest.json"));
    let good = man[0]["Config"].as_str().unwrap().to_string();
    let mut cfg = json_of(find(&mut ms, &good));
    edit(&mut cfg);
    let bytes = serde_json::to_vec(&cfg).unwrap();
    let evil = format!("{}.json", sha256_hex(&bytes));
    ms.push(regular(&evil, bytes));
    let layers = serde_json::to_string(&man[0]["Layers"]).unwrap();
    find(&mut ms, "manifest.json").data = manifest(&good, &evil, &layers).into_bytes();
    let p = d.path().join("app.tar");
    write_tar(&p, &ms);
    (p, evil)
}

fn label(cfg: &mut Value) {
    cfg["config"]["Labels"] = serde_json::json!({"evil": "yes"});
}

#[track_caller]
fn assert_refused(run: &Run, code: &str, needle: &str) {
    assert_refused_with(run, code, &[], needle);
}

/// An OCI layout whose index or manifest is refused: the error, and nothing else (the blobs
/// it would have referenced are not reported unreferenced: it was not read).
#[track_caller]
fn assert_refused_in_layout(run: &Run, code: &str, needle: &str) {
    assert_refused_with(run, code, &[], needle);
    assert_eq!(codes(&run.json), [code], "{}", run.json);
}

#[track_caller]
fn assert_refused_with(run: &Run, code: &str, warnings: &[&str], needle: &str) {
    assert_codes(run, &[code], warnings);
    let f = run.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code && f["message"].as_str().unwrap().contains(needle));
    assert!(f.is_some(), "no {code} naming {needle}: {}", run.json["inputs"][0]["findings"]);
}

/// convert --force must write nothing for such an input.
#[track_caller]
fn assert_not_carried(input: &Path) {
    let d = tempdir();
    let out = d.path().join("out");
    let o = airlock(&["convert", "-q", "--force", input.to_str().unwrap(), "--to", "oci", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists(), "convert --force wrote an ambiguous input");
    // Nor may the refusal suggest --force: it would write nothing either.
    let o = airlock(&["convert", input.to_str().unwrap(), "--to", "oci", "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("--force writes anyway") && stderr.contains("--force does not change that"), "{stderr}");
}

#[test]
fn manifest_json_config_key_in_another_case() {
    let d = tempdir();
    let (p, _) = legacy_with(&d, label, |good, evil, layers| {
        format!(r#"[{{"Config":"{good}","RepoTags":["airlock/app:1"],"Layers":{layers},"config":"{evil}"}}]"#)
    });
    let run = verify(&p, &[]);
    assert_refused(&run, "manifest-invalid", r#"[0]."config""#);
    assert_not_carried(&p);
}

#[test]
fn manifest_json_duplicate_key() {
    let d = tempdir();
    let (p, _) = legacy_with(&d, label, |good, evil, layers| {
        format!(r#"[{{"Config":"{good}","RepoTags":["airlock/app:1"],"Layers":{layers},"Config":"{evil}"}}]"#)
    });
    assert_refused(&verify(&p, &[]), "manifest-invalid", "appears more than once");
}

#[test]
fn manifest_json_only_a_case_variant() {
    // No exact "Layers" at all: Go reads "LAYERS"; airlock must not call it a missing field only.
    let d = tempdir();
    let (p, _) = legacy_with(&d, label, |good, _, layers| {
        format!(r#"[{{"Config":"{good}","RepoTags":["airlock/app:1"],"LAYERS":{layers}}}]"#)
    });
    assert_refused(&verify(&p, &[]), "manifest-invalid", r#"[0]."LAYERS""#);
}

#[test]
fn config_with_two_rootfs() {
    let d = tempdir();
    let (p, evil) = legacy_with(
        &d,
        |cfg| {
            let mut other = cfg["rootfs"].clone();
            other["diff_ids"] = serde_json::json!([]);
            cfg.as_object_mut().unwrap().insert("RootFS".into(), other);
        },
        |_, evil, layers| format!(r#"[{{"Config":"{evil}","RepoTags":["airlock/app:1"],"Layers":{layers}}}]"#),
    );
    let run = verify(&p, &[]);
    assert_refused(&run, "config-invalid", r#""RootFS""#);
    assert!(run.json["inputs"][0]["findings"].to_string().contains(&evil));
    assert_not_carried(&p);
}

/// A scratch copy of the gzip OCI layout fixture, and its manifest's path and JSON.
fn oci() -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let dir = d.path().join("oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    (d, dir)
}

#[test]
fn index_manifests_key_in_another_case() {
    // CVE-2021-41190 in Go's spelling: "Manifests" beside "layers".
    let (_d, dir) = oci();
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let index =
        index.replacen(r#""manifests""#, r#""Manifests":[],"manifests""#, 1).replacen('{', r#"{"layers":[],"#, 1);
    std::fs::write(dir.join("index.json"), index).unwrap();
    let run = verify(&dir, &[]);
    assert_refused_in_layout(&run, "manifest-invalid", r#""Manifests""#);
    assert_not_carried(&dir);
}

#[test]
fn oci_manifest_layers_key_in_another_case() {
    let (_d, dir) = oci();
    // Rewrite the manifest with an empty "Layers" after the real "layers"; the index then
    // points at the new manifest bytes (so only the key itself can be found wrong).
    let (path, _) = first_manifest(&dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = format!("{},\"Layers\":[]}}", text.trim_end().strip_suffix('}').unwrap());
    let hex = sha256_hex(text.as_bytes());
    std::fs::write(dir.join("blobs/sha256").join(&hex), &text).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"] = Value::String(format!("sha256:{hex}"));
    index["manifests"][0]["size"] = text.len().into();
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let run = verify(&dir, &[]);
    assert_refused_in_layout(&run, "manifest-invalid", r#""Layers""#);
}

#[test]
fn descriptor_and_annotation_keys() {
    let (_d, dir) = oci();
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    // A second digest key in another case inside the descriptor: Go takes the last.
    let bad = index.replacen(r#""size""#, r#""Digest":"sha256:00","size""#, 1);
    std::fs::write(dir.join("index.json"), &bad).unwrap();
    assert_refused_in_layout(&verify(&dir, &[]), "manifest-invalid", r#"[0]."Digest""#);
    // Annotations are a Go map: keys differing in case are two keys, and fine.
    let fine = index.replacen(
        r#""org.opencontainers.image.ref.name":"app-1""#,
        r#""org.opencontainers.image.ref.name":"app-1","ORG.opencontainers.image.ref.name":"x""#,
        1,
    );
    std::fs::write(dir.join("index.json"), &fine).unwrap();
    assert_eq!(verify(&dir, &[]).code, 0);
}

#[test]
fn every_real_fixture_reads_unambiguously() {
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap();
        if matches!(name, "expected" | "src" | "README.md" | "make-fixtures.sh") {
            continue;
        }
        let run = verify(&p, &[]);
        let msgs = run.json.to_string();
        assert!(!msgs.contains("ambiguous"), "{name}: {msgs}");
    }
}

/// Found by tests/differential_fuzz.rs: a value whose JSON type does not fit the Go field
/// (`"os": {}` for a string, `"empty_layer": "yes"` for a bool, `"RepoTags": "x"` for a
/// list, `"schemaVersion": []` for an int) fails Go's whole decode, so docker and
/// containerd refuse the document; airlock read around it. It is refused now.
#[test]
fn a_value_of_another_type_than_go_decodes_is_refused() {
    let d = tempdir();
    let (p, evil) = legacy_with(
        &d,
        |cfg| cfg["os"] = serde_json::json!({"x": 1}),
        |_, evil, layers| format!(r#"[{{"Config":"{evil}","RepoTags":["airlock/app:1"],"Layers":{layers}}}]"#),
    );
    let run = verify(&p, &[]);
    assert_refused(&run, "config-invalid", r#"key "os" is not a string"#);
    assert!(run.json["inputs"][0]["findings"].to_string().contains(&evil));
    let d = tempdir();
    let (p, _) = legacy_with(
        &d,
        |cfg| cfg["history"][0]["empty_layer"] = "yes".into(),
        |_, evil, layers| format!(r#"[{{"Config":"{evil}","RepoTags":["airlock/app:1"],"Layers":{layers}}}]"#),
    );
    assert_refused(&verify(&p, &[]), "config-invalid", r#""history"[0]."empty_layer" is not a boolean"#);
    let d = tempdir();
    let (p, _) = legacy_with(&d, label, |good, _, layers| {
        format!(r#"[{{"Config":"{good}","RepoTags":"airlock/app:1","Layers":{layers}}}]"#)
    });
    let run = verify(&p, &[]);
    assert_refused(&run, "manifest-invalid", r#"[0]."RepoTags" is not an array"#);
    assert_not_carried(&p);
    let (_d, dir) = oci();
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    std::fs::write(dir.join("index.json"), index.replacen(r#""schemaVersion":2"#, r#""schemaVersion":[2]"#, 1))
        .unwrap();
    assert_refused_in_layout(&verify(&dir, &[]), "manifest-invalid", r#""schemaVersion" is not an integer"#);
}
