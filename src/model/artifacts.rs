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

/// The kind of artifact a manifest is, if airlock knows it.
pub fn kind(layers: &[Descriptor], desc: Option<&Descriptor>) -> Option<&'static str> {
    let note = |k: &str| desc.and_then(|d| d.annotations.as_ref()).and_then(|a| a.get(k)).map(String::as_str);
    if note("vnd.docker.reference.type") == Some("attestation-manifest") {
        return Some("attestation manifest");
    }
    if let Some(k) = note("kind")
        && !matches!(
            k,
            "dev.hauler/image"
                | "dev.hauler/imageIndex"
                | "dev.cosignproject.cosign/image"
                | "dev.cosignproject.cosign/imageIndex"
        )
    {
        return Some("hauler artifact");
    }
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
    None
}

/// A media type a filesystem layer can have (tar, compressed or not, docker or OCI).
pub fn is_layer_type(mt: &str) -> bool {
    mt.contains(".layer.") || mt.contains(".rootfs.") || mt.contains("diff.tar")
}
