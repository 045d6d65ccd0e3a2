//! Archives the image/artifact and tag tests build from the fixtures, shared by
//! tests/artifacts.rs, tests/tags.rs and tests/interop.rs (which loads them into the real
//! runtimes).

use super::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Writes `bytes` as a blob of the layout `dir`; its digest and size.
pub fn put(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let hex = sha256_hex(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// The gzip OCI layout's one image, its index entry given `annotations` and its manifest
/// edited by `edit` (the old manifest blob removed): each of these is imported and unpacked
/// as an image by `ctr images import` (tests/interop.rs).
pub fn annotated(d: &Path, annotations: Value, edit: impl FnOnce(&mut Value)) -> std::path::PathBuf {
    let dir = d.join("oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    let (old, _) = first_manifest(&dir);
    rewrite_manifest(&dir, edit);
    if first_manifest(&dir).0 != old {
        std::fs::remove_file(old).unwrap();
    }
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let notes = index["manifests"][0]["annotations"].as_object_mut().unwrap();
    notes.insert("io.containerd.image.name".into(), json!("docker.io/airlock/annotated:1"));
    for (k, v) in annotations.as_object().unwrap() {
        notes.insert(k.clone(), v.clone());
    }
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    dir
}

/// docker-save-multi.tar (the app image, then the tool image) with each entry's RepoTags
/// set by `tags`.
pub fn multi_tagged(d: &Path, name: &str, tags: [&[&str]; 2]) -> PathBuf {
    let mut ms = read_tar(&fixture("docker-save-multi.tar"));
    ms.retain(|m| m.path != "repositories");
    let mut man = json_of(find(&mut ms, "manifest.json"));
    for (e, t) in man.as_array_mut().unwrap().iter_mut().zip(tags) {
        e["RepoTags"] = json!(t);
    }
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
    let p = d.join(name);
    write_tar(&p, &ms);
    p
}

/// docker-save-multi.tar's entry `n` alone, tagged `tag`.
pub fn one_of_multi(d: &Path, name: &str, n: usize, tag: &str) -> PathBuf {
    let mut ms = read_tar(&fixture("docker-save-multi.tar"));
    ms.retain(|m| m.path != "repositories");
    let man = json_of(find(&mut ms, "manifest.json"));
    let mut e = man[n].clone();
    e["RepoTags"] = json!([tag]);
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&json!([e])).unwrap();
    let p = d.join(name);
    write_tar(&p, &ms);
    p
}

/// The gzip OCI layout with a second index entry under the same name, naming another image
/// (the config given a label).
pub fn index_with_two_names(d: &Path) -> PathBuf {
    let dir = d.join("oci");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    let (_, man) = first_manifest(&dir);
    let put = |bytes: &[u8]| put(&dir, bytes);
    let cfg_path =
        dir.join("blobs/sha256").join(man["config"]["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(cfg_path).unwrap()).unwrap();
    cfg["config"]["Labels"]["evil"] = json!("yes");
    let (cd, cs) = put(&serde_json::to_vec(&cfg).unwrap());
    let mut other = man.clone();
    other["config"]["digest"] = json!(cd);
    other["config"]["size"] = json!(cs);
    let (md, ms) = put(&serde_json::to_vec(&other).unwrap());
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let name = json!({"io.containerd.image.name": "docker.io/airlock/dup:1", "org.opencontainers.image.ref.name": "1"});
    index["manifests"][0]["annotations"] = name.clone();
    let second = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "annotations": name});
    index["manifests"].as_array_mut().unwrap().push(second);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    dir
}
