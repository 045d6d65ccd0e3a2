//! Step 3 of the flow: the image model. What the archive *says*: images, their tags,
//! platforms, manifests, configs and layers, each as a reference to an archive member.
//! Nothing here compares bytes with claims; that is the checks' work.

pub mod artifacts;
pub mod config;
mod detect;
pub(crate) mod docker;
pub mod json_keys;
pub(crate) mod oci;
pub mod platform;
pub mod reference;
pub mod select;

pub use config::ImageConfig;
pub use detect::{Format, is_docker_legacy_json};
pub use platform::Platform;

use crate::digest::Digest;
use crate::finding::Finding;
use crate::open::Catalog;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A reference from a document to a member, with what the reference claims about it.
#[derive(Debug, Clone)]
pub struct BlobRef {
    /// Normalised archive path.
    pub member: String,
    /// The digest the reference gives, or the one the member's name gives.
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    pub media_type: Option<String>,
    /// A non-distributable layer's download locations (never fetched).
    pub urls: Vec<String>,
    /// Who refers to it, for messages: "manifest.json entry 0", "index.json".
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Index,
    Manifest,
    Config,
    Layer,
}

/// A reference that belongs to an image (its config or a layer), or to no image (an index).
#[derive(Debug, Clone)]
pub struct Reference {
    pub role: Role,
    pub blob: BlobRef,
    pub image: Option<usize>,
    pub layer: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub tags: Vec<String>,
    /// The platform an index declares for this image.
    pub platform: Option<Platform>,
    pub manifest_digest: Option<Digest>,
    pub manifest_member: Option<String>,
    pub config: BlobRef,
    pub layers: Vec<BlobRef>,
    /// The same config and layers, referenced again by another document (Docker 25+ archives
    /// describe each image in manifest.json and in index.json); all are checked.
    pub also: Vec<(Role, Option<usize>, BlobRef)>,
    /// The parsed config, or why it could not be parsed; `None` if it is not in the archive.
    pub config_doc: Option<Result<ImageConfig, String>>,
}

impl Image {
    /// Every reference this image makes, for the blob checks.
    pub fn references(&self) -> impl Iterator<Item = (Role, Option<usize>, &BlobRef)> {
        std::iter::once((Role::Config, None, &self.config))
            .chain(self.layers.iter().enumerate().map(|(i, l)| (Role::Layer, Some(i), l)))
            .chain(self.also.iter().map(|(r, l, b)| (*r, *l, b)))
    }

    pub fn config_digest(&self) -> Option<Digest> {
        self.config.digest
    }
}

#[derive(Debug, Default)]
pub struct Model {
    pub format: Option<Format>,
    pub images: Vec<Image>,
    /// Index and manifest documents followed from index.json.
    pub documents: Vec<Reference>,
    /// Members some document refers to (after following links).
    pub referenced: BTreeSet<String>,
    pub findings: Vec<Finding>,
    /// Platforms an index lists whose manifest is not in the archive: a partial
    /// multi-platform export (`ctr images export`, `docker save --platform`), normal.
    pub absent: Vec<AbsentPlatform>,
    /// Signatures, attestations and other artifacts read from the indexes.
    pub artifacts: Vec<Artifact>,
    /// Documents whose keys Go reads differently from airlock (`json_keys`): reported as
    /// errors and never carried by convert, `--force` or not.
    pub ambiguous: Vec<String>,
    /// (config member, layer members) → index in `images`, to merge the same image read from
    /// two documents.
    image_keys: HashMap<(String, Vec<String>), usize>,
    /// Per image, its tags normalised, and the references already recorded: merging stays
    /// O(1) per tag and per reference however often an archive repeats an image.
    tag_keys: HashMap<usize, HashSet<String>>,
    ref_keys: HashSet<RefKey>,
}

/// A signature, attestation, SBOM or other artifact manifest read from an index, and the
/// manifest (or index) it is about, where it says so (`artifacts::subject`).
#[derive(Debug, Clone)]
pub struct Artifact {
    /// "signature", "attestation", "sbom", "attestation manifest", "hauler artifact", "artifact".
    pub kind: String,
    /// Its manifest's member and digest.
    pub member: String,
    pub digest: Option<Digest>,
    pub subject: Option<Digest>,
    /// Its config and layer blobs.
    pub blobs: Vec<BlobRef>,
}

/// A platform an index lists, whose manifest blob the archive does not hold.
#[derive(Debug, Clone)]
pub struct AbsentPlatform {
    pub platform: Platform,
    pub digest: Digest,
    /// The index that lists it.
    pub index: String,
}

/// What makes two references to a blob the same claim (who makes it aside).
#[derive(Debug, PartialEq, Eq, Hash)]
struct RefKey {
    image: usize,
    layer: Option<usize>,
    member: String,
    digest: Option<Digest>,
    size: Option<u64>,
    media_type: Option<String>,
}

impl RefKey {
    fn of(image: usize, layer: Option<usize>, b: &BlobRef) -> RefKey {
        RefKey {
            image,
            layer,
            member: b.member.clone(),
            digest: b.digest,
            size: b.size,
            media_type: b.media_type.clone(),
        }
    }
}

/// Builds the model from a catalog.
pub fn build(catalog: &Catalog) -> Model {
    let mut model = Model { format: detect::detect(catalog), ..Model::default() };
    match model.format {
        // A broken container, or one not read at all (a split file missing a part), is
        // already reported; "no manifest" would only repeat it.
        None if catalog.findings.iter().any(|f| f.code == crate::finding::Code::ArchiveCorrupt) => {}
        None if catalog.members.is_empty() && catalog.findings.iter().any(Finding::is_error) => {}
        None => model.findings.push(detect::not_an_image(catalog)),
        Some(Format::DockerArchive | Format::CraneTarball) => docker::read(catalog, &mut model),
        Some(Format::DockerOci) => {
            docker::read(catalog, &mut model);
            oci::read(catalog, &mut model);
        }
        Some(Format::OciLayout | Format::OciArchive) => oci::read(catalog, &mut model),
    }
    for image in &mut model.images {
        image.config_doc = catalog
            .document(&image.config.member)
            .map(config::parse)
            .or_else(|| catalog.scan_of(&image.config.member).map(|s| Err(config::not_a_document(s))));
        if let Some(Err(why)) = &image.config_doc
            && why.starts_with(config::AMBIGUOUS)
        {
            model.ambiguous.push(image.config.member.clone());
        }
    }
    let refs: Vec<String> = model
        .images
        .iter()
        .flat_map(|i| i.references().map(|(_, _, b)| b.member.clone()).collect::<Vec<_>>())
        .chain(model.documents.iter().map(|d| d.blob.member.clone()))
        .collect();
    for r in refs {
        if let Ok((real, _)) = catalog.resolve(&r) {
            model.referenced.insert(real.to_string());
        }
        model.referenced.insert(r);
    }
    model
}

impl Model {
    /// Refuses a document whose keys Go would read differently (see `json_keys`): `true`
    /// when it is ambiguous, after reporting it.
    fn refuse_ambiguous(&mut self, bytes: &[u8], shape: &json_keys::Shape, member: &str) -> bool {
        let Some(f) = json_keys::finding(bytes, shape, member) else {
            return false;
        };
        self.findings.push(f);
        self.ambiguous.push(member.to_string());
        true
    }

    /// Adds an image, or merges it into an identical one already read from another document;
    /// returns its index.
    fn add_image(&mut self, image: Image) -> usize {
        let key = (image.config.member.clone(), image.layers.iter().map(|l| l.member.clone()).collect::<Vec<_>>());
        let Some(&at) = self.image_keys.get(&key) else {
            let at = self.images.len();
            self.image_keys.insert(key, at);
            self.ref_keys.insert(RefKey::of(at, None, &image.config));
            for (l, b) in image.layers.iter().enumerate() {
                self.ref_keys.insert(RefKey::of(at, Some(l), b));
            }
            let tags = image.tags.clone();
            self.images.push(image);
            for t in tags {
                self.tag_keys.entry(at).or_default().insert(reference::normalize(&t));
            }
            return at;
        };
        self.add_tags(at, image.tags);
        let existing = &mut self.images[at];
        if existing.manifest_digest.is_none() {
            existing.manifest_digest = image.manifest_digest;
            existing.manifest_member = image.manifest_member;
        }
        if existing.platform.is_none() {
            existing.platform = image.platform;
        }
        // The same claims again (a repeated manifest.json entry) add nothing to check; a
        // reference that says something else about a blob (index.json's sizes and media
        // types beside manifest.json's paths) is kept and checked too.
        let refs = std::iter::once((Role::Config, None, image.config))
            .chain(image.layers.into_iter().enumerate().map(|(i, l)| (Role::Layer, Some(i), l)))
            .chain(image.also);
        for (role, layer, b) in refs {
            if self.ref_keys.insert(RefKey::of(at, layer, &b)) {
                self.images[at].also.push((role, layer, b));
            }
        }
        at
    }

    /// Adds tags to an image, once per reference: Docker 25+ names each image twice, `app:1`
    /// in manifest.json and `docker.io/library/app:1` in index.json. One reference, one tag.
    fn add_tags(&mut self, at: usize, tags: Vec<String>) {
        let known = self.tag_keys.entry(at).or_default();
        for t in tags {
            if known.insert(reference::normalize(&t)) {
                self.images[at].tags.push(t);
            }
        }
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
