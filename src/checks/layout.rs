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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{put, shapes};
    use crate::digest::Digest;

    fn blob_path(bytes: &[u8]) -> String {
        format!("blobs/sha256/{}", Digest::of(bytes).hex())
    }

    fn run(format: Format, referenced: &[&str]) -> Vec<(Code, Option<String>)> {
        let mut c = Catalog::default();
        put(&mut c, &blob_path(b"{}"), b"{}");
        // Named for other bytes than it holds.
        put(&mut c, &blob_path(b"[]"), b"{\"x\":1}");
        put(&mut c, "other/file", b"{}");
        let mut model = Model::default();
        model.format = Some(format);
        model.referenced = referenced.iter().map(|r| r.to_string()).collect();
        let mut out = Vec::new();
        check(&c, &model, &mut out);
        shapes(&out).into_iter().map(|(code, _, _, m)| (code, m)).collect()
    }

    #[test]
    fn blobs_nothing_refers_to_in_an_oci_layout() {
        let (good, bad) = (blob_path(b"{}"), blob_path(b"[]"));
        // Sorted by path; the misnamed one is also an error. Outside blobs/: not looked at.
        let mut want = vec![
            (Code::UnreferencedBlob, Some(good.clone())),
            (Code::BlobDigestMismatch, Some(bad.clone())),
            (Code::UnreferencedBlob, Some(bad.clone())),
        ];
        if bad < good {
            want.rotate_left(1);
        }
        assert_eq!(run(Format::OciLayout, &[]), want);
        // Referenced blobs were checked against their references: nothing here.
        assert_eq!(run(Format::OciArchive, &[&good, &bad]), []);
    }

    #[test]
    fn a_docker_archive_has_no_unreferenced_blobs_but_misnamed_ones_still_count() {
        let bad = blob_path(b"[]");
        assert_eq!(run(Format::DockerArchive, &[]), [(Code::BlobDigestMismatch, Some(bad.clone()))]);
        assert_eq!(run(Format::CraneTarball, &[]), [(Code::BlobDigestMismatch, Some(bad))]);
    }
}
