//! Step 5 of the flow: compare what the archive says (the model) with what its bytes are
//! (the scans). One module per concern; each pushes findings with stable codes.

mod blobs;
mod config;
pub mod layers;
mod layout;
pub mod platforms;
pub mod tags;

use crate::finding::Finding;
use crate::model::{Image, Model};
use crate::open::Catalog;

/// The images being checked, each with its index in the model (`@N`: what `--image @N`
/// selects, what the report and the findings number it by), in model order.
pub struct Selected<'a> {
    pub images: Vec<(usize, &'a Image)>,
}

impl<'a> Selected<'a> {
    /// The images of `model` at `indexes`.
    pub fn of(model: &'a Model, indexes: &[usize]) -> Selected<'a> {
        Selected { images: indexes.iter().map(|&i| (i, &model.images[i])).collect() }
    }
}

/// Every finding of an input: the archive's, the model's and the checks' of the selected
/// images, errors first, then by image and layer, each once. A document may name one blob
/// several times (a cosign 2 signature manifest lists the same payload once per signing), and
/// each naming is checked; findings identical in every field say nothing more the second time.
pub fn all_findings(catalog: &Catalog, model: &Model, selected: &Selected) -> Vec<Finding> {
    let mut findings = catalog.findings.clone();
    findings.extend(model.findings.iter().cloned());
    findings.extend(run(catalog, model, selected));
    let mut seen = std::collections::HashSet::with_capacity(findings.len());
    findings.retain(|f| seen.insert(f.clone()));
    findings.sort_by_key(|f| (f.severity, f.image, f.layer));
    findings
}

pub fn run(catalog: &Catalog, model: &Model, selected: &Selected) -> Vec<Finding> {
    let mut out = Vec::new();
    blobs::check_documents(catalog, model, &mut out);
    for &(i, image) in &selected.images {
        blobs::check_image(catalog, i, image, &mut out);
        config::check(i, image, &mut out);
        layers::check(catalog, i, image, &mut out);
        tags::check(model, i, image, &mut out);
    }
    tags::conflicts(catalog, model, &selected.images, &mut out);
    layout::check(catalog, model, &mut out);
    platforms::check(model, &mut out);
    out
}

/// Small hand-built inputs for the checks' unit tests (each check module's `mod tests` uses
/// them): members scanned as verify scans them, and images that refer to them.
#[cfg(test)]
mod tests {
    use super::{Selected, all_findings};
    use crate::digest::Digest;
    use crate::finding::{Code, Finding, Severity};
    use crate::model::{BlobRef, ConfigError, Image, ImageConfig, Model, config::HistoryEntry};
    use crate::open::{Catalog, Member, MemberKind};
    use crate::scan::{Depth, DocumentBudget, blob::scan};
    use std::sync::Arc;

    /// A finding as the tests compare it: code, image, layer, member.
    pub(super) type Shape = (Code, Option<usize>, Option<usize>, Option<String>);

    pub(super) fn shapes(out: &[Finding]) -> Vec<Shape> {
        out.iter().map(|f| (f.code, f.image, f.layer, f.member.clone())).collect()
    }

    pub(super) fn at(code: Code, image: Option<usize>, layer: Option<usize>, member: &str) -> Shape {
        (code, image, layer, Some(member.to_string()))
    }

    /// A regular file member holding `bytes`, scanned as verify scans it.
    pub(super) fn put(c: &mut Catalog, path: &str, bytes: &[u8]) {
        let s = scan(bytes, bytes.len() as u64, Depth::Full, &DocumentBudget::new()).unwrap();
        c.insert(path.into(), Member { kind: MemberKind::File, size: bytes.len() as u64, offset: 0, scan: Some(s) });
    }

    /// A member of another kind (a link, a directory).
    pub(super) fn put_kind(c: &mut Catalog, path: &str, kind: MemberKind) {
        c.insert(path.into(), Member { kind, size: 0, offset: 0, scan: None });
    }

    /// A plain layer tar of regular files, names written raw (so `..` survives).
    pub(super) fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_ustar();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    pub(super) fn gzip(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    /// A reference to `member` that claims the digest and size of `bytes` (none if `None`).
    pub(super) fn reference(member: &str, bytes: Option<&[u8]>) -> BlobRef {
        BlobRef {
            member: member.into(),
            digest: bytes.map(Digest::of),
            size: bytes.map(|b| b.len() as u64),
            media_type: None,
            urls: vec![],
            from: Arc::from("manifest.json entry 0"),
        }
    }

    /// A config with these diffIDs and a history of these entries (`true`: an empty layer).
    pub(super) fn config(diff_ids: Vec<Digest>, history: Option<&[bool]>) -> ImageConfig {
        let entry = |&empty_layer: &bool| HistoryEntry { created: None, created_by: None, comment: None, empty_layer };
        ImageConfig {
            os: Some("linux".into()),
            architecture: Some("amd64".into()),
            variant: None,
            diff_ids,
            history: history.map(|h| h.iter().map(entry).collect()),
        }
    }

    pub(super) fn image(config: BlobRef, layers: Vec<BlobRef>, doc: Option<Result<ImageConfig, ConfigError>>) -> Image {
        Image {
            tags: vec![],
            platform: None,
            manifest_digest: None,
            manifest_member: None,
            config,
            layers,
            also: vec![],
            config_doc: doc.map(|d| d.map(Arc::new)),
        }
    }

    /// One image of one layer, every reference right: the catalog, the model, the layer's bytes.
    pub(super) fn one_image() -> (Catalog, Model, Vec<u8>) {
        let layer = layer_tar(&[("etc/motd", b"hello\n")]);
        let cfg_bytes = br#"{"rootfs":{"type":"layers"}}"#;
        let mut c = Catalog::default();
        put(&mut c, "config.json", cfg_bytes);
        put(&mut c, "l0/layer.tar", &layer);
        let cfg = config(vec![Digest::of(&layer)], Some(&[false]));
        let img = image(
            reference("config.json", Some(cfg_bytes)),
            vec![reference("l0/layer.tar", Some(&layer))],
            Some(Ok(cfg)),
        );
        let mut model = Model::default();
        model.images.push(img);
        (c, model, layer)
    }

    #[test]
    fn a_sound_image_has_no_finding() {
        let (c, model, _) = one_image();
        assert_eq!(shapes(&all_findings(&c, &model, &Selected::of(&model, &[0]))), []);
    }

    #[test]
    fn all_findings_puts_errors_first_then_by_image_and_layer() {
        let (mut c, mut model, _) = one_image();
        // A second image whose layer is a JSON document (an error at layer 0 of image 1), an
        // archive-level warning and a model-level error.
        put(&mut c, "l1/layer.tar", b"{}");
        let second = image(reference("config.json", None), vec![reference("l1/layer.tar", None)], None);
        model.images.push(second);
        c.findings.push(Finding::new(Code::UnreferencedBlob, "a warning of the archive").member("x"));
        model.findings.push(Finding::new(Code::ManifestInvalid, "an error of the model").member("manifest.json"));
        let got = all_findings(&c, &model, &Selected::of(&model, &[0, 1]));
        assert_eq!(
            shapes(&got),
            [
                at(Code::ManifestInvalid, None, None, "manifest.json"),
                at(Code::LayerCorrupt, Some(1), Some(0), "l1/layer.tar"),
                at(Code::UnreferencedBlob, None, None, "x"),
            ]
        );
        assert_eq!(
            got.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::Error, Severity::Error, Severity::Warning]
        );
    }

    #[test]
    fn a_finding_identical_in_every_field_is_kept_once() {
        let (mut c, mut model, _) = one_image();
        let twice = Finding::new(Code::BlobSizeMismatch, "declared as 242 bytes, has 8").member("blobs/sha256/a");
        model.findings.extend([twice.clone(), twice.clone()]);
        // The same code and member with another message (another size declared) is kept.
        model
            .findings
            .push(Finding::new(Code::BlobSizeMismatch, "declared as 243 bytes, has 8").member("blobs/sha256/a"));
        c.findings.push(twice.clone());
        let got = all_findings(&c, &model, &Selected::of(&model, &[0]));
        assert_eq!(
            got.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(),
            ["declared as 242 bytes, has 8", "declared as 243 bytes, has 8"]
        );
    }

    #[test]
    fn only_the_selected_images_are_checked() {
        let (mut c, mut model, _) = one_image();
        put(&mut c, "l1/layer.tar", b"{}");
        model.images.push(image(reference("config.json", None), vec![reference("l1/layer.tar", None)], None));
        assert_eq!(shapes(&all_findings(&c, &model, &Selected::of(&model, &[0]))), []);
        assert_eq!(
            shapes(&all_findings(&c, &model, &Selected::of(&model, &[1]))),
            [at(Code::LayerCorrupt, Some(1), Some(0), "l1/layer.tar")]
        );
    }
}
