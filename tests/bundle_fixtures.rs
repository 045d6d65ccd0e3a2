//! The bundle fixtures (`fixtures/bundles/`, built by `fixtures/make-bundles.sh` the way
//! Harbor, Zarf, Hauler and k3s build theirs, around images real tools wrote): each is
//! verified and inspected end to end, and each broken variant is caught by the rule it
//! breaks, with the member named. What each must give is `fixtures/expected/bundles.tsv`,
//! written by the script from the rule each variant breaks.

mod common;
use common::*;
use serde_json::Value;

struct Row {
    bundle: String,
    exit: i32,
    codes: Vec<String>,
    images: usize,
    rule: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(fixture("expected/bundles.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            Row {
                bundle: f[0].to_string(),
                exit: f[1].parse().unwrap(),
                codes: if f[2] == "-" { Vec::new() } else { f[2].split(',').map(str::to_string).collect() },
                images: f[3].parse().unwrap(),
                rule: f[4].to_string(),
            }
        })
        .collect()
}

fn images(json: &Value) -> usize {
    json["inputs"].as_array().unwrap().iter().map(|i| i["images"].as_array().map_or(0, Vec::len)).sum()
}

#[test]
fn every_bundle_fixture_verifies_as_expected() {
    let rows = rows();
    assert!(rows.len() >= 15, "{}", rows.len());
    for row in &rows {
        let path = fixture(&format!("bundles/{}", row.bundle));
        let r = verify(&path, &[]);
        let ctx = format!("{} ({}): {}", row.bundle, row.rule, r.json);
        assert_eq!(r.code, row.exit, "{ctx}");
        // The exact set of codes, errors and warnings alike (the row does not tell them apart:
        // the exit status does).
        let mut got = codes(&r.json);
        got.sort();
        got.dedup();
        let mut want = row.codes.clone();
        want.sort();
        assert_eq!(got, want, "{ctx}");
        assert_eq!(images(&r.json), row.images, "{ctx}");
        // A broken variant names what is broken: the member, and the archive in the bundle
        // (a broken container is the input itself).
        if row.exit == 1 && !row.codes.iter().all(|c| c == "archive-corrupt") {
            for i in r.json["inputs"].as_array().unwrap() {
                for f in i["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error") {
                    // (A broken container is the input itself: its path names it.)
                    let named = f["member"].is_string()
                        || i["path"].as_str().unwrap().contains('!')
                        || f["code"] == "archive-corrupt";
                    assert!(named, "an error that names no member: {f}: {ctx}");
                }
            }
        }
    }
}

#[test]
fn every_good_bundle_fixture_is_inspected() {
    for row in rows().iter().filter(|r| r.exit == 0) {
        let path = fixture(&format!("bundles/{}", row.bundle));
        let r = run_json(&["inspect", "--json", path.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}: {}", row.bundle, r.json);
        assert_eq!(images(&r.json), row.images, "{}: {}", row.bundle, r.json);
    }
}

#[test]
fn a_broken_layer_in_a_harbor_installer_names_archive_image_and_layer() {
    let r = verify(&fixture("bundles/harbor-broken-layer.tgz"), &[]);
    assert_codes(&r, &["diff-id-mismatch"], &[]);
    let inner = r.json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ok"] == false && !i["images"].as_array().unwrap().is_empty());
    let inner = inner.expect("the inner archive's report");
    assert!(
        inner["path"].as_str().unwrap().ends_with("harbor-broken-layer.tgz!harbor/harbor.v2.10.0.tar.gz"),
        "{inner}"
    );
    let f = inner["findings"].as_array().unwrap().iter().find(|f| f["code"] == "diff-id-mismatch").unwrap();
    assert!(f["image"].is_number() && f["layer"].is_number(), "{f}");
    assert!(f["member"].as_str().unwrap().ends_with("layer.tar"), "{f}");
}

#[test]
fn a_bundle_lists_what_else_it_holds() {
    let r = run_json(&["inspect", "--json", fixture("bundles/harbor-offline-installer-v2.10.0.tgz").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.json);
    let bundle = &r.json["inputs"][0];
    let other: Vec<&str> = bundle["other"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
    assert_eq!(
        other,
        ["harbor/LICENSE", "harbor/common.sh", "harbor/harbor.yml.tmpl", "harbor/install.sh", "harbor/prepare"],
        "the scripts, not the image archive"
    );
    assert_eq!(bundle["other_count"], 5);
    // A Zarf package: its metadata and components, not the files of its images/ layout.
    let r = verify(&fixture("bundles/zarf-package-airlock-amd64-0.0.1.tar.zst"), &[]);
    let other: Vec<&str> =
        r.json["inputs"][0]["other"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap()).collect();
    assert_eq!(other, ["checksums.txt", "components/app.tar", "zarf.yaml"]);
    // An image archive is no bundle: neither field is there.
    let r = verify(&fixture("docker-save-multi.tar"), &[]);
    assert!(r.json["inputs"][0].get("other").is_none() && r.json["inputs"][0].get("other_count").is_none());
}

#[test]
fn a_cosign_save_layout_converts_with_its_signature_and_attestation() {
    let d = tempdir();
    let input = fixture("bundles/cosign-save-layout");
    // verify names both, and what they are about.
    let r = verify(&input, &[]);
    let kinds: Vec<(&str, &Value)> = r.json["inputs"][0]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), &a["image"]))
        .collect();
    assert_eq!(kinds, [("signature", &Value::from(0)), ("attestation", &Value::from(0))], "{}", r.json);
    let out = d.path().join("out");
    let (code, stderr) = convert_to(&input, &out, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 artifacts (attestation, signature) carried"), "{stderr}");
    assert_eq!(
        std::fs::read(out.join("index.json")).unwrap(),
        std::fs::read(input.join("index.json")).unwrap(),
        "image, signature and attestation, under the same index bytes"
    );
    assert_eq!(verify(&out, &[]).code, 0);
    // Re-compressed, the image's manifest changes: both stay behind, and convert says why.
    let out = d.path().join("zstd");
    let (code, stderr) = convert_to(&input, &out, &["--to", "oci", "--compression", "zstd"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 artifacts (attestation, signature) of the selected images not carried"), "{stderr}");
    let index: Value = serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

#[test]
fn a_missing_chunk_is_named_when_the_first_chunk_is_given_by_a_bare_name() {
    // `airlock verify haul.tar.zst.001` run where the chunks are: the directory listing that
    // finds later chunks must be this one.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "--json", "-q", "haul.tar.zst.001"])
        .current_dir(fixture("bundles/chunked-broken-gap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&json), ["bundle-file-missing"], "{json}");
    assert_eq!(json["inputs"][0]["findings"][0]["member"], "haul.tar.zst.002");
}
