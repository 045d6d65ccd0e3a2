//! Step 3 of the flow: the image model. What the archive *says*: images, their tags,
//! platforms, manifests, configs and layers, each as a reference to an archive member.
//! Nothing here compares bytes with claims; that is the checks' work.

pub mod config;
pub mod format;
pub mod platform;
pub mod reference;
pub mod select;
pub mod selector;

pub use config::{ConfigError, ImageConfig};
pub use format::Format;
pub use platform::Platform;

use crate::digest::Digest;
use crate::finding::Finding;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one input's documents may describe. Far above any real archive (a k3s or Rancher
/// airgap tarball holds a few hundred images of tens of layers), and what bounds memory
/// whatever the documents claim: past a limit the input is refused (`manifest-invalid`) and
/// nothing more is read into the model.
pub const MAX_IMAGES: usize = 10_000;
/// Layers of one manifest (or manifest.json entry, or config's `diff_ids`).
pub const MAX_LAYERS: usize = 4_096;
/// Entries of one config's `history`.
pub const MAX_HISTORY: usize = 65_536;
/// Text one list of a document may hold (tags, paths, history): the most a document's read
/// holds before the model takes it.
pub const MAX_KEPT_BYTES: usize = 8 << 20;
/// What the model of one input may cost: each image, reference, tag, artifact and history
/// entry at the memory it takes with what follows from it (its report, its findings), and
/// its text twice (it is copied into the report). 48 MiB here is about 45,000 layer
/// references; a Rancher airgap tarball's few thousand cost a few MiB.
pub const MAX_MODEL_COST: usize = 48 << 20;
const IMAGE_COST: usize = 2048;
const REFERENCE_COST: usize = 1024;
const TAG_COST: usize = 512;
pub(crate) const HISTORY_COST: usize = 256;
/// Findings the model keeps (each is a line of the report); past it, one says how many more.
pub const MAX_FINDINGS: usize = 10_000;
/// What the models alive in the process cost now (see `Model::charge`).
static MODELLED: AtomicUsize = AtomicUsize::new(0);

impl Drop for Model {
    fn drop(&mut self) {
        MODELLED.fetch_sub(self.cost, Ordering::Relaxed);
    }
}

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
    /// Who refers to it, for messages: "manifest.json entry 0", "index.json" (shared by the
    /// references of one document).
    pub from: Arc<str>,
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
    pub also: Vec<AlsoRef>,
    /// The parsed config, or why it could not be parsed; `None` if it is not in the archive.
    pub config_doc: Option<Result<Arc<ImageConfig>, ConfigError>>,
}

/// A config or layer referenced again by another document of the same image (Docker 25+
/// archives describe each image in manifest.json and in index.json).
#[derive(Debug, Clone)]
pub struct AlsoRef {
    pub role: Role,
    /// Which layer, for a layer.
    pub layer: Option<usize>,
    pub blob: BlobRef,
}

impl Image {
    /// Every reference this image makes, for the blob checks.
    pub fn references(&self) -> impl Iterator<Item = (Role, Option<usize>, &BlobRef)> {
        std::iter::once((Role::Config, None, &self.config))
            .chain(self.layers.iter().enumerate().map(|(i, l)| (Role::Layer, Some(i), l)))
            .chain(self.also.iter().map(|a| (a.role, a.layer, &a.blob)))
    }

    pub fn config_digest(&self) -> Option<Digest> {
        self.config.digest
    }

    /// The platform an index declares, else the config's.
    pub fn platform_or_config(&self) -> Option<Platform> {
        if let Some(p) = &self.platform {
            return Some(p.clone());
        }
        let c = self.config_doc.as_ref()?.as_ref().ok()?;
        Some(Platform { os: c.os.clone()?, architecture: c.architecture.clone()?, variant: c.variant.clone() })
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
    /// OCI 1.1 referrers index.json does not list, found in `blobs/` by their `subject`
    /// (cosign 3 save): their manifests' members (each also an artifact).
    pub referrers: BTreeSet<String>,
    pub findings: Vec<Finding>,
    /// Platforms an index lists whose manifest is not in the archive: a partial
    /// multi-platform export (`ctr images export`, `docker save --platform`), normal.
    pub absent: Vec<AbsentPlatform>,
    /// Signatures, attestations and other artifacts read from the indexes.
    pub artifacts: Vec<Artifact>,
    /// Where each tag is given and what it names there, once per (tag, images): the tag
    /// check finds a tag given to two different images (`checks::tags`).
    pub holders: Vec<TagHolder>,
    /// Documents whose keys Go reads differently from airlock (`json_keys`): reported as
    /// errors and never carried by convert, `--force` or not.
    pub ambiguous: Vec<String>,
    /// Entries of index.json (for `--target`).
    pub index_entries: usize,
    /// Index and manifest documents whose references were not read: refused (not JSON a
    /// document reader accepts, ambiguous keys, a descriptor refused) or not followed (past
    /// the nesting bound). The blobs they name are not known to be unreferenced
    /// (`checks::layout`).
    pub unread: BTreeSet<String>,
    /// The walk did not reach every document (index.json unreadable, a budget spent): no
    /// blob is known to be unreferenced.
    pub walk_stopped: bool,
    /// sha256 of (config member, layer members) → index in `images`, to merge the same image
    /// read from two documents.
    image_keys: HashMap<Digest, usize>,
    /// The tags of all images (by sha256 of the normalised tag), and the references already
    /// recorded: merging stays O(1) per tag and per reference however often an archive
    /// repeats an image.
    tag_keys: HashSet<(usize, Digest)>,
    holder_keys: HashSet<Digest>,
    ref_keys: HashSet<Digest>,
    /// Configs parsed, by member: each is read once, whatever refers to it.
    pub(crate) configs: HashMap<String, Result<Arc<ImageConfig>, ConfigError>>,
    /// What the model costs (`MAX_MODEL_COST`); `full` once a limit was reached.
    cost: usize,
    full: bool,
    /// Findings not kept past `MAX_FINDINGS`.
    pub(crate) unlisted: usize,
}

/// One place a tag is given: a manifest.json entry's `RepoTags`, or an index entry's name
/// annotation; and the images it names there (an index entry of a multi-platform index
/// names one per platform).
#[derive(Debug, Clone)]
pub struct TagHolder {
    pub tag: String,
    /// `manifest.json entry 2`, `index.json entry 0`.
    pub from: String,
    pub images: Vec<usize>,
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

/// What makes two references to a blob the same claim (who makes it aside), as a sha256 of
/// its fields: the set of claims holds 32 bytes per claim, whatever the paths' lengths.
fn ref_key(image: usize, layer: Option<usize>, b: &BlobRef) -> Digest {
    let image = (image as u64).to_le_bytes();
    let layer = layer.map_or(u64::MAX, |l| l as u64).to_le_bytes();
    let size = b.size.map_or(u64::MAX, |s| s).to_le_bytes();
    let digest = b.digest.as_ref().map_or(&[][..], |d| &d.as_bytes()[..]);
    let media: &[u8] = b.media_type.as_deref().map_or(b"\0", str::as_bytes);
    Digest::of_fields([&image[..], &layer, b.member.as_bytes(), digest, &size, media])
}

/// The key that makes two images read from two documents the same image.
fn image_key(image: &Image) -> Digest {
    Digest::of_fields(
        std::iter::once(image.config.member.as_bytes()).chain(image.layers.iter().map(|l| l.member.as_bytes())),
    )
}

impl Model {
    /// Counts `cost` against [`MAX_MODEL_COST`]; `false` past it. The budget is the
    /// process's: the models of every archive in a bundle, which live together, share it.
    pub(crate) fn charge(&mut self, cost: usize) -> bool {
        self.cost += cost;
        MODELLED.fetch_add(cost, Ordering::Relaxed) + cost <= MAX_MODEL_COST
    }

    /// Keeps a finding, up to [`MAX_FINDINGS`].
    pub(crate) fn note(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.unlisted += 1;
        }
    }

    /// Reports, once, that the documents describe more than airlock reads; nothing more is
    /// added to the model after it.
    fn limit(&mut self, member: &str, at: &str, what: String) {
        self.walk_stopped = true;
        if !self.full {
            self.full = true;
            self.note(
                Finding::new(
                    crate::finding::Code::ManifestInvalid,
                    format!("{at} takes the input past {what}: refused, the rest is not read"),
                )
                .member(member),
            );
        }
    }

    fn over_budget(&mut self, member: &str, at: &str) {
        self.limit(member, at, format!("the {} MiB airlock models of an input's documents", MAX_MODEL_COST >> 20));
    }

    /// Adds an image, or merges it into an identical one already read from another document;
    /// returns its index, or `None` once the model is full (`limit`).
    pub(crate) fn add_image(&mut self, mut image: Image, from: &str) -> Option<usize> {
        if self.full {
            return None;
        }
        let tags = std::mem::take(&mut image.tags);
        let key = image_key(&image);
        let Some(&at) = self.image_keys.get(&key) else {
            let cost: usize = IMAGE_COST + image.references().map(|(_, _, b)| b.cost()).sum::<usize>();
            if self.images.len() == MAX_IMAGES {
                self.limit(from, from, format!("{MAX_IMAGES} images"));
            } else if !self.charge(cost) {
                self.over_budget(from, from);
            }
            if self.full {
                return None;
            }
            let at = self.images.len();
            self.image_keys.insert(key, at);
            self.ref_keys.insert(ref_key(at, None, &image.config));
            for (l, b) in image.layers.iter().enumerate() {
                self.ref_keys.insert(ref_key(at, Some(l), b));
            }
            self.images.push(image);
            self.add_tags(at, tags, from);
            return Some(at);
        };
        self.add_tags(at, tags, from);
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
            .chain(image.also.into_iter().map(|a| (a.role, a.layer, a.blob)));
        for (role, layer, b) in refs {
            if self.ref_keys.insert(ref_key(at, layer, &b)) {
                if !self.charge(b.cost()) {
                    self.over_budget(from, from);
                    return None;
                }
                self.images[at].also.push(AlsoRef { role, layer, blob: b });
            }
        }
        Some(at)
    }

    /// Adds tags to an image, once per reference: Docker 25+ names each image twice, `app:1`
    /// in manifest.json and `docker.io/library/app:1` in index.json. One reference, one tag.
    pub(crate) fn add_tags(&mut self, at: usize, tags: Vec<String>, from: &str) {
        for t in tags {
            if self.full {
                return;
            }
            let key = Digest::of(reference::normalize(&t).as_bytes());
            if self.tag_keys.insert((at, key)) {
                if !self.charge(TAG_COST + 2 * t.len()) {
                    return self.over_budget(from, from);
                }
                self.images[at].tags.push(t);
            }
        }
    }

    /// Records that `from` (in document `member`) gives `tag` to `images`, once per tag and
    /// set of images.
    pub(crate) fn hold_tag(&mut self, tag: &str, from: &str, mut images: Vec<usize>, member: &str) {
        if self.full {
            return;
        }
        images.sort_unstable();
        images.dedup();
        let ids: Vec<[u8; 8]> = images.iter().map(|&i| (i as u64).to_le_bytes()).collect();
        let norm = reference::normalize(tag);
        let key = Digest::of_fields(std::iter::once(norm.as_bytes()).chain(ids.iter().map(|b| &b[..])));
        if !self.holder_keys.insert(key) {
            return;
        }
        if !self.charge(TAG_COST + 2 * (tag.len() + from.len()) + 8 * images.len()) {
            return self.over_budget(member, from);
        }
        self.holders.push(TagHolder { tag: tag.to_string(), from: from.to_string(), images });
    }

    /// An artifact and its blobs, charged like an image's references.
    pub(crate) fn add_artifact(&mut self, artifact: Artifact, from: &str) -> bool {
        if self.full {
            return false;
        }
        if !self.charge(IMAGE_COST + 2 * artifact.blobs.iter().map(BlobRef::cost).sum::<usize>()) {
            self.over_budget(from, from);
            return false;
        }
        self.artifacts.push(artifact);
        true
    }

    /// Forgets the images read so far (a manifest.json found ambiguous after its entries were
    /// read): the model is as before `docker::read`.
    pub(crate) fn forget_images(&mut self, findings: usize) {
        self.images.clear();
        self.image_keys.clear();
        self.tag_keys.clear();
        self.ref_keys.clear();
        self.findings.truncate(findings);
        MODELLED.fetch_sub(std::mem::take(&mut self.cost), Ordering::Relaxed);
        self.full = false;
    }
}

impl BlobRef {
    /// What this reference costs the model (`MAX_MODEL_COST`).
    fn cost(&self) -> usize {
        REFERENCE_COST
            + 2 * (self.member.len()
                + self.from.len()
                + self.media_type.as_ref().map_or(0, String::len)
                + self.urls.iter().map(String::len).sum::<usize>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(member: &str, from: &str) -> BlobRef {
        BlobRef {
            member: member.into(),
            digest: None,
            size: None,
            media_type: None,
            urls: vec![],
            from: Arc::from(from),
        }
    }

    fn image(tags: &[&str], config: &str, layers: &[&str], from: &str) -> Image {
        Image {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            platform: None,
            manifest_digest: None,
            manifest_member: None,
            config: blob(config, from),
            layers: layers.iter().map(|l| blob(l, from)).collect(),
            also: vec![],
            config_doc: None,
        }
    }

    #[test]
    fn the_same_image_from_two_documents_is_one_image_with_both_claims() {
        let mut m = Model::default();
        let a = image(&["app:1"], "cfg", &["l0", "l1"], "manifest.json entry 0");
        assert_eq!(m.add_image(a.clone(), "manifest.json"), Some(0));
        // The same claims again add nothing.
        assert_eq!(m.add_image(a, "manifest.json"), Some(0));
        assert!(m.images[0].also.is_empty());
        // index.json's view: the same members, with sizes and a manifest digest, and the tag
        // spelled in full.
        let mut b = image(&["docker.io/library/app:1", "app:2"], "cfg", &["l0", "l1"], "index.json");
        b.layers[1].size = Some(7);
        b.manifest_digest = Some(Digest::of(b"m"));
        b.platform = Platform::parse("linux/amd64");
        assert_eq!(m.add_image(b, "index.json"), Some(0));
        assert_eq!(m.images.len(), 1);
        let img = &m.images[0];
        assert_eq!(img.tags, ["app:1", "app:2"], "one tag per reference, as first spelled");
        assert_eq!(
            (img.manifest_digest, img.platform.clone()),
            (Some(Digest::of(b"m")), Platform::parse("linux/amd64"))
        );
        let also: Vec<(Role, Option<usize>, Option<u64>)> =
            img.also.iter().map(|a| (a.role, a.layer, a.blob.size)).collect();
        assert_eq!(also, [(Role::Layer, Some(1), Some(7))], "only the claim that says something new");
        // Every reference is checked: the three of the image, and the new claim.
        assert_eq!(img.references().count(), 4);
    }

    #[test]
    fn other_members_are_another_image() {
        let mut m = Model::default();
        assert_eq!(m.add_image(image(&["a:1"], "cfg", &["l0"], "x"), "x"), Some(0));
        assert_eq!(m.add_image(image(&["a:1"], "cfg", &["l0", "l1"], "x"), "x"), Some(1));
        assert_eq!(m.add_image(image(&[], "cfg2", &["l0"], "x"), "x"), Some(2));
        assert_eq!(m.images.iter().map(|i| i.tags.len()).collect::<Vec<_>>(), [1, 1, 0]);
    }

    #[test]
    fn tag_holders_are_kept_once_per_tag_and_images() {
        let mut m = Model::default();
        m.hold_tag("app:1", "manifest.json entry 0", vec![1, 0, 1], "manifest.json");
        m.hold_tag("docker.io/library/app:1", "index.json entry 0", vec![0, 1], "index.json");
        m.hold_tag("app:1", "manifest.json entry 2", vec![2], "manifest.json");
        let held: Vec<(&str, &[usize])> = m.holders.iter().map(|h| (h.from.as_str(), &h.images[..])).collect();
        assert_eq!(held, [("manifest.json entry 0", &[0, 1][..]), ("manifest.json entry 2", &[2][..])]);
    }

    #[test]
    fn a_full_model_takes_nothing_more() {
        let mut m = Model::default();
        m.limit("manifest.json", "manifest.json entry 9", "10000 images".into());
        m.limit("manifest.json", "manifest.json entry 10", "10000 images".into());
        assert_eq!(
            m.findings.iter().map(|f| (f.code, f.member.as_deref())).collect::<Vec<_>>(),
            [(crate::finding::Code::ManifestInvalid, Some("manifest.json"))]
        );
        assert_eq!(m.add_image(image(&["a:1"], "cfg", &[], "x"), "x"), None);
        m.hold_tag("a:1", "x", vec![0], "x");
        assert!(m.images.is_empty() && m.holders.is_empty());
        // Forgetting the images read so far opens it again, and drops the later findings.
        m.forget_images(0);
        assert!(m.findings.is_empty());
        assert_eq!(m.add_image(image(&["a:1"], "cfg", &[], "x"), "x"), Some(0));
    }

    #[test]
    fn findings_past_the_cap_are_counted() {
        let mut m = Model::default();
        for _ in 0..MAX_FINDINGS + 3 {
            m.note(Finding::new(crate::finding::Code::BlobMissing, "x"));
        }
        assert_eq!((m.findings.len(), m.unlisted), (MAX_FINDINGS, 3));
    }

    #[test]
    fn the_platform_is_the_index_s_else_the_config_s() {
        let mut i = image(&[], "cfg", &[], "x");
        assert_eq!(i.platform_or_config(), None);
        let cfg = ImageConfig {
            os: Some("linux".into()),
            architecture: Some("arm".into()),
            variant: Some("v7".into()),
            diff_ids: vec![],
            history: None,
        };
        i.config_doc = Some(Ok(Arc::new(cfg.clone())));
        assert_eq!(i.platform_or_config(), Platform::parse("linux/arm/v7"));
        i.platform = Platform::parse("linux/amd64");
        assert_eq!(i.platform_or_config(), Platform::parse("linux/amd64"));
        // A config without an architecture names no platform.
        i.platform = None;
        i.config_doc = Some(Ok(Arc::new(ImageConfig { architecture: None, ..cfg })));
        assert_eq!(i.platform_or_config(), None);
    }
}
