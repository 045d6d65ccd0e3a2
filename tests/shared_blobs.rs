//! A blob that many images list is read and hashed once (issue 21): verifying 40 images
//! over one shared base layer reads the base's bytes once, in a plain tar and in an OCI
//! layout directory, and the report still gives every image its layers.

mod common;
use common::*;

use airlock::testing::{Depth, Progress};
use std::path::Path;

const IMAGES: usize = 40;

/// A layer tar holding one file of `len` bytes (distinct per `seed`).
fn layer(name: &str, len: usize, seed: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &data[..]).unwrap();
    b.into_inner().unwrap()
}

/// A docker-save archive of `IMAGES` images, each the shared base plus one own layer.
/// Returns the base and the sum of the archive's regular members' sizes.
fn fleet(path: &Path) -> (Vec<u8>, u64) {
    let base = layer("usr/lib/base.so", 512 << 10, 7);
    let mut members = vec![regular(&format!("{}/layer.tar", sha256_hex(&base)), base.clone())];
    let mut manifest = Vec::new();
    for i in 0..IMAGES {
        let own = layer(&format!("app/{i}"), 1000 + i, i as u8);
        let diff_ids: Vec<String> = [&base, &own].iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect();
        let cfg = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux", "config": {"Cmd": [format!("/app/{i}")]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let cfg_name = format!("{}.json", sha256_hex(&cfg));
        let own_path = format!("{}/layer.tar", sha256_hex(&own));
        manifest.push(serde_json::json!({
            "Config": cfg_name, "RepoTags": [format!("fleet/app{i}:1")],
            "Layers": [format!("{}/layer.tar", sha256_hex(&base)), own_path],
        }));
        members.push(regular(&cfg_name, cfg));
        members.push(regular(&own_path, own));
    }
    members.push(regular("manifest.json", serde_json::to_vec(&manifest).unwrap()));
    let stored = members.iter().map(|m| m.data.len() as u64).sum();
    write_tar(path, &members);
    (base, stored)
}

/// Bytes read through the scan pipeline when `input` is opened for verify.
fn bytes_read(input: &Path) -> u64 {
    let progress = Progress::default();
    airlock::testing::read_input(input, Depth::Full, &progress).unwrap();
    progress.done()
}

#[test]
fn a_base_layer_listed_by_40_images_is_read_once() {
    let dir = tempdir();
    let archive = dir.path().join("fleet.tar");
    let (base, stored) = fleet(&archive);
    let listed = stored + (IMAGES as u64 - 1) * base.len() as u64;
    // Every member once: the base's 512 KiB counted once, not 40 times.
    assert_eq!(bytes_read(&archive), stored);
    assert!(listed > 20 * stored / 2, "the images list {listed} bytes, {stored} stored");

    // The same images as an OCI layout (converted by airlock): the base blob is one file.
    let layout = dir.path().join("oci");
    let (code, out) = convert_to(&archive, &layout, &["--to", "oci"]);
    assert_eq!(code, 0, "{out}");
    let files: Vec<u64> = walkdir::WalkDir::new(&layout)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .collect();
    // The base blob, 40 configs, 40 own layers, 40 manifests, index.json, oci-layout.
    assert_eq!(files.len(), 1 + 3 * IMAGES + 2);
    assert_eq!(bytes_read(&layout), files.iter().sum::<u64>());

    // And the report still gives each of the 40 images the shared base as its first layer.
    for input in [&archive, &layout] {
        let run = run_json(&["verify", "--json", input.to_str().unwrap()]);
        let images = run.json["inputs"][0]["images"].as_array().unwrap();
        assert_eq!(images.len(), IMAGES);
        let want = format!("sha256:{}", sha256_hex(&base));
        assert!(images.iter().all(|im| im["layers"][0]["diff_id"] == want.as_str()), "{input:?}");
        assert_eq!(run.json["ok"], true, "{input:?}");
    }
}
