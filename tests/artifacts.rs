//! Signatures, attestations and other artifacts beside images (a `cosign save` layout, a
//! Hauler haul): checked as blobs, never as filesystem layers, and no false alarm.

mod common;
use common::images::{annotated, put};
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

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
    assert_codes(&r, &[], &[]);
    assert_eq!(r.json["inputs"][0]["images"].as_array().unwrap().len(), 1, "the signature is not an image");
    // Its blobs are still checked: a changed payload is found.
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let sig = index["manifests"][1]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let sig_man: Value = serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&sig)).unwrap()).unwrap();
    let layer = sig_man["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    std::fs::write(dir.join("blobs/sha256").join(&layer), b"tampered").unwrap();
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["blob-digest-mismatch", "blob-size-mismatch"], &[]);
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
    assert_codes(&r, &[], &[]);

    let d2 = tempdir();
    let file = with_artifact(
        d2.path(),
        "application/vnd.hauler.cattle.io.config.v1+json",
        "application/vnd.hauler.cattle.io.file.layer.v1",
        b"#!/bin/sh\necho install\n",
        json!({"kind": "dev.hauler/file", "org.opencontainers.image.ref.name": "hauler/install.sh:latest"}),
    );
    let r = verify(&file, &[]);
    assert_codes(&r, &[], &[]);
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
    assert_codes(&r, &[], &[]);
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
    assert_codes(&r, &[], &[]);
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

// ---------------------------------------------------------------------------------------------
// Image or artifact: what the manifest is, never what its annotations say (formats::artifacts)
// ---------------------------------------------------------------------------------------------

fn expected_diff_ids() -> Vec<Value> {
    let exp: Value = serde_json::from_slice(&std::fs::read(fixture("expected/skopeo-oci-gzip.json")).unwrap()).unwrap();
    exp["images"][0]["diff_ids"].as_array().unwrap().clone()
}

/// The cases of issue 14's HIGH-4, and the other things that do not make a manifest an
/// artifact: (what, annotations, manifest edit).
type Case = (&'static str, Value, fn(&mut Value));

fn image_cases() -> Vec<Case> {
    vec![
        ("kind sigs", json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {}),
        ("kind atts", json!({"kind": "dev.cosignproject.cosign/atts"}), |_| {}),
        ("unknown kind", json!({"kind": "dev.example/thing"}), |_| {}),
        (
            "attestation-manifest",
            json!({"vnd.docker.reference.type": "attestation-manifest",
                   "vnd.docker.reference.digest": "sha256:b4c3cdf1e7d27c1a7cd67a816bdb6903f5fc99996279ccd18eb03aed10e17ba5"}),
            |_| {},
        ),
        ("artifactType", json!({}), |m| m["artifactType"] = json!("application/vnd.example.thing+json")),
        ("unknown config type", json!({}), |m| {
            m["config"]["mediaType"] = json!("application/vnd.example.config.v1+json")
        }),
        ("empty config type", json!({}), |m| m["config"]["mediaType"] = json!("application/vnd.oci.empty.v1+json")),
    ]
}

#[test]
fn an_image_is_an_image_whatever_its_annotations_say() {
    for (what, annotations, edit) in image_cases() {
        let d = tempdir();
        let dir = annotated(d.path(), annotations, edit);
        let r = verify(&dir, &[]);
        assert_codes(&r, &[], &[]);
        let input = &r.json["inputs"][0];
        assert_eq!(input["artifacts"], Value::Null, "{what}: not an artifact (none listed)");
        let images = input["images"].as_array().unwrap();
        assert_eq!(images.len(), 1, "{what}: checked as an image");
        let diffs: Vec<Value> = images[0]["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].clone()).collect();
        assert_eq!(diffs, expected_diff_ids(), "{what}: every layer decompressed and its diffID recomputed");
        assert_eq!(images[0]["tags"], json!(["docker.io/airlock/annotated:1"]), "{what}");
    }
}

/// A gzip layer holding one entry named `name`, and its diffID.
fn gzip_layer(name: &str) -> (Vec<u8>, String) {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    {
        let g = h.as_gnu_mut().unwrap();
        g.name = [0; 100];
        g.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    h.set_cksum();
    b.append(&h, &b"evil\n"[..]).unwrap();
    let plain = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    (gz.finish().unwrap(), format!("sha256:{}", sha256_hex(&plain)))
}

#[test]
fn an_annotated_image_has_its_layer_entries_checked() {
    // Before, `kind: …/sigs` made this an artifact: its blobs were hashed, its layer never
    // walked, and `ctr images import` unpacked the escaping entry.
    let d = tempdir();
    let dir = annotated(d.path(), json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {});
    let (blob, diff_id) = gzip_layer("../../etc/cron.d/evil");
    let (ld, ls) = put(&dir, &blob);
    let (_, man) = first_manifest(&dir);
    let cfg_hex = man["config"]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let old_layer = man["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(&cfg_hex)).unwrap()).unwrap();
    cfg["rootfs"]["diff_ids"][0] = json!(diff_id);
    let (cd, cs) = put(&dir, &serde_json::to_vec(&cfg).unwrap());
    let (old, _) = first_manifest(&dir);
    rewrite_manifest(&dir, |m| {
        m["config"]["digest"] = json!(cd);
        m["config"]["size"] = json!(cs);
        m["layers"][0]["digest"] = json!(ld);
        m["layers"][0]["size"] = json!(ls);
    });
    for hex in [cfg_hex, old_layer] {
        std::fs::remove_file(dir.join("blobs/sha256").join(hex)).unwrap();
    }
    std::fs::remove_file(old).unwrap();
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(codes(&r.json), ["unsafe-layer-entry"], "{}", r.json);
}

#[test]
fn a_lock_of_an_annotated_image_pins_it() {
    // Before, a lock of this layout pinned no image, and an EVIL image under the same
    // annotation passed `verify --lock`.
    let d = tempdir();
    let dir = annotated(d.path(), json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {});
    let lock = d.path().join("images.lock");
    let o = airlock(&["lock", "-q", dir.to_str().unwrap(), "-o", lock.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let l: Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
    let exp: Value = serde_json::from_slice(&std::fs::read(fixture("expected/skopeo-oci-gzip.json")).unwrap()).unwrap();
    let ids: Vec<&Value> = l["images"].as_array().unwrap().iter().map(|i| &i["image_id"]).collect();
    assert_eq!(ids, [&exp["images"][0]["image_id"]]);

    // Another image (its config changed) under the same annotation: refused by the lock.
    let d2 = tempdir();
    let evil = annotated(d2.path(), json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {});
    let (_, man) = first_manifest(&evil);
    let cfg_hex = man["config"]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(evil.join("blobs/sha256").join(&cfg_hex)).unwrap()).unwrap();
    cfg["config"]["Entrypoint"] = json!(["/bin/evil"]);
    let (cd, cs) = put(&evil, &serde_json::to_vec(&cfg).unwrap());
    let (old, _) = first_manifest(&evil);
    rewrite_manifest(&evil, |m| {
        m["config"]["digest"] = json!(cd);
        m["config"]["size"] = json!(cs);
    });
    std::fs::remove_file(old).unwrap();
    std::fs::remove_file(evil.join("blobs/sha256").join(cfg_hex)).unwrap();
    let r = verify(&evil, &["--lock", lock.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.json);
    let mut c = codes(&r.json);
    c.sort();
    assert_eq!(c, ["lock-image-missing", "lock-image-unlisted", "lock-tag-mismatch"], "{}", r.json);
}

/// The gzip OCI layout with one more manifest in its index: `config` (bytes and media type)
/// and `layers` (media type, bytes), annotated.
fn with_manifest(
    d: &Path,
    config: (&str, &[u8]),
    layers: &[(&str, &[u8])],
    annotations: Value,
    extra: Value,
) -> PathBuf {
    let dir = d.join("oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    let (cd, cs) = put(&dir, config.1);
    let layers: Vec<Value> = layers
        .iter()
        .map(|(t, b)| {
            let (ld, ls) = put(&dir, b);
            json!({"mediaType": t, "digest": ld, "size": ls})
        })
        .collect();
    let mut man = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": config.0, "digest": cd, "size": cs}, "layers": layers});
    for (k, v) in extra.as_object().unwrap() {
        man[k] = v.clone();
    }
    let (md, ms) = put(&dir, &serde_json::to_vec(&man).unwrap());
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": annotations}));
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    dir
}

#[test]
fn what_no_runtime_unpacks_stays_an_artifact() {
    let image = image_manifest_digest();
    let statement =
        br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}"#;
    // buildkit's attestation manifest: an image config type (with a rootfs), in-toto layers.
    let att_cfg = serde_json::to_vec(&json!({"architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(statement))]}}))
    .unwrap();
    let d = tempdir();
    let dir = with_manifest(
        d.path(),
        ("application/vnd.oci.image.config.v1+json", &att_cfg),
        &[("application/vnd.in-toto+json", statement)],
        json!({"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": image}),
        json!({}),
    );
    let r = verify(&dir, &[]);
    assert_codes(&r, &[], &[]);
    let input = &r.json["inputs"][0];
    assert_eq!(input["images"].as_array().unwrap().len(), 1);
    assert_eq!(input["artifacts"][0]["kind"], "attestation manifest");
    assert_eq!(input["artifacts"][0]["about"], json!(image));

    // An OCI 1.1 artifact as `oras push` writes a file: the empty config `{}`, the file under
    // the default tar layer type. Its config has no rootfs: no runtime unpacks it.
    let d = tempdir();
    let dir = with_manifest(
        d.path(),
        ("application/vnd.oci.empty.v1+json", b"{}"),
        &[("application/vnd.oci.image.layer.v1.tar", b"hello from oras\n")],
        json!({"org.opencontainers.image.ref.name": "hello-file"}),
        json!({"artifactType": "application/vnd.example.file"}),
    );
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(codes(&r.json), ["artifact-skipped"]);
    assert_eq!(r.json["inputs"][0]["images"].as_array().unwrap().len(), 1);
}

#[test]
fn an_image_with_a_payload_layer_among_its_layers() {
    // containerd 1.7 and 2.1 skip layers that are not filesystem layers and unpack the rest:
    // an image, whose other layer fails the checks.
    let d = tempdir();
    let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#;
    let dir = annotated(d.path(), json!({}), |m| {
        let (ld, ls) = (format!("sha256:{}", sha256_hex(statement)), statement.len());
        m["layers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"mediaType": "application/vnd.in-toto+json", "digest": ld, "size": ls}));
    });
    put(&dir, statement);
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let mut c = codes(&r.json);
    c.sort();
    assert_eq!(c, ["history-mismatch", "layer-corrupt", "layer-count-mismatch", "media-type-mismatch"], "{}", r.json);

    // A filesystem layer under a payload's type: no runtime unpacks the image (1.6: "failed to
    // get stream processor"; 1.7, 2.1, docker: "mismatched image rootfs and manifest layers").
    let d = tempdir();
    let dir = annotated(d.path(), json!({}), |m| {
        m["layers"][6]["mediaType"] = json!("application/vnd.in-toto+json");
    });
    let r = verify(&dir, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(codes(&r.json), ["media-type-mismatch"], "{}", r.json);
}

// ---------------------------------------------------------------------------------------------
// convert --force and an artifact that fails its copy: left out whole
// ---------------------------------------------------------------------------------------------

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn hex(digest: &Value) -> String {
    digest.as_str().unwrap().trim_start_matches("sha256:").to_string()
}

/// The blob files of an OCI layout, by hex digest, sorted.
fn blob_files(layout: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Flips a bit of the blob `hex` of the layout: the same size, another digest (the new one).
fn flip_a_bit(layout: &Path, hex: &str) -> String {
    let p = layout.join("blobs/sha256").join(hex);
    let mut b = std::fs::read(&p).unwrap();
    b[10] ^= 1;
    std::fs::write(&p, &b).unwrap();
    format!("sha256:{}", sha256_hex(&b))
}

/// The manifest, config and layer blobs of the image whose manifest is `manifest` (hex).
fn image_blobs(layout: &Path, manifest: &str) -> Vec<String> {
    let m = json_file(&layout.join("blobs/sha256").join(manifest));
    let mut v = vec![manifest.to_string(), hex(&m["config"]["digest"])];
    v.extend(m["layers"].as_array().unwrap().iter().map(|l| hex(&l["digest"])));
    v
}

/// `convert --json IN -o OUT --to oci EXTRA…`.
fn convert_json(input: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["convert", "--json", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--to", "oci"];
    args.extend_from_slice(extra);
    run_json(&args)
}

#[test]
fn convert_force_leaves_an_artifact_that_fails_its_hash_out_whole() {
    // cosign 2's `cosign save`: the image and its signature manifest (config, then 4 layers
    // naming one payload). The payload changed, its size kept: the manifest and config of the
    // signature are copied before the payload is found wrong; before, they stayed in the
    // output, referenced by nothing (verify of the output: unreferenced-blob).
    let d = tempdir();
    let input = d.path().join("in");
    copy_dir(&fixture("signed/cosign2-save"), &input);
    let index = json_file(&input.join("index.json"));
    let (image, sig) = (index["manifests"][0]["digest"].clone(), index["manifests"][1]["digest"].clone());
    let sig_man = json_file(&input.join("blobs/sha256").join(hex(&sig)));
    let payload = hex(&sig_man["layers"][0]["digest"]);
    let got = flip_a_bit(&input, &payload);

    // Without --force: refused, nothing written.
    let out = d.path().join("out");
    let r = convert_json(&input, &out, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(codes_of(&r.json, "error"), ["blob-digest-mismatch"], "{}", r.json);
    assert_eq!(codes_of(&r.json, "warning"), Vec::<String>::new(), "{}", r.json);
    assert!(!out.exists());

    // With --force: the image written, the signature left out whole, and said.
    let r = convert_json(&input, &out, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(codes_of(&r.json, "error"), ["blob-digest-mismatch"], "{}", r.json);
    assert_eq!(codes_of(&r.json, "warning"), Vec::<String>::new(), "{}", r.json);
    let note = format!(
        "signature {sig} (blobs/sha256/{sig_hex}) about image @0 <untagged> (manifest {image}) is not carried: its member blobs/sha256/{payload} hashes to {got}, not sha256:{payload}",
        sig = sig.as_str().unwrap(),
        sig_hex = hex(&sig),
        image = image.as_str().unwrap(),
    );
    assert_eq!(r.json["notes"], json!([note]), "{}", r.json);
    assert_eq!(index_digests(&out), [image.as_str().unwrap()]);
    let mut want = image_blobs(&input, &hex(&image));
    want.sort();
    assert_eq!(blob_files(&out), want, "only the image's blobs");
    let v = verify(&out, &[]);
    assert_codes(&v, &[], &[]);
}

#[test]
fn a_payload_named_four_times_is_one_finding() {
    // cosign 2 adds a layer naming the same payload at each signing: the fixture's signature
    // manifest names it 4 times. A flipped bit in it is one finding, not one per naming.
    let d = tempdir();
    let input = d.path().join("in");
    copy_dir(&fixture("signed/cosign2-save"), &input);
    let index = json_file(&input.join("index.json"));
    let sig_man = json_file(&input.join("blobs/sha256").join(hex(&index["manifests"][1]["digest"])));
    let named: Vec<String> = sig_man["layers"].as_array().unwrap().iter().map(|l| hex(&l["digest"])).collect();
    let payload = named[0].clone();
    assert_eq!(named, vec![payload.clone(); 4], "the fixture names one payload 4 times");
    flip_a_bit(&input, &payload);
    let v = verify(&input, &[]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    let member = format!("blobs/sha256/{payload}");
    let path = input.to_str().unwrap();
    assert_eq!(all_findings(&v.json), want_findings(&[(path, "error", "blob-digest-mismatch", &member)]), "{}", v.json);
}

#[test]
fn convert_force_carries_the_other_artifacts_of_the_image() {
    // cosign 3 signatures copied by `oras copy -r`: 4 referrers of the image, each an empty
    // config (the same 2-byte blob in all four) and a bundle. One bundle changed: that
    // referrer is left out, the other three go along, and the config they share with it is
    // still written.
    let d = tempdir();
    let input = d.path().join("in");
    copy_dir(&fixture("signed/cosign3-oras"), &input);
    let index = json_file(&input.join("index.json"));
    let entries = index["manifests"].as_array().unwrap();
    let image = entries[0]["digest"].clone();
    let broken = entries[1]["digest"].clone();
    let bundle = hex(&json_file(&input.join("blobs/sha256").join(hex(&broken)))["layers"][0]["digest"]);
    let got = flip_a_bit(&input, &bundle);

    let out = d.path().join("out");
    let r = convert_json(&input, &out, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(codes_of(&r.json, "error"), ["blob-digest-mismatch"], "{}", r.json);
    assert!(!out.exists());

    let r = convert_json(&input, &out, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(codes_of(&r.json, "error"), ["blob-digest-mismatch"], "{}", r.json);
    assert_eq!(codes_of(&r.json, "warning"), Vec::<String>::new(), "{}", r.json);
    let note = format!(
        "signature {b} (blobs/sha256/{b_hex}) about image @0 {name} (manifest {image}) is not carried: its member blobs/sha256/{bundle} hashes to {got}, not sha256:{bundle}",
        name = entries[0]["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap(),
        b = broken.as_str().unwrap(),
        b_hex = hex(&broken),
        image = image.as_str().unwrap(),
    );
    assert_eq!(
        r.json["notes"],
        json!([note, "3 artifacts (signature) carried with the image, byte for byte"]),
        "{}",
        r.json
    );
    let kept: Vec<&Value> = entries.iter().map(|e| &e["digest"]).filter(|d| **d != broken).collect();
    assert_eq!(index_digests(&out), kept.iter().map(|d| d.as_str().unwrap()).collect::<Vec<_>>());
    let mut want = image_blobs(&input, &hex(&image));
    for d in &kept[1..] {
        want.extend(image_blobs(&input, &hex(d)));
    }
    want.sort();
    want.dedup();
    assert_eq!(blob_files(&out), want, "the image's blobs and the three referrers'");
    let v = verify(&out, &[]);
    assert_codes(&v, &[], &[]);
}
