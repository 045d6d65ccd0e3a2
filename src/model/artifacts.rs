//! Signatures, attestations and SBOMs that travel beside images in a layout: recognised by
//! their media types and annotations, checked as blobs, never as filesystem layers.
//!
//! | kind | recognised by | written by |
//! |---|---|---|
//! | signature | a layer `application/vnd.dev.cosign.simplesigning.v1+json` | `cosign sign` / `cosign save` |
//! | attestation | a layer `application/vnd.dsse.envelope.v1+json` or `application/vnd.in-toto+json` | `cosign attest`, buildkit |
//! | attestation manifest | annotation `vnd.docker.reference.type: attestation-manifest` | buildkit (`docker buildx --attest`) |
//! | SBOM | a layer `…spdx+json`, `…cyclonedx+json`, or `text/spdx` | `cosign attach sbom`, syft |
//! | Hauler artifact | index annotation `kind` other than an image or image index | hauler (files, charts, sigs, atts, sboms) |

use super::oci::Descriptor;
use crate::digest::Digest;

/// The kind of artifact a manifest is, if airlock knows it.
pub fn kind(layers: &[Descriptor], desc: Option<&Descriptor>) -> Option<&'static str> {
    let note = |k: &str| desc.and_then(|d| d.annotations.as_ref()).and_then(|a| a.get(k)).map(String::as_str);
    if note("vnd.docker.reference.type") == Some("attestation-manifest") {
        return Some("attestation manifest");
    }
    // What the payload is says most; a Hauler or cosign `kind` names the rest.
    let types = || layers.iter().filter_map(|l| l.media_type.as_deref());
    if types().any(|t| t == "application/vnd.dev.cosign.simplesigning.v1+json") {
        return Some("signature");
    }
    if types().any(|t| matches!(t, "application/vnd.dsse.envelope.v1+json" | "application/vnd.in-toto+json")) {
        return Some("attestation");
    }
    if types().any(|t| t.contains("spdx") || t.contains("cyclonedx")) {
        return Some("sbom");
    }
    match note("kind") {
        None
        | Some(
            "dev.hauler/image"
            | "dev.hauler/imageIndex"
            | "dev.cosignproject.cosign/image"
            | "dev.cosignproject.cosign/imageIndex",
        ) => None,
        Some("dev.cosignproject.cosign/sigs" | "dev.hauler/sigs") => Some("signature"),
        Some("dev.cosignproject.cosign/atts" | "dev.hauler/atts") => Some("attestation"),
        Some("dev.cosignproject.cosign/sboms" | "dev.hauler/sboms") => Some("sbom"),
        Some(_) => Some("hauler artifact"),
    }
}

/// A media type a filesystem layer can have (tar, compressed or not, docker or OCI).
pub fn is_layer_type(mt: &str) -> bool {
    mt.contains(".layer.") || mt.contains(".rootfs.") || mt.contains("diff.tar")
}

/// The manifest (or index) an artifact is about, by the first of these it carries:
/// - an OCI 1.1 `subject` descriptor (referrers: `cosign … --registry-referrers-mode`,
///   `oras attach`, notation);
/// - buildkit's `vnd.docker.reference.digest` annotation on its index entry;
/// - cosign's tag scheme in its name, `…:sha256-<hex>.sig` / `.att` / `.sbom` (a Hauler haul's
///   `sigs`, `atts`, `sboms`, and a registry copied by tag).
pub fn subject(manifest: &serde_json::Value, desc: Option<&Descriptor>) -> Option<Digest> {
    if let Some(d) = manifest.get("subject").and_then(|s| s.get("digest")).and_then(|d| d.as_str()) {
        return Digest::parse(d);
    }
    let notes = desc.and_then(|d| d.annotations.as_ref())?;
    if let Some(d) = notes.get("vnd.docker.reference.digest") {
        return Digest::parse(d);
    }
    ["io.containerd.image.name", "org.opencontainers.image.ref.name"]
        .iter()
        .filter_map(|k| notes.get(*k))
        .find_map(|name| cosign_tag_subject(name))
}

/// `sha256-<hex>.sig` (after the last `:` of a full reference) names `sha256:<hex>`.
fn cosign_tag_subject(name: &str) -> Option<Digest> {
    let tag = name.rsplit_once(':').map_or(name, |(_, t)| t);
    let hex = tag.strip_prefix("sha256-")?;
    let hex = hex.strip_suffix(".sig").or_else(|| hex.strip_suffix(".att")).or_else(|| hex.strip_suffix(".sbom"))?;
    Digest::parse(&format!("sha256:{hex}"))
}

/// `cosign save` writes one signed image per layout: index.json entries with the `kind`
/// annotation `dev.cosignproject.cosign/image` (or `imageIndex`) for it, and `…/sigs`,
/// `…/atts`, `…/sboms` for what is about it, with nothing else linking them (sigstore/cosign
/// `pkg/oci/layout/write.go`). Where exactly one image entry is there, the others are about it.
pub fn link_cosign_layout(index_json: &[u8], artifacts: &mut [crate::model::Artifact]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(index_json) else { return };
    let Some(entries) = v.get("manifests").and_then(|m| m.as_array()) else { return };
    fn kind(e: &serde_json::Value) -> Option<&str> {
        e.get("annotations")?.get("kind")?.as_str()
    }
    let signed: Vec<Digest> = entries
        .iter()
        .filter(|e| matches!(kind(e), Some("dev.cosignproject.cosign/image" | "dev.cosignproject.cosign/imageIndex")))
        .filter_map(|e| e.get("digest").and_then(|d| d.as_str()).and_then(Digest::parse))
        .collect();
    let [only] = signed[..] else { return };
    let about: Vec<Digest> = entries
        .iter()
        .filter(|e| {
            matches!(
                kind(e),
                Some(
                    "dev.cosignproject.cosign/sigs"
                        | "dev.cosignproject.cosign/atts"
                        | "dev.cosignproject.cosign/sboms"
                )
            )
        })
        .filter_map(|e| e.get("digest").and_then(|d| d.as_str()).and_then(Digest::parse))
        .collect();
    for a in artifacts.iter_mut().filter(|a| a.subject.is_none() && a.digest.is_some_and(|d| about.contains(&d))) {
        a.subject = Some(only);
    }
}
