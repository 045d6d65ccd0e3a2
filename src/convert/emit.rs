//! Planning the output's documents: configs verbatim, manifests (their original bytes where
//! nothing changed), the index (rewritten only where the selection or the blobs changed),
//! and the output format's own files (`manifest.json`, `repositories`, `oci-layout`), each
//! as the `OutputFormat` says it holds them, and the artifacts that go along (copied and
//! hashed before, `artifacts::stage_all`), into a `plan::Documents` that `run` writes.

use super::artifacts;
use super::blobs::Written;
use super::plan::Documents;
use super::{Options, Summary};
use crate::digest::Digest;
use crate::error::Error;
use crate::formats::docker;
use crate::formats::oci::write::{self as documents, OutLayer};
use crate::formats::oci::{Descriptor, Notes};
use crate::formats::output::{BlobKind, IndexJson, OutputFormat};
use crate::model::select;
use crate::model::{Image, reference};
use crate::report::{ConvertedImage, ConvertedLayer};
use crate::scan::Content;
use std::borrow::Cow;
use std::collections::HashMap;

/// Writes the documents of the output.
pub(super) struct Emit<'a> {
    pub opts: &'a Options,
    pub catalog: &'a crate::open::Catalog,
    /// Layer blobs written, by resolved input member.
    pub written: &'a HashMap<String, Written>,
    /// Things the user should know about the output (printed on stderr).
    pub notes: std::cell::RefCell<Vec<String>>,
    /// Signatures, attestations and SBOMs of the input.
    pub artifacts: &'a [crate::model::Artifact],
    /// Those that can go along, copied already, by digest.
    pub staged: &'a HashMap<Digest, artifacts::Staged>,
    /// Manifests and indexes written with their input bytes: what an artifact can be about.
    pub unchanged: std::cell::RefCell<std::collections::HashSet<Digest>>,
    /// Artifacts written, by digest.
    pub carried: std::cell::RefCell<std::collections::HashSet<Digest>>,
    /// Artifacts left out whole because a blob of theirs failed its copy (said in a note each).
    pub failed: std::cell::RefCell<std::collections::HashSet<Digest>>,
    /// The configs, manifests, indexes, the format's own files and the artifacts to write.
    pub plan: std::cell::RefCell<Documents<'a>>,
}

/// A document written to the output (a manifest, or an index rewritten): what a descriptor
/// of it says.
#[derive(Clone, Debug)]
struct WrittenDoc {
    digest: Digest,
    size: u64,
    media_type: String,
}

struct OutImage {
    config: Digest,
    layers: Vec<OutLayer>,
    manifest: Option<WrittenDoc>,
    /// Full references, normalized.
    tags: Vec<String>,
    /// OCI ref names that are only tags.
    ref_names: Vec<String>,
    platform: Option<crate::model::Platform>,
}

impl Emit<'_> {
    pub fn documents(&self, images: &[&Image], tags: Option<&[String]>) -> Result<Summary, Error> {
        let t = self.opts.format;
        let mut outs = Vec::new();
        let mut detail = Vec::new();
        let mut manifests_by_member: HashMap<String, WrittenDoc> = HashMap::new();
        for image in images {
            // Only reachable with --force: say what could not be carried.
            let Some(cfg) = self.catalog.document(&image.config.member) else {
                self.notes.borrow_mut().push(format!(
                    "image {} is not written: its config {} is missing or not JSON",
                    image.tags.first().map_or("<untagged>", String::as_str),
                    image.config.member
                ));
                continue;
            };
            let config = self.plan.borrow_mut().blob(BlobKind::Config, Cow::Borrowed(cfg));
            let mut layers = Vec::new();
            let mut detail_layers = Vec::new();
            for l in &image.layers {
                let Some(w) = self.find_written(&l.member) else {
                    self.notes.borrow_mut().push(format!(
                        "layer {} could not be written (missing or unreadable); the image is incomplete",
                        l.member
                    ));
                    continue;
                };
                layers.push(OutLayer { digest: w.digest, size: w.size, compression: w.compression });
                detail_layers.push(converted_layer(l, w, t));
            }
            let manifest = if !t.has_manifests() {
                None
            } else {
                let src = image.manifest_member.as_deref().and_then(|m| self.catalog.document(m));
                let bytes = documents::manifest(src, (&config, cfg.len() as u64), &layers);
                let entry = WrittenDoc {
                    digest: Digest::of(&bytes),
                    size: bytes.len() as u64,
                    media_type: documents::manifest_media_type(&bytes),
                };
                self.plan.borrow_mut().blob(BlobKind::Document, Cow::Owned(bytes));
                if let Some(m) = &image.manifest_member {
                    manifests_by_member.insert(m.clone(), entry.clone());
                }
                Some(entry)
            };
            let (tags, ref_names) = self.names(image, tags);
            detail.push(ConvertedImage {
                tags: tags.clone(),
                ref_names: if !t.one_platform_per_tag() { ref_names.clone() } else { Vec::new() },
                platform: select::platform_of(image).map(|p| p.to_string()),
                image_id: config,
                config_digest: config,
                manifest_digest_before: image.manifest_digest,
                manifest_digest_after: manifest.as_ref().map(|m| m.digest),
                layers: detail_layers,
            });
            outs.push(OutImage { config, layers, manifest, tags, ref_names, platform: select::platform_of(image) });
        }
        self.top_level(images, tags, &outs, &manifests_by_member)?;
        self.note_dropped_artifacts(images);
        let layers: usize = outs.iter().map(|o| o.layers.len()).sum();
        let recompressed = self.written.values().filter(|w| w.recompressed).count();
        Ok(Summary {
            images: outs.len(),
            layers,
            copied: self.written.len() - recompressed,
            recompressed,
            bytes: self.written.values().map(|w| w.size).sum(),
            findings: Vec::new(),
            notes: self.notes.take(),
            written: detail,
            output_bytes: 0,
        })
    }

    /// The names an image is written under: full references (`--tag`'s, or the input's that
    /// name a repository) and OCI ref names that are only a tag. An OCI ref name that is only
    /// a tag ("1", "app-1") names no repository: it stays a ref name, and a docker or crane
    /// archive gets the image untagged (as skopeo does), with a note.
    fn names(&self, image: &Image, tags: Option<&[String]>) -> (Vec<String>, Vec<String>) {
        let t = self.opts.format;
        let (tags, ref_names): (Vec<String>, Vec<String>) = match tags {
            Some(t) => (t.iter().map(|x| select::normalize(x)).collect(), Vec::new()),
            None => {
                let (full, bare): (Vec<&String>, Vec<&String>) = image
                    .tags
                    .iter()
                    .filter(|x| reference::is_valid(x, true))
                    .partition(|x| reference::names_repository(x));
                (full.into_iter().map(|x| select::normalize(x)).collect(), bare.into_iter().cloned().collect())
            }
        };
        if tags.is_empty() && !ref_names.is_empty() && t.one_platform_per_tag() {
            self.notes.borrow_mut().push(format!(
                "image {} has only the OCI ref name {:?}, which names no repository; it is written untagged (give --tag NAME:TAG)",
                image.config.digest.map(|d| d.short()).unwrap_or_default(),
                ref_names[0]
            ));
        }
        (tags, ref_names)
    }

    /// The layout's or archive's own files: index.json and oci-layout, manifest.json.
    fn top_level(
        &self,
        images: &[&Image],
        tags: Option<&[String]>,
        outs: &[OutImage],
        manifests_by_member: &HashMap<String, WrittenDoc>,
    ) -> Result<(), Error> {
        let t = self.opts.format;
        if t.index_json().is_some() {
            let from_input = match self.catalog.document("index.json") {
                Some(b) if index_from_input(self.catalog, t, images, tags) => {
                    self.rewrite_index(b, manifests_by_member, 0)?
                }
                _ => None,
            };
            let index = match from_input {
                Some((bytes, _)) => bytes,
                None => documents::index(&flat_descriptors(outs)),
            };
            self.plan.borrow_mut().file("index.json", index);
        }
        if t.has_oci_layout() {
            self.plan.borrow_mut().file("oci-layout", documents::OCI_LAYOUT.to_vec());
        }
        if t.has_manifest_json() {
            self.manifest_json(outs)?;
        }
        Ok(())
    }

    /// The written blob for an input layer member (through any links).
    fn find_written(&self, member: &str) -> Option<&Written> {
        let real = self.catalog.resolve(member).ok()?.0;
        self.written.get(real)
    }

    /// Says which signatures, attestations and SBOMs of the selected images stay behind, and why.
    fn note_dropped_artifacts(&self, images: &[&Image]) {
        let selected: std::collections::HashSet<Digest> = images.iter().filter_map(|i| i.manifest_digest).collect();
        let (carried, failed) = (self.carried.borrow(), self.failed.borrow());
        let kept: Vec<&crate::model::Artifact> =
            self.artifacts.iter().filter(|a| a.digest.is_some_and(|d| carried.contains(&d))).collect();
        if let Some(n) = artifacts::carried_note(&kept) {
            self.notes.borrow_mut().push(n);
        }
        let dropped: Vec<&crate::model::Artifact> = self
            .artifacts
            .iter()
            .filter(|a| a.subject.is_some_and(|s| selected.contains(&s)))
            .filter(|a| a.digest.is_none_or(|d| !carried.contains(&d) && !failed.contains(&d)))
            .collect();
        let why = if self.opts.format.carries_artifacts() {
            "the manifest they are about was not written unchanged (re-compressed layers, or new tags), so they would vouch for a digest that is not there".to_string()
        } else {
            format!(
                "the {} format holds images only (convert to oci or oci-archive to keep them)",
                self.opts.format.as_str()
            )
        };
        if let Some(n) = artifacts::dropped_note(&dropped, &why) {
            self.notes.borrow_mut().push(n);
        }
    }

    /// Plans the artifact (index entry of digest `d`), copied already, if what it is about
    /// was written unchanged (only the formats that carry artifacts reach here: docker and
    /// crane list images only).
    fn carry_artifact(&self, a: &crate::model::Artifact, d: Digest) -> bool {
        if !a.subject.is_some_and(|s| self.unchanged.borrow().contains(&s)) {
            return false;
        }
        if self.carried.borrow().contains(&d) {
            return true;
        }
        let Some(staged) = self.staged.get(&d) else {
            // Not copied: what it is about was left out of the selection.
            self.notes.borrow_mut().push(format!("{} {} not carried: it was not read", a.kind, a.member));
            return false;
        };
        match staged {
            artifacts::Staged::Copied(files) => {
                let mut plan = self.plan.borrow_mut();
                for (path, copy) in files {
                    plan.staged(path, copy.clone());
                }
                self.carried.borrow_mut().insert(d);
                true
            }
            artifacts::Staged::Failed(why) => {
                // Said once, whatever the number of indexes that list it.
                if self.failed.borrow_mut().insert(d) {
                    self.notes.borrow_mut().push(why.clone());
                }
                false
            }
        }
    }

    /// Rewrites an index so it lists only what was written, keeping its bytes where nothing
    /// changed. `None` when nothing under it was selected.
    fn rewrite_index(
        &self,
        bytes: &[u8],
        manifests: &HashMap<String, WrittenDoc>,
        depth: usize,
    ) -> Result<Option<(Vec<u8>, bool)>, Error> {
        use documents::{RawObject, field, same_object, set_field};
        use serde_json::value::RawValue;
        // The index's fields borrowed from its bytes (a large unknown one is not copied),
        // its entries read each as its own raw object.
        let Ok(top) = serde_json::from_slice::<std::collections::BTreeMap<String, &RawValue>>(bytes) else {
            return Ok(None);
        };
        let Some(children) = top.get("manifests").and_then(|m| serde_json::from_str::<Vec<RawObject>>(m.get()).ok())
        else {
            return Ok(None);
        };
        // First the images and indexes (which says what was written unchanged), then the
        // artifacts, which go along only with what they are about.
        let mut decided: Vec<Option<RawObject>> = Vec::new();
        let mut changed = false;
        let mut pending = Vec::new();
        for (i, c) in children.iter().enumerate() {
            decided.push(None);
            let Some(d) = field::<String>(c, "digest").as_deref().and_then(Digest::parse) else {
                changed = true;
                continue;
            };
            if let Some(a) = artifacts::find(self.artifacts, d) {
                pending.push((i, a, d));
                continue;
            }
            let replacement = self.replacement(c, d, manifests, depth)?;
            match replacement {
                Some(WrittenDoc { digest: nd, size, media_type: mt }) => {
                    if nd == d {
                        self.unchanged.borrow_mut().insert(d);
                    }
                    let mut nc = c.clone();
                    set_field(&mut nc, "digest", &nd);
                    set_field(&mut nc, "size", &size);
                    if nd != d {
                        set_field(&mut nc, "mediaType", &mt);
                    }
                    changed |= !same_object(&nc, c);
                    decided[i] = Some(nc);
                }
                None => changed = true,
            }
        }
        for (i, a, d) in pending {
            let carried = self.carry_artifact(a, d);
            changed |= !carried;
            if carried {
                decided[i] = Some(children[i].clone());
            }
        }
        let kept: Vec<RawObject> = decided.into_iter().flatten().collect();
        if kept.is_empty() {
            return Ok(None);
        }
        if !changed {
            return Ok(Some((bytes.to_vec(), false)));
        }
        let kept = serde_json::value::to_raw_value(&kept).expect("serializes");
        let mut v = top;
        v.insert("manifests".to_string(), &kept);
        Ok(Some((serde_json::to_vec(&v).expect("serializes"), true)))
    }

    /// What an index entry becomes in the output: the written manifest, or a nested index
    /// rewritten (written here), or nothing (an unselected image, not carried).
    fn replacement(
        &self,
        c: &documents::RawObject,
        d: Digest,
        manifests: &HashMap<String, WrittenDoc>,
        depth: usize,
    ) -> Result<Option<WrittenDoc>, Error> {
        #[derive(serde::Deserialize)]
        struct Probe {
            manifests: Option<serde::de::IgnoredAny>,
        }
        let member = format!("blobs/sha256/{}", d.hex());
        if let Some(written) = manifests.get(&member) {
            return Ok(Some(written.clone()));
        }
        let Some(doc) = self.catalog.document(&member).filter(|_| depth < 16) else {
            return Ok(None);
        };
        if !serde_json::from_slice::<Probe>(doc).is_ok_and(|p| p.manifests.is_some()) {
            return Ok(None);
        }
        let Some((nb, _)) = self.rewrite_index(doc, manifests, depth + 1)? else {
            return Ok(None);
        };
        let size = nb.len() as u64;
        let nd = self.plan.borrow_mut().blob(BlobKind::Document, Cow::Owned(nb));
        let mt = documents::field::<String>(c, "mediaType")
            .unwrap_or_else(|| crate::formats::media_types::OCI_INDEX.to_string());
        Ok(Some(WrittenDoc { digest: nd, size, media_type: mt }))
    }

    fn manifest_json(&self, outs: &[OutImage]) -> Result<(), Error> {
        let t = self.opts.format;
        let entries: Vec<docker::ManifestJsonEntry> = outs
            .iter()
            .map(|o| {
                docker::ManifestJsonEntry::new(
                    t.blob_path(BlobKind::Config, &o.config),
                    o.tags.iter().map(|x| docker::familiar(x)).collect(),
                    o.layers.iter().map(|l| t.blob_path(BlobKind::Layer, &l.digest)).collect(),
                )
            })
            .collect();
        let bytes = docker::manifest_json(&entries);
        self.plan.borrow_mut().file("manifest.json", bytes);
        if t.has_repositories() {
            let repos: Vec<(String, Digest)> = outs
                .iter()
                .filter_map(|o| o.layers.last().map(|l| (o, l.digest)))
                .flat_map(|(o, top)| o.tags.iter().map(move |x| (docker::familiar(x), top)))
                .collect();
            if let Some(r) = docker::repositories(&repos) {
                self.plan.borrow_mut().file("repositories", r);
            }
        }
        Ok(())
    }
}

/// Whether the output's index.json is the input's, rewritten where the selection or the
/// blobs changed (the only index artifacts go along in): the format keeps it, the input has
/// one, and every selected image is written under the input's names.
pub(super) fn index_from_input(
    catalog: &crate::open::Catalog,
    format: OutputFormat,
    images: &[&Image],
    tags: Option<&[String]>,
) -> bool {
    format.index_json() == Some(IndexJson::FromInput)
        && catalog.document("index.json").is_some()
        && tags.is_none()
        && images.iter().all(|i| i.manifest_member.is_some())
}

/// One descriptor per tag (an untagged image gets one without annotations).
fn flat_descriptors(outs: &[OutImage]) -> Vec<Descriptor> {
    let mut v = Vec::new();
    for o in outs {
        let Some(m) = &o.manifest else {
            continue;
        };
        let base = Descriptor { platform: o.platform.clone(), ..Descriptor::new(&m.media_type, &m.digest, m.size) };
        if o.tags.is_empty() && o.ref_names.is_empty() {
            v.push(base.clone());
        }
        for t in &o.tags {
            v.push(Descriptor { annotations: Notes::for_tag(t), ..base.clone() });
        }
        for r in &o.ref_names {
            v.push(Descriptor { annotations: Notes::ref_name(r), ..base.clone() });
        }
    }
    v
}

/// What convert --json says of one layer written.
fn converted_layer(l: &crate::model::BlobRef, w: &Written, t: OutputFormat) -> ConvertedLayer {
    ConvertedLayer {
        action: if w.recompressed { "recompressed" } else { "copied" },
        member: l.member.clone(),
        digest_before: w.input.digest,
        digest_after: w.digest,
        size_before: w.input.size,
        size_after: w.size,
        compression_before: match &w.input.content {
            Content::Layer(ls) => Some(ls.compression),
            Content::Sniffed(c) => Some(*c),
            _ => None,
        },
        compression_after: w.compression,
        media_type_before: l.media_type.clone(),
        media_type_after: t.has_manifests().then(|| crate::formats::media_types::oci_layer(w.compression).to_string()),
    }
}
