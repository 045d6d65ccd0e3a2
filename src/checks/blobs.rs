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
