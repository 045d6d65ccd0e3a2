//! Archive-wide checks of an OCI layout's `blobs/`: every blob is what its name says, and
//! blobs nothing refers to are pointed out (`unreferenced-blob`).

use crate::finding::{Code, Finding};
use crate::formats::named_digest;
use crate::model::{Format, Model};
use crate::open::{Catalog, MemberKind};

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
        if oci && !referenced && !crate::formats::is_docker_legacy_json(model, m.scan.as_ref().map(|s| &s.content)) {
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
