//! Every reference resolves to a file whose sha256 and size are what the reference says:
//! `blob-missing`, `blob-digest-mismatch`, `blob-size-mismatch`, `unsafe-path` (a link out
//! of the archive), `foreign-layer`.

use crate::finding::{Code, Finding};
use crate::model::{BlobRef, Image, Model, Role};
use crate::open::{Catalog, Unresolved};

pub fn check_documents(catalog: &Catalog, model: &Model, out: &mut Vec<Finding>) {
    for d in &model.documents {
        check_ref(catalog, d.role, None, None, &d.blob, out);
    }
}

pub fn check_image(catalog: &Catalog, i: usize, image: &Image, out: &mut Vec<Finding>) {
    for (role, layer, blob) in image.references() {
        check_ref(catalog, role, Some(i), layer, blob, out);
    }
}

fn what(role: Role, layer: Option<usize>) -> String {
    match (role, layer) {
        (Role::Layer, Some(l)) => format!("layer {l}"),
        (Role::Config, _) => "the config".into(),
        (Role::Index, _) => "index".into(),
        (Role::Manifest, _) => "manifest".into(),
        (Role::Layer, None) => "layer".into(),
    }
}

fn check_ref(
    catalog: &Catalog,
    role: Role,
    image: Option<usize>,
    layer: Option<usize>,
    blob: &BlobRef,
    out: &mut Vec<Finding>,
) {
    let at = |f: Finding| {
        let f = f.member(blob.member.clone());
        let f = if let Some(i) = image { f.image(i) } else { f };
        if let Some(l) = layer { f.layer(l) } else { f }
    };
    let subject = what(role, layer);
    let from = &blob.from;
    let member = &blob.member;
    let scan = match catalog.resolve(member) {
        Ok((_, m)) => m.scan.as_ref(),
        Err(Unresolved::Missing(_)) if role == Role::Layer && !blob.urls.is_empty() => {
            out.push(at(Finding::new(
                Code::ForeignLayer,
                format!("{subject} ({from}) is a non-distributable layer to be fetched from {}; it is not in the archive and airlock never fetches it", blob.urls.join(", ")),
            )));
            return;
        }
        Err(Unresolved::Missing(p)) => {
            let via = if &p == member { String::new() } else { format!(" (a link leads to {p:?})") };
            out.push(at(Finding::new(
                Code::BlobMissing,
                format!("{subject} ({from}) is {member}, which is not in the archive{via}"),
            )));
            return;
        }
        Err(Unresolved::Escapes(why)) => {
            out.push(at(Finding::new(
                Code::UnsafePath,
                format!("{subject} ({from}) is reached through a link outside the archive: {why}"),
            )));
            return;
        }
        Err(Unresolved::NotAFile(p)) => {
            out.push(at(Finding::new(
                Code::BlobMissing,
                format!("{subject} ({from}) is {p}, which is a directory or device, not a file"),
            )));
            return;
        }
        Err(Unresolved::LinkLoop) => {
            out.push(at(Finding::new(
                Code::BlobMissing,
                format!("{subject} ({from}) is {member}, a chain of links that never reaches a file"),
            )));
            return;
        }
    };
    let Some(scan) = scan else { return };
    if let (Some(want), Some(got)) = (blob.digest, scan.digest)
        && want != got
    {
        out.push(at(Finding::new(
            Code::BlobDigestMismatch,
            format!("{subject} ({from}) should be {want}, but {member} hashes to {got}"),
        )));
    }
    if let Some(want) = blob.size
        && want != scan.size
    {
        out.push(at(Finding::new(
            Code::BlobSizeMismatch,
            format!("{subject} ({from}) is declared as {want} bytes, but {member} has {} bytes", scan.size),
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{at, image, put, put_kind, reference, shapes};
    use crate::model::Reference;
    use crate::open::MemberKind;

    fn run_image(c: &Catalog, img: &Image) -> Vec<crate::checks::tests::Shape> {
        let mut out = Vec::new();
        check_image(c, 3, img, &mut out);
        shapes(&out)
    }

    #[test]
    fn a_reference_to_the_right_bytes_is_sound() {
        let mut c = Catalog::default();
        put(&mut c, "cfg", b"{}");
        assert_eq!(run_image(&c, &image(reference("cfg", Some(b"{}")), vec![], None)), []);
        // No claim of digest or size: nothing to compare.
        assert_eq!(run_image(&c, &image(reference("cfg", None), vec![], None)), []);
    }

    #[test]
    fn wrong_digest_and_size_are_two_findings_at_the_image_and_layer() {
        let mut c = Catalog::default();
        put(&mut c, "cfg", b"{}");
        put(&mut c, "l0", b"{\"a\":1}");
        let img = image(reference("cfg", Some(b"{}")), vec![reference("l0", Some(b"{}"))], None);
        assert_eq!(
            run_image(&c, &img),
            [at(Code::BlobDigestMismatch, Some(3), Some(0), "l0"), at(Code::BlobSizeMismatch, Some(3), Some(0), "l0")]
        );
        // Same size, other bytes: the digest alone.
        put(&mut c, "l0", b"{\"a\":2}");
        let img = image(reference("cfg", None), vec![reference("l0", Some(b"{\"a\":1}"))], None);
        assert_eq!(run_image(&c, &img), [at(Code::BlobDigestMismatch, Some(3), Some(0), "l0")]);
    }

    #[test]
    fn missing_and_unreachable_members() {
        let mut c = Catalog::default();
        put_kind(&mut c, "dir", MemberKind::Dir);
        put_kind(&mut c, "out", MemberKind::Symlink("../../etc/passwd".into()));
        put_kind(&mut c, "loop-a", MemberKind::Symlink("loop-b".into()));
        put_kind(&mut c, "loop-b", MemberKind::Symlink("loop-a".into()));
        put_kind(&mut c, "dangling", MemberKind::Symlink("nowhere".into()));
        let img = image(
            reference("absent", None),
            ["dir", "out", "loop-a", "dangling"].iter().map(|m| reference(m, None)).collect(),
            None,
        );
        assert_eq!(
            run_image(&c, &img),
            [
                at(Code::BlobMissing, Some(3), None, "absent"),
                at(Code::BlobMissing, Some(3), Some(0), "dir"),
                at(Code::UnsafePath, Some(3), Some(1), "out"),
                at(Code::BlobMissing, Some(3), Some(2), "loop-a"),
                at(Code::BlobMissing, Some(3), Some(3), "dangling"),
            ]
        );
    }

    #[test]
    fn a_missing_layer_with_urls_is_foreign_a_missing_config_with_urls_is_not() {
        let c = Catalog::default();
        let mut foreign = reference("win.tar", None);
        foreign.urls = vec!["https://example.invalid/win.tar".into()];
        let mut cfg = reference("cfg", None);
        cfg.urls = foreign.urls.clone();
        assert_eq!(
            run_image(&c, &image(cfg, vec![foreign], None)),
            [at(Code::BlobMissing, Some(3), None, "cfg"), at(Code::ForeignLayer, Some(3), Some(0), "win.tar")]
        );
        assert_eq!(Code::ForeignLayer.severity(), crate::finding::Severity::Warning);
    }

    #[test]
    fn documents_are_named_without_an_image() {
        let mut c = Catalog::default();
        put(&mut c, "blobs/sha256/aa", b"{}");
        let mut model = Model::default();
        for (member, claims) in [("blobs/sha256/aa", &b"[]"[..]), ("blobs/sha256/bb", b"{}")] {
            model.documents.push(Reference {
                role: Role::Manifest,
                blob: reference(member, Some(claims)),
                image: None,
                layer: None,
            });
        }
        let mut out = Vec::new();
        check_documents(&c, &model, &mut out);
        assert_eq!(
            shapes(&out),
            [
                (Code::BlobDigestMismatch, None, None, Some("blobs/sha256/aa".into())),
                (Code::BlobMissing, None, None, Some("blobs/sha256/bb".into()))
            ]
        );
    }
}
