//! Images and artifacts. A manifest in an index is an **image** when a runtime would load it
//! as one, decided from what the manifest *is*, never from its annotations; any other
//! manifest is an **artifact**: a signature, attestation, SBOM or file that travels beside
//! images, whose blobs are checked as blobs, never as filesystem layers.
//!
//! The rule ([`is_image`]): a manifest is an image when its config has a `rootfs` (or its
//! config cannot be read, which fails closed), and it has no layers or at least one layer of
//! a filesystem layer media type (containerd's `images.IsLayerType`: `application/vnd.oci.image.layer.*`,
//! docker's `…rootfs.diff.tar[.gzip|.zstd]` and foreign variants; a layer without a media
//! type counts as one). Annotations (`kind`, `vnd.docker.reference.type`), `artifactType`
//! and the config's media type do not enter into it. Measured (tests/interop.rs): `ctr
//! images import` 1.6, 1.7 and 2.1 and `docker load` 28 with the containerd store import an
//! image annotated `kind: dev.cosignproject.cosign/sigs`, any other `kind`, or
//! `vnd.docker.reference.type: attestation-manifest`, with an `artifactType`, or with its
//! config labelled `application/vnd.example…` or `application/vnd.oci.empty.v1+json`,
//! under its ref name and unpack it (1.6 and 1.7 whatever the config's media type; 2.1
//! unpacks image config types only, docker 28 runs the others); they unpack no manifest
//! whose layers are all of other types (cosign's simplesigning, in-toto, DSSE payloads:
//! "failed to get stream processor" in 1.6, "mismatched image rootfs and manifest layers"
//! in 1.7 and docker, not unpacked by 2.1), nor one whose config has no `rootfs` (`{}`, an
//! OCI 1.1 artifact). 1.7, 2.1 and docker 28 skip layers of other types and unpack the
//! rest, so a manifest with both kinds is an image too (its other layers then fail the
//! checks: fail closed).
//!
//! What an artifact is, for the report:
//!
//! | kind | recognised by | written by |
//! |---|---|---|
//! | signature | a layer `application/vnd.dev.cosign.simplesigning.v1+json` | `cosign sign` / `cosign save` |
//! | signature (or attestation) | a layer `application/vnd.dev.sigstore.bundle.v0.*+json`; an attestation when the manifest's `dev.sigstore.bundle.predicateType` is not `https://sigstore.dev/cosign/sign/v1` | cosign 3 `sign` / `attest` (OCI 1.1 referrers) |
//! | attestation | a layer `application/vnd.dsse.envelope.v1+json` or `application/vnd.in-toto+json` | `cosign attest`, buildkit |
//! | attestation manifest | annotation `vnd.docker.reference.type: attestation-manifest` | buildkit (`docker buildx --attest`) |
//! | SBOM | a layer `…spdx+json`, `…cyclonedx+json`, or `text/spdx` | `cosign attach sbom`, syft |
//! | Hauler artifact | index annotation `kind` other than an image or image index | hauler (files, charts, sigs, atts, sboms) |

use super::oci::{Descriptor, Notes, Subject};
use crate::digest::Digest;
use crate::formats::media_types;
use crate::model::{BlobRef, ConfigError, Model};
use crate::open::Catalog;

/// Whether a manifest is an image (see the module documentation); `config` is its config
/// reference, `layers` its layer descriptors.
pub fn is_image(catalog: &Catalog, model: &mut Model, config: &BlobRef, layers: &[Descriptor]) -> bool {
    let unpacks = layers.is_empty() || layers.iter().any(|l| l.media_type.as_deref().is_none_or(media_types::is_layer));
    unpacks && !matches!(model.config_of(catalog, &config.member), Some(Err(ConfigError::NoRootfs)))
}

/// The kind of artifact a manifest that is not an image is, if airlock knows it.
pub fn kind(layers: &[Descriptor], desc: Option<&Descriptor>, own: &Notes) -> Option<&'static str> {
    let notes = desc.map(|d| &d.annotations);
    if notes.and_then(|n| n.reference_type.as_deref()) == Some("attestation-manifest") {
        return Some("attestation manifest");
    }
    // What the payload is says most; a Hauler or cosign `kind` names the rest.
    let types = || layers.iter().filter_map(|l| l.media_type.as_deref());
    if types().any(|t| t == media_types::COSIGN_SIMPLE_SIGNING) {
        return Some("signature");
    }
    // cosign 3: a sigstore bundle, a signature unless its predicate type says otherwise.
    if types().any(media_types::is_sigstore_bundle) {
        return match own.predicate_type.as_deref() {
            None | Some("https://sigstore.dev/cosign/sign/v1") => Some("signature"),
            Some(_) => Some("attestation"),
        };
    }
    if types().any(|t| t == media_types::DSSE_ENVELOPE || t == media_types::IN_TOTO) {
        return Some("attestation");
    }
    if types().any(|t| t.contains("spdx") || t.contains("cyclonedx")) {
        return Some("sbom");
    }
    match notes.and_then(|n| n.kind.as_deref()) {
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

/// The manifest (or index) an artifact is about, by the first of these it carries:
/// - an OCI 1.1 `subject` descriptor (referrers: `cosign … --registry-referrers-mode`,
///   `oras attach`, notation);
/// - buildkit's `vnd.docker.reference.digest` annotation on its index entry;
/// - cosign's tag scheme in its name, `…:sha256-<hex>.sig` / `.att` / `.sbom` (a Hauler haul's
///   `sigs`, `atts`, `sboms`, and a registry copied by tag).
pub fn subject(subject: Option<&Subject>, desc: Option<&Descriptor>) -> Option<Digest> {
    if let Some(d) = subject.and_then(|s| s.digest.as_deref()) {
        return Digest::parse(d);
    }
    let notes = &desc?.annotations;
    if let Some(d) = &notes.reference_digest {
        return Digest::parse(d);
    }
    [&notes.image_name, &notes.ref_name].into_iter().flatten().find_map(|name| cosign_tag_subject(name))
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
pub fn link_cosign_layout(top: &[(Option<String>, String)], artifacts: &mut [crate::model::Artifact]) {
    let kind = |k: &Option<String>| k.as_deref().map(str::to_string);
    let signed: Vec<Digest> = top
        .iter()
        .filter(|(k, _)| {
            matches!(k.as_deref(), Some("dev.cosignproject.cosign/image" | "dev.cosignproject.cosign/imageIndex"))
        })
        .filter_map(|(_, d)| Digest::parse(d))
        .collect();
    let [only] = signed[..] else { return };
    let about: Vec<Digest> = top
        .iter()
        .filter(|(k, _)| {
            matches!(
                kind(k).as_deref(),
                Some(
                    "dev.cosignproject.cosign/sigs"
                        | "dev.cosignproject.cosign/atts"
                        | "dev.cosignproject.cosign/sboms"
                )
            )
        })
        .filter_map(|(_, d)| Digest::parse(d))
        .collect();
    for a in artifacts.iter_mut().filter(|a| a.subject.is_none() && a.digest.is_some_and(|d| about.contains(&d))) {
        a.subject = Some(only);
    }
}
