//! The one-layer image as an OCI layout in the work area: the form convert reads, so the
//! output in every format comes from convert's own writers.

use crate::convert::target::{OCI_CONFIG, OCI_MANIFEST, layer_media_type};
use crate::digest::Digest;
use crate::model::{Image, reference, select};
use crate::scan::Compression;
use serde_json::{Value, json};
use std::fs;
use std::io;
use std::path::Path;

/// The layer blob, already at `blobs/sha256/<digest>` under `dir`.
pub struct Layer {
    pub diff_id: Digest,
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
}

/// Writes the config, manifest, `index.json` (one entry per tag of `image`, with its
/// platform) and `oci-layout` into `dir`.
pub fn write(dir: &Path, image: &Image, config: &[u8], layer: &Layer) -> io::Result<()> {
    let config_digest = blob(dir, config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest.to_string(), "size": config.len()},
        "layers": [{
            "mediaType": layer_media_type(layer.compression),
            "digest": layer.digest.to_string(),
            "size": layer.size,
        }],
    });
    let manifest = serde_json::to_vec(&manifest).map_err(io::Error::other)?;
    let manifest_digest = blob(dir, &manifest)?;
    let mut base = json!({
        "mediaType": OCI_MANIFEST,
        "digest": manifest_digest.to_string(),
        "size": manifest.len(),
    });
    if let Some(p) = image.platform_or_config() {
        let mut v = json!({"architecture": p.architecture, "os": p.os});
        if let Some(var) = p.variant {
            v["variant"] = json!(var);
        }
        base["platform"] = v;
    }
    let entries = descriptors(&base, &image.tags);
    let index = json!({"schemaVersion": 2, "mediaType": crate::convert::target::OCI_INDEX, "manifests": entries});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).map_err(io::Error::other)?)?;
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
}

/// One descriptor per tag, annotated as convert annotates a tag: a reference that names a
/// repository as containerd's full name (normalised) and its tag as the OCI ref name, a bare
/// tag as the ref name only; one without annotations if untagged.
fn descriptors(base: &Value, tags: &[String]) -> Vec<Value> {
    if tags.is_empty() {
        return vec![base.clone()];
    }
    let mut out = Vec::new();
    for t in tags {
        let annotations = if reference::names_repository(t) {
            let full = select::normalize(t);
            let last = full.rsplit('/').next().unwrap_or(&full);
            let tag = match (full.split_once('@'), last.rsplit_once(':')) {
                (Some((_, d)), _) => d.to_string(),
                (None, Some((_, t))) => t.to_string(),
                (None, None) => "latest".to_string(),
            };
            json!({"io.containerd.image.name": full, "org.opencontainers.image.ref.name": tag})
        } else {
            json!({"org.opencontainers.image.ref.name": t})
        };
        let mut d = base.clone();
        d["annotations"] = annotations;
        out.push(d);
    }
    out
}

fn blob(dir: &Path, bytes: &[u8]) -> io::Result<Digest> {
    let d = Digest::of(bytes);
    let p = dir.join("blobs/sha256").join(d.hex());
    fs::create_dir_all(p.parent().expect("has a parent"))?;
    fs::write(p, bytes)?;
    Ok(d)
}
