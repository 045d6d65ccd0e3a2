//! Signatures, attestations and other artifacts beside images (a `cosign save` layout, a
//! Hauler haul): checked as blobs, never as filesystem layers, and no false alarm.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::Path;

fn put(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let hex = sha256_hex(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// The gzip OCI layout with one more index entry: a manifest of `config_type` whose one
/// layer is `payload` of `layer_type`, annotated with `annotations`.
fn with_artifact(
    d: &Path,
    config_type: &str,
    layer_type: &str,
    payload: &[u8],
    annotations: Value,
) -> std::path::PathBuf {
    let dir = d.join("oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    // cosign's config: an image config whose diff_ids name the payload.
    let cfg = json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers",
        "diff_ids": [format!("sha256:{}", sha256_hex(payload))]}});
    let (cd, cs) = put(&dir, &serde_json::to_vec(&cfg).unwrap());
    let (ld, ls) = put(&dir, payload);
    let man = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": config_type, "digest": cd, "size": cs},
        "layers": [{"mediaType": layer_type, "digest": ld, "size": ls}]});
    let (md, ms) = put(&dir, &serde_json::to_vec(&man).unwrap());
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": annotations}));
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    dir
}

#[test]
fn a_cosign_signature_is_checked_as_blobs_without_a_false_alarm() {
    // cosign borrows the image config type; its "layer" is a JSON payload. Read as an image,
    // that payload was a corrupt layer: an error on a normal signed layout.
    let d = tempdir();
    let payload = br#"{"critical":{"identity":{"docker-reference":"airlock/app"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}"#;
    let dir = with_artifact(
        d.path(),
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        payload,
        json!({"org.opencontainers.image.ref.name": "sha256-b4c3cdf1e7d2.sig"}),
    );
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(codes(&r.json).is_empty(), "{:?}", codes(&r.json));
    assert_eq!(r.json["inputs"][0]["images"].as_array().unwrap().len(), 1, "the signature is not an image");
    // Its blobs are still checked: a changed payload is found.
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let sig = index["manifests"][1]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let sig_man: Value = serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&sig)).unwrap()).unwrap();
    let layer = sig_man["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    std::fs::write(dir.join("blobs/sha256").join(&layer), b"tampered").unwrap();
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 1);
    assert!(codes(&r.json).iter().any(|c| c == "blob-digest-mismatch" || c == "blob-size-mismatch"), "{}", r.json);
}

#[test]
fn attestations_and_hauler_artifacts_are_expected_content() {
    let d = tempdir();
    let att = with_artifact(
        d.path(),
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.dsse.envelope.v1+json",
        br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#,
        json!({}),
    );
    let r = verify(&att, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(codes(&r.json).is_empty(), "{:?}", codes(&r.json));

    let d2 = tempdir();
    let file = with_artifact(
        d2.path(),
        "application/vnd.hauler.cattle.io.config.v1+json",
        "application/vnd.hauler.cattle.io.file.layer.v1",
        b"#!/bin/sh\necho install\n",
        json!({"kind": "dev.hauler/file", "org.opencontainers.image.ref.name": "hauler/install.sh:latest"}),
    );
    let r = verify(&file, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(codes(&r.json).is_empty(), "{:?}", codes(&r.json));
}

#[test]
fn an_unknown_artifact_is_still_pointed_out() {
    let d = tempdir();
    let dir = with_artifact(
        d.path(),
        "application/vnd.example.thing.v1+json",
        "application/octet-stream",
        b"data",
        json!({}),
    );
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(codes(&r.json), ["artifact-skipped"]);
}

#[test]
fn a_haul_without_oci_layout_is_read() {
    // hauler store save --containerd drops oci-layout; manifest.json and index.json remain.
    let d = tempdir();
    let ms: Vec<M> = read_tar(&fixture("ctr-export.tar")).into_iter().filter(|m| m.path != "oci-layout").collect();
    let p = d.path().join("haul.tar");
    write_tar(&p, &ms);
    let r = verify(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    // An OCI archive without manifest.json still needs its oci-layout.
    let ms: Vec<M> =
        read_tar(&fixture("skopeo-oci-archive.tar")).into_iter().filter(|m| m.path != "oci-layout").collect();
    let p = d.path().join("oci.tar");
    write_tar(&p, &ms);
    assert_eq!(verify(&p, &[]).code, 1);
}

/// The image's manifest digest in the gzip layout (what a signature names).
fn image_manifest_digest() -> String {
    let index: Value = serde_json::from_slice(&std::fs::read(fixture("skopeo-oci-gzip/index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"].as_str().unwrap().to_string()
}

fn index_digests(layout: &Path) -> Vec<String> {
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"].as_array().unwrap().iter().map(|m| m["digest"].as_str().unwrap().to_string()).collect()
}

#[test]
fn convert_carries_signatures_and_attestations_with_their_image() {
    let d = tempdir();
    let image = image_manifest_digest();
    // A cosign signature named by cosign's tag scheme, and an in-toto attestation by an OCI
    // 1.1 subject (added to the layout after the signature).
    let tag = format!("docker.io/airlock/app:{}.sig", image.replace(':', "-"));
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"airlock/app"}},"image":{{"docker-manifest-digest":"{image}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    let dir = with_artifact(
        d.path(),
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        payload.as_bytes(),
        json!({"org.opencontainers.image.ref.name": tag}),
    );
    let sig = index_digests(&dir)[1].clone();
    let before = std::fs::read(dir.join("index.json")).unwrap();

    // To an OCI layout: the signature goes along, the index keeps its bytes, output verifies.
    let out = d.path().join("out-oci");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_digests(&out), vec![image.clone(), sig.clone()]);
    assert_eq!(std::fs::read(out.join("index.json")).unwrap(), before, "nothing changed, so the same bytes");
    let r = verify(&out, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(codes(&r.json).is_empty(), "{}", r.json);
    // And to an oci-archive, which umoci/skopeo read as a tar of the same layout.
    let tar = d.path().join("out.tar");
    let (code, stderr) = convert_to(&dir, &tar, &["--to", "oci-archive"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify(&tar, &[]).code, 0);

    // Re-compressed layers change the manifest: the signature would name a digest that is
    // not there, so it stays behind, and convert says so.
    let out = d.path().join("out-zstd");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "oci", "--compression", "zstd"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_digests(&out).len(), 1, "{stderr}");
    assert!(!index_digests(&out).contains(&sig));
    assert!(stderr.contains("1 artifact (signature) of the selected images not carried"), "{stderr}");

    // A docker archive holds images only: said, not silently dropped.
    let out = d.path().join("out.docker.tar");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "docker"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("the docker format holds images only"), "{stderr}");
}

#[test]
fn a_cosign_save_layout_and_an_oci_subject_link_an_artifact_to_its_image() {
    let d = tempdir();
    let image = image_manifest_digest();
    // cosign save: the image entry and the attestation entry carry only `kind`.
    let payload = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
    let dir = with_artifact(
        d.path(),
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.dsse.envelope.v1+json",
        payload,
        json!({"kind": "dev.cosignproject.cosign/atts"}),
    );
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["annotations"] = json!({"kind": "dev.cosignproject.cosign/image"});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let out = d.path().join("out");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_digests(&out).len(), 2, "{stderr}");

    // Without the image's kind, nothing links them: the attestation stays behind.
    index["manifests"][0]["annotations"] = json!({});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let out = d.path().join("out2");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_digests(&out), vec![image.clone()]);

    // An OCI 1.1 `subject` links it, whatever the index says (oras attach, notation).
    let att = index["manifests"][1]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let mut man: Value = serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&att)).unwrap()).unwrap();
    man["subject"] = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image, "size": 1});
    let (md, ms) = put(&dir, &serde_json::to_vec(&man).unwrap());
    index["manifests"][1]["digest"] = json!(md);
    index["manifests"][1]["size"] = json!(ms);
    index["manifests"][1]["annotations"] = json!({});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let out = d.path().join("out3");
    let (code, stderr) = convert_to(&dir, &out, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_digests(&out), vec![image.clone(), md]);
}
