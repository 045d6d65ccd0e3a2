//! Archive-wide checks of an OCI layout's `blobs/`: every blob is what its name says, and
//! blobs nothing refers to are pointed out (`unreferenced-blob`).

use crate::finding::{Code, Finding};
use crate::model::{Format, Model, named_digest};
use crate::open::{Catalog, MemberKind};
use crate::scan::Content;

pub fn check(catalog: &Catalog, model: &Model, out: &mut Vec<Finding>) {
    let oci = matches!(model.format, Some(Format::OciLayout | Format::OciArchive | Format::DockerOci));
    for (path, m) in &catalog.members {
        if !matches!(m.kind, MemberKind::File) || !path.starts_with("blobs/") {
            continue;
        }
        let referenced = model.referenced.contains(path);
        // Referenced blobs were checked against their references, with image and layer named.
        if !referenced
            && let (Some(named), Some(got)) = (named_digest(path), m.scan.as_ref().and_then(|s| s.digest))
            && named != got
        {
            out.push(
                Finding::new(
                    Code::BlobDigestMismatch,
                    format!("{path} is named by digest {named}, but hashes to {got}"),
                )
                .member(path.clone()),
            );
        }
        if oci && !referenced && !is_docker_legacy_json(model, m.scan.as_ref().map(|s| &s.content)) {
            out.push(
                Finding::new(
                    Code::UnreferencedBlob,
                    format!("{path} ({} bytes) is not referenced by any index, manifest or manifest.json", m.size),
                )
                .member(path.clone()),
            );
        }
    }
}

/// Docker 25+ stores each layer's legacy v1 `json` as a blob nothing refers to: normal.
pub fn is_docker_legacy_json(model: &Model, content: Option<&Content>) -> bool {
    let Some(Content::Document(doc)) = content else {
        return false;
    };
    if model.format != Some(Format::DockerOci) {
        return false;
    }
    /// The keys that tell a v1 json from an OCI document; nothing else is read or kept.
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<serde::de::IgnoredAny>,
        #[serde(rename = "mediaType")]
        media_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<serde::de::IgnoredAny>,
    }
    let Ok(p) = serde_json::from_slice::<Probe>(&doc[..]) else {
        return false;
    };
    p.id.is_some() && p.media_type.is_none() && p.schema_version.is_none()
}
