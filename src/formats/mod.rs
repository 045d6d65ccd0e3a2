//! The archive and layout formats, one module per family, each both read (catalog → model)
//! and written (convert's documents), sharing one type per document: `docker`
//! (manifest.json, repositories, crane naming, legacy ids), `oci` (index, manifest, one
//! `Descriptor`), `artifacts` (what a manifest that is not an image is), `config` and
//! `runtime` (the image config), `json_keys` (Go's key rules, for every document),
//! `media_types` (the one table), `output` (what each output format holds), `zarf` (the Zarf
//! package's root files and its integrity data).

pub mod artifacts;
pub mod bounded;
pub mod config;
pub mod detect;
pub mod docker;
pub mod json_keys;
pub mod media_types;
pub mod oci;
pub mod output;
pub mod runtime;
pub mod zarf;

pub use docker::is_docker_legacy_json;

use crate::digest::Digest;
use crate::finding::Finding;
use crate::model::{ConfigError, Format, HISTORY_COST, ImageConfig, MAX_MODEL_COST, Model};
use crate::open::Catalog;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Builds the model from a catalog.
pub fn build(catalog: &Catalog) -> Model {
    let mut model = Model::default();
    model.format = detect::detect(catalog);
    match model.format {
        // A broken container, or one not read at all (a split file missing a part), is
        // already reported; "no manifest" would only repeat it.
        None if catalog.findings.iter().any(|f| f.code == crate::finding::Code::ArchiveCorrupt) => {}
        None if catalog.members.is_empty() && catalog.findings.iter().any(Finding::is_error) => {}
        None => model.findings.push(detect::not_an_image(catalog)),
        Some(Format::DockerArchive | Format::CraneTarball) => docker::read(catalog, &mut model),
        Some(Format::DockerOci) => {
            docker::read(catalog, &mut model);
            oci::read::read(catalog, &mut model);
        }
        Some(Format::OciLayout | Format::OciArchive) => oci::read::read(catalog, &mut model),
    }
    for i in 0..model.images.len() {
        let member = model.images[i].config.member.clone();
        model.images[i].config_doc = model.config_of(catalog, &member);
    }
    let mut referenced = BTreeSet::new();
    let refs = model.images.iter().flat_map(|i| i.references().map(|(_, _, b)| &b.member));
    for r in refs.chain(model.documents.iter().map(|d| &d.blob.member)) {
        if let Ok((real, _)) = catalog.resolve(r) {
            referenced.insert(real.to_string());
        }
        referenced.insert(r.clone());
    }
    model.referenced = referenced;
    if model.unlisted > 0 {
        let n = model.unlisted;
        model.findings.push(Finding::new(
            crate::finding::Code::ManifestInvalid,
            format!("{n} more findings about the input's documents are not listed"),
        ));
    }
    model
}

/// What the readers add to the model: Go's key rules, and configs read once.
impl Model {
    /// Refuses a document whose keys Go would read differently (see `json_keys`): `true`
    /// when it is ambiguous, after reporting it.
    fn refuse_ambiguous(&mut self, ambiguous: &[String], member: &str) -> bool {
        let Some(f) = json_keys::finding(ambiguous, member) else {
            return false;
        };
        self.note(f);
        self.ambiguous.push(member.to_string());
        true
    }

    /// The config at `member`, parsed once however many images or manifests refer to it;
    /// `None` if it is not in the archive.
    fn config_of(&mut self, catalog: &Catalog, member: &str) -> Option<Result<Arc<ImageConfig>, ConfigError>> {
        if let Some(c) = self.configs.get(member) {
            return Some(c.clone());
        }
        let parsed = match catalog.document(member) {
            Some(bytes) => match config::parse(bytes) {
                Ok(c) if !self.charge(c.history.as_ref().map_or(0, |h| h.len()) * HISTORY_COST + 2 * c.weight()) => {
                    Err(ConfigError::Invalid(format!(
                        "its history takes the input's documents past the {} MiB airlock models of them",
                        MAX_MODEL_COST >> 20
                    )))
                }
                Ok(c) => Ok(Arc::new(c)),
                Err(e) => Err(e),
            },
            None => Err(ConfigError::Invalid(config::not_a_document(catalog.scan_of(member)?))),
        };
        if matches!(parsed, Err(ConfigError::Ambiguous(_))) {
            self.ambiguous.push(member.to_string());
        }
        self.configs.insert(member.to_string(), parsed.clone());
        Some(parsed)
    }
}

/// The digest a member's own name gives: `blobs/sha256/<hex>`, crane's `sha256:<hex>`,
/// docker's `<hex>.json` config, crane's `<hex>.tar.gz` and skopeo's `<hex>.tar` layers.
pub fn named_digest(member: &str) -> Option<Digest> {
    if let Some(hex) = member.strip_prefix("blobs/sha256/") {
        return Digest::from_hex(hex);
    }
    if member.contains('/') {
        return None;
    }
    let hex = member
        .strip_prefix("sha256:")
        .or_else(|| member.strip_suffix(".json"))
        .or_else(|| member.strip_suffix(".tar.gz"))
        .or_else(|| member.strip_suffix(".tar"))?;
    Digest::from_hex(hex)
}
