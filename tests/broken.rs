//! Real fixtures, broken in each way the checks exist for: each test asserts the exact
//! finding code and exit status.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const LEGACY: &str = "docker-save-legacy.tar";
const OCI_GZIP: &str = "skopeo-oci-gzip";

/// The legacy docker-save fixture's members and its manifest.json.
fn legacy() -> (Vec<M>, Value) {
    let ms = read_tar(&fixture(LEGACY));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    (ms, man)
}

fn save(dir: &tempfile::TempDir, name: &str, ms: &[M]) -> PathBuf {
    let p = dir.path().join(name);
    write_tar(&p, ms);
    p
}

fn set_manifest(ms: &mut [M], man: &Value) {
    find(ms, "manifest.json").data = serde_json::to_vec(man).unwrap();
}

/// Replaces the config with `edit`ed JSON, stored under its new digest, so only the edit
/// itself can be found wrong.
fn edit_config(ms: &mut Vec<M>, man: &mut Value, edit: impl FnOnce(&mut Value)) {
    let name = man[0]["Config"].as_str().unwrap().to_string();
    let mut cfg = json_of(find(ms, &name));
    edit(&mut cfg);
    let bytes = serde_json::to_vec(&cfg).unwrap();
    let new = format!("{}.json", sha256_hex(&bytes));
    ms.retain(|m| m.path != name);
    ms.push(regular(&new, bytes));
    man[0]["Config"] = Value::String(new);
    set_manifest(ms, man);
}

fn first_layer(man: &Value) -> String {
    man[0]["Layers"][0].as_str().unwrap().to_string()
}

/// A scratch copy of the gzip OCI layout fixture.
fn oci_copy(d: &tempfile::TempDir) -> PathBuf {
    let dir = d.path().join("oci");
    copy_dir(&fixture(OCI_GZIP), &dir);
    dir
}

/// Rewrites index.json (it carries no digest of its own).
fn edit_index(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    edit(&mut index);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Stores a blob under its digest; returns a descriptor for it.
fn put_blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let hex = sha256_hex(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
    json!({"mediaType": media_type, "digest": format!("sha256:{hex}"), "size": bytes.len()})
}

const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// Wraps `desc` in `levels` nested indexes, each listing the level below `fan_out` times.
fn nest_indexes(dir: &Path, mut desc: Value, levels: usize, fan_out: usize) -> Value {
    for _ in 0..levels {
        let doc = json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": vec![desc; fan_out]});
        desc = put_blob(dir, INDEX_TYPE, &serde_json::to_vec(&doc).unwrap());
    }
    desc
}

/// A one-file layer tar whose single entry has a raw (possibly hostile) name.
fn layer_with_entry(name: &str, kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let d = tempdir();
    let p = d.path().join("l.tar");
    write_tar(&p, &[M { path: name.into(), data: b"x".to_vec(), kind, link: link.map(str::to_string) }]);
    std::fs::read(p).unwrap()
}

// ---------------------------------------------------------------- archive-corrupt

#[test]
fn truncated_archive() {
    let d = tempdir();
    let bytes = std::fs::read(fixture(LEGACY)).unwrap();
    let p = d.path().join("t.tar");
    std::fs::write(&p, &bytes[..bytes.len() / 2 + 100]).unwrap();
    assert_codes(&verify(&p, &[]), &["archive-corrupt"], &[]);
}

#[test]
fn empty_and_garbage_files() {
    let d = tempdir();
    let e = d.path().join("empty.tar");
    std::fs::write(&e, b"").unwrap();
    assert_codes(&verify(&e, &[]), &["archive-corrupt"], &[]);
    let g = d.path().join("garbage.tar");
    std::fs::write(&g, vec![0x5au8; 4096]).unwrap();
    assert_codes(&verify(&g, &[]), &["archive-corrupt"], &[]);
}

#[test]
fn truncated_gzip_wrapper() {
    let d = tempdir();
    let bytes = std::fs::read(fixture("docker-save-legacy.tar.gz")).unwrap();
    let p = d.path().join("t.tar.gz");
    std::fs::write(&p, &bytes[..bytes.len() - 200]).unwrap();
    assert_codes(&verify(&p, &[]), &["archive-corrupt"], &[]);
}

#[test]
fn unopenable_path_is_exit_2() {
    let r = verify(Path::new("/nonexistent/airlock-input.tar"), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/airlock-input.tar"), "{}", r.stderr);
}

// ---------------------------------------------------------------- manifest-invalid

#[test]
fn manifest_not_json() {
    let d = tempdir();
    let (mut ms, _) = legacy();
    find(&mut ms, "manifest.json").data = b"{not json".to_vec();
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["manifest-invalid"], &[]);
}

#[test]
fn manifest_wrong_shape() {
    let d = tempdir();
    let (mut ms, _) = legacy();
    set_manifest(&mut ms, &json!({"Config": "x"}));
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["manifest-invalid"], &[]);
}

#[test]
fn tar_without_manifest() {
    let d = tempdir();
    let (mut ms, _) = legacy();
    ms.retain(|m| m.path != "manifest.json");
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["manifest-invalid"], &[]);
}

#[test]
fn ambiguous_manifest_cve_2021_41190() {
    let d = tempdir();
    let dir = oci_copy(&d);
    rewrite_manifest(&dir, |m| {
        m["manifests"] = json!([]);
    });
    let r = verify(&dir, &[]);
    // The refused manifest's config and layers are not reported unreferenced; the manifest
    // it replaced, which nothing names any more, is.
    assert_codes(&r, &["manifest-invalid"], &["unreferenced-blob"]);
    assert_eq!(codes(&r.json).len(), 2, "{}", r.json);
    assert!(r.json["inputs"][0]["findings"].to_string().contains("CVE-2021-41190"));
}

#[test]
fn index_cycle_ends_in_a_finding() {
    // A blob named by digest X that is an index listing X itself: followed by name, it would
    // loop forever.
    let d = tempdir();
    let dir = oci_copy(&d);
    let fake = "a".repeat(64);
    let link = json!({"mediaType": INDEX_TYPE, "digest": format!("sha256:{fake}"), "size": 10});
    let cyc = json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [link]});
    std::fs::write(dir.join("blobs/sha256").join(&fake), serde_json::to_vec(&cyc).unwrap()).unwrap();
    edit_index(&dir, |index| index["manifests"].as_array_mut().unwrap().push(link));
    let r = verify(&dir, &[]);
    assert_codes(&r, &["blob-digest-mismatch", "blob-size-mismatch", "manifest-invalid"], &[]);
    assert!(r.json.to_string().contains("cycle"));
}

#[test]
fn absurd_nesting_ends_in_a_finding() {
    let d = tempdir();
    let dir = oci_copy(&d);
    edit_index(&dir, |index| {
        let top = nest_indexes(&dir, index["manifests"][0].clone(), 40, 1);
        index["manifests"] = json!([top]);
    });
    let r = verify(&dir, &[]);
    // The indexes past the bound, and the image under them, are not read: their blobs are
    // not reported unreferenced beside the error that says so.
    assert_codes(&r, &["manifest-invalid"], &[]);
    assert!(r.json.to_string().contains("nest deeper"));
}

// ---------------------------------------------------------------- config-invalid

#[test]
fn config_without_diff_ids() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    edit_config(&mut ms, &mut man, |c| {
        c["rootfs"].as_object_mut().unwrap().remove("diff_ids");
    });
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["config-invalid"], &[]);
}

#[test]
fn config_not_json() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    let bytes = b"\x00\x01 not a config".to_vec();
    let new = format!("{}.json", sha256_hex(&bytes));
    man[0]["Config"] = Value::String(new.clone());
    ms.push(regular(&new, bytes));
    set_manifest(&mut ms, &man);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["config-invalid"], &[]);
}

// ---------------------------------------------------------------- blob-*

#[test]
fn missing_layer() {
    let d = tempdir();
    let (mut ms, man) = legacy();
    let l = first_layer(&man);
    ms.retain(|m| m.path != l);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["blob-missing"], &[]);
}

#[test]
fn config_bytes_differ_from_name() {
    let d = tempdir();
    let (mut ms, man) = legacy();
    let name = man[0]["Config"].as_str().unwrap().to_string();
    find(&mut ms, &name).data.push(b' ');
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["blob-digest-mismatch"], &[]);
}

#[test]
fn oci_blob_bytes_differ_from_digest() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let (_, m) = first_manifest(&dir);
    let cfg = dir.join("blobs/sha256").join(m["config"]["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&cfg).unwrap();
    bytes.push(b'\n');
    std::fs::write(&cfg, bytes).unwrap();
    let r = verify(&dir, &[]);
    assert_codes(&r, &["blob-digest-mismatch", "blob-size-mismatch"], &[]);
}

#[test]
fn descriptor_size_differs() {
    let d = tempdir();
    let dir = oci_copy(&d);
    rewrite_manifest(&dir, |m| {
        let s = m["layers"][0]["size"].as_u64().unwrap();
        m["layers"][0]["size"] = json!(s + 1);
    });
    let r = verify(&dir, &[]);
    assert_codes(&r, &["blob-size-mismatch"], &["unreferenced-blob"]);
    let f = &r.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "blob-size-mismatch")
        .unwrap()
        .clone();
    assert_eq!(f["layer"], json!(0));
    assert_eq!(f["image"], json!(0));
}

// ---------------------------------------------------------------- layers

#[test]
fn layer_replaced_by_another_valid_tar() {
    let d = tempdir();
    let (mut ms, man) = legacy();
    let l = first_layer(&man);
    let m = find(&mut ms, &l);
    // Follow a symlinked layer to its file.
    assert_eq!(m.kind, tar::EntryType::Regular, "fixture's first layer is a file");
    m.data = layer_with_entry("etc/other", tar::EntryType::Regular, None);
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_codes(&r, &["diff-id-mismatch"], &[]);
}

#[test]
fn layer_garbage() {
    let d = tempdir();
    let (mut ms, man) = legacy();
    let l = first_layer(&man);
    find(&mut ms, &l).data = vec![0x42; 3000];
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["layer-corrupt"], &[]);
}

#[test]
fn gzip_layer_truncated() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let (_, m) = first_manifest(&dir);
    let p = dir.join("blobs/sha256").join(m["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let r = verify(&dir, &[]);
    assert_codes(&r, &["blob-digest-mismatch", "blob-size-mismatch", "layer-corrupt"], &[]);
}

#[test]
fn layer_count_differs() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    man[0]["Layers"].as_array_mut().unwrap().pop();
    set_manifest(&mut ms, &man);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["history-mismatch", "layer-count-mismatch"], &[]);
}

#[test]
fn history_count_differs() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    edit_config(&mut ms, &mut man, |c| {
        c["history"].as_array_mut().unwrap().push(json!({"created_by": "RUN phantom"}));
    });
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["history-mismatch"], &[]);
}

#[test]
fn media_type_claims_uncompressed_for_gzip() {
    let d = tempdir();
    let dir = oci_copy(&d);
    rewrite_manifest(&dir, |m| {
        m["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar");
    });
    assert_codes(&verify(&dir, &[]), &["media-type-mismatch"], &["unreferenced-blob"]);
}

// ---------------------------------------------------------------- unsafe

#[test]
fn reference_outside_archive() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    man[0]["Layers"][0] = json!("../../../etc/passwd");
    set_manifest(&mut ms, &man);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["unsafe-path"], &[]);
}

#[test]
fn symlink_escaping_archive() {
    let d = tempdir();
    let (mut ms, man) = legacy();
    let l = first_layer(&man);
    let m = find(&mut ms, &l);
    m.kind = tar::EntryType::Symlink;
    m.link = Some("../../../../etc/shadow".into());
    m.data.clear();
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["unsafe-path"], &[]);
}

#[test]
fn legacy_layer_id_not_hex_cve_2014_9358() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    let l = first_layer(&man);
    let m = find(&mut ms, &l);
    m.path = "notanid/layer.tar".into();
    man[0]["Layers"][0] = json!("notanid/layer.tar");
    set_manifest(&mut ms, &man);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["unsafe-path"], &[]);
}

#[test]
fn layer_entries_escaping_root() {
    for (name, kind, link) in [
        ("../../etc/cron.d/x", tar::EntryType::Regular, None),
        ("/etc/passwd", tar::EntryType::Regular, None),
        ("bin/sh", tar::EntryType::Link, Some("../../../etc/shadow")),
    ] {
        let d = tempdir();
        let (mut ms, mut man) = legacy();
        let l = first_layer(&man);
        let layer = layer_with_entry(name, kind, link);
        let diff = format!("sha256:{}", sha256_hex(&layer));
        find(&mut ms, &l).data = layer;
        edit_config(&mut ms, &mut man, |c| c["rootfs"]["diff_ids"][0] = json!(diff));
        let r = verify(&save(&d, "a.tar", &ms), &[]);
        // Only the entry is wrong (no diff-id-mismatch).
        assert_codes(&r, &["unsafe-layer-entry"], &[]);
    }
}

#[test]
fn duplicate_member() {
    let d = tempdir();
    let (mut ms, _) = legacy();
    let copy = find(&mut ms, "manifest.json").clone();
    ms.push(copy);
    assert_codes(&verify(&save(&d, "a.tar", &ms), &[]), &["duplicate-entry"], &[]);
}

// ---------------------------------------------------------------- --expect-id

#[test]
fn expect_id() {
    let p = fixture(LEGACY);
    let ok = verify(&p, &[]);
    let id = ok.json["inputs"][0]["images"][0]["image_id"].as_str().unwrap().to_string();
    let r = verify(&p, &["--expect-id", &id]);
    assert_codes(&r, &[], &[]);
    let other = format!("sha256:{}", "0".repeat(64));
    let r = verify(&p, &["--expect-id", &id, "--expect-id", &other]);
    assert_codes(&r, &["expected-id-mismatch"], &[]);
    let bad = airlock(&["verify", p.to_str().unwrap(), "--expect-id", "nope"]);
    assert_eq!(bad.status.code(), Some(2), "a malformed digest is a usage error");
}

// ---------------------------------------------------------------- warnings

#[test]
fn unreferenced_blob_is_a_warning() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let stray = put_blob(&dir, "", b"stray blob");
    let r = verify(&dir, &[]);
    assert_codes(&r, &[], &["unreferenced-blob"]);
    let input = dir.to_str().unwrap();
    assert_eq!(
        all_findings(&r.json),
        want_findings(&[(input, "warning", "unreferenced-blob", &blob_member(&stray))]),
        "{}",
        r.json
    );
}

/// `blobs/sha256/<hex>` of a descriptor.
fn blob_member(desc: &Value) -> String {
    format!("blobs/sha256/{}", desc["digest"].as_str().unwrap().trim_start_matches("sha256:"))
}

/// A refused index.json: the error alone. Every blob is unreferenced only because the index
/// that names them could not be read (airlock refuses what Go would read differently).
#[test]
fn a_refused_index_leaves_no_blob_unreferenced() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let input = dir.to_str().unwrap().to_string();
    let only_the_error = want_findings(&[(&input, "error", "manifest-invalid", "index.json")]);
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    // Malformed JSON (cut short), then a duplicate key in another case (Go's decoder
    // matches keys case-insensitively), then a descriptor's mediaType of the wrong type.
    let cut = index.trim_end().strip_suffix('}').unwrap().to_string();
    let dup = index.replacen(r#""manifests""#, r#""Manifests":[],"manifests""#, 1);
    let typed = index.replacen(r#""mediaType":"application/vnd.oci.image.manifest.v1+json""#, r#""mediaType":7"#, 1);
    for (what, bad) in [("cut", cut), ("dup", dup), ("typed", typed)] {
        assert_ne!(bad, index, "{what}: the edit applies");
        std::fs::write(dir.join("index.json"), &bad).unwrap();
        let r = verify(&dir, &[]);
        assert_eq!(r.code, 1, "{what}: {}", r.json);
        assert_eq!(all_findings(&r.json), only_the_error, "{what}: {}", r.json);
    }
}

#[test]
fn a_docker_25_archive_with_an_index_naming_nothing_has_one_error() {
    // docker 26.1's save: manifest.json and index.json over blobs/sha256. index.json cut to
    // its first bytes names no blob, so the image's OCI manifest (which manifest.json does
    // not name) was warned unreferenced: whether anything refers to it cannot be told.
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-26.1-save.tar"));
    find(&mut ms, "index.json").data = br#"{"manifests":["#.to_vec();
    let p = save(&d, "cut-index.tar", &ms);
    let r = verify(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let input = p.to_str().unwrap();
    assert_eq!(
        all_findings(&r.json),
        want_findings(&[(input, "error", "manifest-invalid", "index.json")]),
        "{}",
        r.json
    );
}

/// ctr's export of two images as an OCI archive (its manifest.json dropped, so only
/// index.json names them), with `edit` applied to the members.
fn two_image_oci(d: &tempfile::TempDir, edit: impl FnOnce(&mut Vec<M>)) -> (PathBuf, Run) {
    let mut ms = read_tar(&fixture("ctr-export-multi.tar"));
    ms.retain(|m| m.path != "manifest.json");
    edit(&mut ms);
    let p = save(d, "two.tar", &ms);
    let r = verify(&p, &[]);
    (p, r)
}

/// The second image's manifest, refused (a `Layers` key beside `layers`: Go reads the last
/// of the two, airlock refuses), stored under its new digest and named so by index.json.
/// Returns its member.
fn refuse_second_manifest(ms: &mut Vec<M>) -> String {
    let index = json_of(find(ms, "index.json"));
    let old = blob_member(&index["manifests"][1]);
    let text = String::from_utf8(find(ms, &old).data.clone()).unwrap();
    let text = format!("{},\"Layers\":[]}}", text.trim_end().strip_suffix('}').unwrap());
    let hex = sha256_hex(text.as_bytes());
    ms.retain(|m| m.path != old);
    ms.push(regular(&format!("blobs/sha256/{hex}"), text.clone().into_bytes()));
    let mut index = index;
    index["manifests"][1]["digest"] = json!(format!("sha256:{hex}"));
    index["manifests"][1]["size"] = json!(text.len());
    find(ms, "index.json").data = serde_json::to_vec(&index).unwrap();
    format!("blobs/sha256/{hex}")
}

/// A refused manifest under a valid index: its error alone (its config and its own layer are
/// not reported unreferenced), and the other image is read and verified as before.
#[test]
fn a_refused_manifest_leaves_its_blobs_alone_and_the_other_image_fine() {
    let d = tempdir();
    let (p, r) = two_image_oci(&d, |_| {});
    assert_eq!(all_findings(&r.json), [], "the two-image archive is clean: {}", r.json);
    let mut refused = String::new();
    let (p2, r) = two_image_oci(&d, |ms| refused = refuse_second_manifest(ms));
    assert_eq!(p, p2);
    let input = p.to_str().unwrap();
    assert_eq!(all_findings(&r.json), want_findings(&[(input, "error", "manifest-invalid", &refused)]), "{}", r.json);
    let images: Vec<&str> =
        r.json["inputs"][0]["images"].as_array().unwrap().iter().map(|i| i["tags"][0].as_str().unwrap()).collect();
    assert_eq!(images, ["docker.io/airlock/app:1"], "{}", r.json);
    // A genuine stray blob beside it is still pointed out.
    let stray = b"stray blob".to_vec();
    let stray_member = format!("blobs/sha256/{}", sha256_hex(&stray));
    let (_, r) = two_image_oci(&d, |ms| {
        refused = refuse_second_manifest(ms);
        ms.push(regular(&stray_member, stray));
    });
    assert_eq!(
        all_findings(&r.json),
        want_findings(&[
            (input, "error", "manifest-invalid", &refused),
            (input, "warning", "unreferenced-blob", &stray_member),
        ]),
        "{}",
        r.json
    );
}

#[test]
fn invalid_tag_is_a_warning() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    man[0]["RepoTags"] = json!(["Not A Valid:Tag!"]);
    set_manifest(&mut ms, &man);
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_codes(&r, &[], &["invalid-reference"]);
}

// ---------------------------------------------------------------- bounds and the other codes

/// An index DAG whose paths multiply (each level lists the next 50 times): no cycle, but
/// 50^4 paths. It must end quickly, in a finding.
#[test]
fn index_fan_out_is_bounded() {
    let d = tempdir();
    let dir = oci_copy(&d);
    edit_index(&dir, |index| {
        let mut desc = index["manifests"][0].clone();
        desc.as_object_mut().unwrap().remove("annotations");
        index["manifests"] = json!([nest_indexes(&dir, desc, 4, 50)]);
    });
    let start = std::time::Instant::now();
    let r = verify(&dir, &[]);
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    assert_codes(&r, &["manifest-invalid"], &[]);
    assert!(r.json.to_string().contains("more than"));
}

#[test]
fn index_platform_disagreeing_with_config_is_a_warning() {
    let d = tempdir();
    let dir = oci_copy(&d);
    edit_index(&dir, |index| index["manifests"][0]["platform"] = json!({"os": "linux", "architecture": "s390x"}));
    let r = verify(&dir, &[]);
    assert_codes(&r, &[], &["platform-mismatch"]);
}

#[test]
fn attestation_manifest_is_an_artifact_not_an_image() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let statement = put_blob(&dir, "application/vnd.in-toto+json", br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": statement, "layers": []});
    let mut desc = put_blob(&dir, "application/vnd.oci.image.manifest.v1+json", &serde_json::to_vec(&m).unwrap());
    desc["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    edit_index(&dir, |index| index["manifests"].as_array_mut().unwrap().push(desc));
    let r = verify(&dir, &[]);
    // The artifact's blobs are referenced: no unreferenced-blob.
    assert_codes(&r, &[], &["artifact-skipped"]);
    assert_eq!(r.json["inputs"][0]["images"].as_array().unwrap().len(), 1);
}

#[test]
fn xz_layers_are_decompressed_and_checked() {
    // docker 20.10 (`xz -d`) and podman 4.3 load a docker-save whose layer.tar is xz
    // (measured), so its diffID is recomputed like any other layer's.
    let d = tempdir();
    let (mut ms, man) = legacy();
    let l = first_layer(&man);
    let plain = find(&mut ms, &l).data.clone();
    find(&mut ms, &l).data = wrap(&plain, "xz");
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_codes(&r, &[], &[]);
    let layer = &r.json["inputs"][0]["images"][0]["layers"][0];
    assert_eq!(layer["compression"], "xz");
    assert_eq!(layer["diff_id"], format!("sha256:{}", sha256_hex(&plain)).as_str());
    // One byte of the layer changed before it was compressed: its diffID is wrong.
    let mut changed = plain.clone();
    let at = {
        let mut a = tar::Archive::new(&plain[..]);
        let e = a.entries().unwrap().map(Result::unwrap).find(|e| e.size() > 0).expect("a file in the layer");
        e.raw_file_position() as usize
    };
    changed[at] ^= 1;
    find(&mut ms, &l).data = wrap(&changed, "xz");
    let r = verify(&save(&d, "b.tar", &ms), &[]);
    assert_eq!(codes(&r.json), ["diff-id-mismatch"], "{}", r.json);
    // Not xz after its magic: the layer is corrupt.
    let mut xz = vec![0xfd, b'7', b'z', b'X', b'Z', 0];
    xz.extend_from_slice(&[1u8; 100]);
    find(&mut ms, &l).data = xz;
    let r = verify(&save(&d, "c.tar", &ms), &[]);
    assert_eq!(codes(&r.json), ["layer-corrupt"], "{}", r.json);
}

#[test]
fn oversized_config_is_refused_with_a_clear_finding() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    let mut big = b"{\"pad\": \"".to_vec();
    big.resize(33 << 20, b'a');
    big.extend_from_slice(b"\"}");
    let name = format!("{}.json", sha256_hex(&big));
    ms.push(regular(&name, big));
    man[0]["Config"] = json!(name);
    set_manifest(&mut ms, &man);
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_codes(&r, &["config-invalid"], &[]);
    assert!(r.json.to_string().contains("32 MiB"), "{}", r.json);
}

#[test]
fn huge_pax_header_in_a_layer_is_corrupt_not_an_allocation() {
    let d = tempdir();
    let (mut ms, mut man) = legacy();
    let l = first_layer(&man);
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(1 << 40);
    h.set_path("pax").unwrap();
    h.set_cksum();
    let layer = h.as_bytes().to_vec();
    let diff = format!("sha256:{}", sha256_hex(&layer));
    find(&mut ms, &l).data = layer;
    edit_config(&mut ms, &mut man, |c| c["rootfs"]["diff_ids"][0] = json!(diff));
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_codes(&r, &["layer-corrupt"], &[]);
}

#[test]
fn directory_that_is_not_a_layout() {
    let d = tempdir();
    std::fs::write(d.path().join("hello.txt"), b"hi").unwrap();
    let r = verify(d.path(), &[]);
    // Decided from its top level, before anything is read: an input that cannot be opened
    // as an image input (exit 2), never walked (tests/partial.rs has the messages).
    assert_eq!(
        (r.code, codes_of(&r.json, "error"), codes_of(&r.json, "warning")),
        (2, vec!["input-unreadable".to_string()], vec![]),
        "{}",
        r.json
    );
}

/// Docker 25+ stores each layer's legacy v1 `json` as a blob that nothing references: that is
/// normal and not reported. Any other stray blob in the same layout still is. (Built from the
/// containerd export, which has the same layout; Debian has no Docker 25 to write one.)
#[test]
fn docker25_legacy_json_blobs_are_not_unreferenced() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("ctr-export.tar"));
    let v1 = serde_json::to_vec(&json!({"id": "a".repeat(64), "parent": "b".repeat(64),
        "created": "1970-01-01T00:00:00Z", "container_config": {"Cmd": null}, "os": "linux"}))
    .unwrap();
    ms.push(regular(&format!("blobs/sha256/{}", sha256_hex(&v1)), v1));
    let r = verify(&save(&d, "a.tar", &ms), &[]);
    assert_codes(&r, &[], &[]);
    let other = br#"{"something": "else"}"#.to_vec();
    ms.push(regular(&format!("blobs/sha256/{}", sha256_hex(&other)), other));
    let r = verify(&save(&d, "b.tar", &ms), &[]);
    assert_eq!(codes(&r.json), ["unreferenced-blob"], "one, the blob that is not a legacy v1 json");
    assert_codes(&r, &[], &["unreferenced-blob"]);
}

/// A non-distributable layer that carries download URLs and is not in the archive is a
/// warning (airlock never fetches it); the same layer without URLs is blob-missing.
#[test]
fn foreign_layer_with_urls_is_a_warning() {
    let d = tempdir();
    let dir = oci_copy(&d);
    let (_, m) = first_manifest(&dir);
    let hex = m["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    rewrite_manifest(&dir, |m| {
        m["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
        m["layers"][0]["urls"] = json!(["https://example.invalid/layer.tar.gz"]);
    });
    std::fs::remove_file(dir.join("blobs/sha256").join(&hex)).unwrap();
    let r = verify(&dir, &[]);
    // The old manifest, left beside the rewritten one, is unreferenced.
    assert_codes(&r, &[], &["foreign-layer", "unreferenced-blob"]);
    rewrite_manifest(&dir, |m| {
        m["layers"][0].as_object_mut().unwrap().remove("urls");
    });
    assert_codes(&verify(&dir, &[]), &["blob-missing"], &["unreferenced-blob"]);
}

/// A FIFO no process writes to: opening it would block forever. verify waits a bounded
/// time for a writer, then fails as "cannot open" (exit 2); with a writer it reads the
/// archive as a stream.
#[test]
fn a_fifo_without_a_writer_does_not_hang() {
    let d = tempdir();
    let fifo = d.path().join("fifo");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let started = std::time::Instant::now();
    let out = airlock(&["verify", "-q", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open") && stderr.contains("FIFO"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    // With a writer, the FIFO is read.
    let f = fifo.clone();
    let writer =
        std::thread::spawn(move || std::fs::write(&f, std::fs::read(fixture("docker-save-legacy.tar")).unwrap()));
    let run = verify(&fifo, &[]);
    writer.join().unwrap().unwrap();
    assert_eq!(run.code, 0, "{}", run.json);
}

/// A gzip OCI layout whose last layer blob is `edit`ed, stored under its new digest with the
/// manifest's descriptor updated, so only the edit itself can be found wrong.
fn oci_last_layer(d: &tempfile::TempDir, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let dir = d.path().join(name);
    copy_dir(&fixture(OCI_GZIP), &dir);
    rewrite_manifest(&dir, |m| {
        let last = m["layers"].as_array_mut().unwrap().last_mut().unwrap();
        let old = dir.join("blobs/sha256").join(last["digest"].as_str().unwrap().trim_start_matches("sha256:"));
        let mut blob = std::fs::read(&old).unwrap();
        edit(&mut blob);
        let hex = sha256_hex(&blob);
        // The old blob stays: another layer of the fixture is the same blob.
        std::fs::write(dir.join("blobs/sha256").join(&hex), &blob).unwrap();
        last["digest"] = format!("sha256:{hex}").into();
        last["size"] = blob.len().into();
    });
    dir
}

/// Measured with docker 20.10, 26.1, 28.5 (both stores), containerd 1.6, 1.7, 2.1 and podman
/// 4.3, 5.4: a gzip layer that goes on after its tar's end with bytes that are not a gzip
/// member (or zeros) loads everywhere (their readers stop at the tar's end-of-archive marker,
/// and the diffID covers the tar). A warning, not `layer-corrupt`. A second gzip member is
/// decompressed into the diffID (refused by docker and containerd: "invalid diffID"), and a
/// damaged trailer CRC fails containerd and docker 20.10 (unpigz): those stay errors.
#[test]
fn a_gzip_layer_with_bytes_after_its_tar_is_a_warning() {
    let d = tempdir();
    for (name, junk) in [("bytes", b"GARBAGE!".repeat(64)), ("zeros", vec![0u8; 1024])] {
        let p = oci_last_layer(&d, name, |b| b.extend_from_slice(&junk));
        let r = verify(&p, &[]);
        assert_eq!(r.code, 0, "{name}: {}", r.json);
        // The replaced manifest stays behind, unreferenced.
        assert_eq!(sorted(codes(&r.json)), ["archive-trailer-ignored", "unreferenced-blob"], "{name}: {}", r.json);
        let layer = r.json["inputs"][0]["images"][0]["layers"].as_array().unwrap().last().unwrap().clone();
        let original = verify(&fixture(OCI_GZIP), &[]);
        let want = original.json["inputs"][0]["images"][0]["layers"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(layer["diff_id"], want["diff_id"], "{name}: the diffID is the tar's");
    }
    let p = oci_last_layer(&d, "member", |b| b.extend_from_slice(&gz(b"x")));
    let r = verify(&p, &[]);
    assert_eq!(sorted(codes(&r.json)), ["diff-id-mismatch", "unreferenced-blob"], "{}", r.json);
    assert_eq!(r.code, 1);
    let p = oci_last_layer(&d, "crc", |b| {
        let n = b.len();
        b[n - 8] ^= 0xff;
    });
    let r = verify(&p, &[]);
    assert_eq!(sorted(codes(&r.json)), ["layer-corrupt", "unreferenced-blob"], "{}", r.json);
    assert_eq!(r.code, 1);
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A Docker 25+ archive without its index.json and oci-layout: manifest.json alone names the
/// layers `blobs/sha256/<hex>`, which are no legacy layer ids (docker 26.1, 28.5 and podman
/// 4.3, 5.4 load such an archive, measured). Not `unsafe-path`.
#[test]
fn blobs_paths_in_manifest_json_alone_are_not_legacy_ids() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-26.1-save.tar"));
    ms.retain(|m| m.path != "index.json" && m.path != "oci-layout");
    let r = verify(&save(&d, "no-index.tar", &ms), &[]);
    assert_codes(&r, &[], &[]);
}
