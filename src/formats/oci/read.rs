//! OCI image layouts: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. Indexes may nest; the
//! walk is bounded in depth and refuses cycles, so a hostile layout ends in a finding.

use super::{Descriptor, Notes, Subject};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::formats::bounded::{AnyString, Capped};
use crate::formats::{artifacts, config, docker, json_keys, named_digest};
use crate::model::{AbsentPlatform, Artifact, BlobRef, Image, MAX_LAYERS, Model, Platform, Reference, Role};
use crate::open::Catalog;
use serde::Deserialize;
use std::collections::HashMap;

/// Deeper than any real layout (they nest two or three levels).
const MAX_DEPTH: usize = 16;

/// An index or a manifest, as read: the fields airlock uses. Which one it is depends on the
/// keys present (and CVE-2021-41190 on their not being mixed).
#[derive(Deserialize)]
struct Document {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Capped<Descriptor, MAX_VISITS>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Capped<Descriptor, MAX_LAYERS>>,
    #[serde(default)]
    subject: Option<Subject>,
    #[serde(default)]
    annotations: Notes,
}

/// The tag a descriptor carries: containerd's full name if present, else the OCI ref name.
pub fn descriptor_tag(d: &Descriptor) -> Option<String> {
    d.annotations.image_name.clone().or_else(|| d.annotations.ref_name.clone())
}

/// Where a manifest was read: its member, the descriptor that led to it (none for a
/// referrer found in `blobs/`), and its own annotations.
#[derive(Clone, Copy)]
struct Place<'a> {
    member: &'a str,
    desc: Option<&'a Descriptor>,
    notes: &'a Notes,
}

struct Walk<'a> {
    catalog: &'a Catalog,
    model: &'a mut Model,
    /// Digests of the documents on the current path, to refuse cycles.
    stack: Vec<Digest>,
    /// Documents visited so far. Without cycles an index can still list the same child many
    /// times at every level (a DAG whose paths multiply); the budget ends that too.
    visits: usize,
    /// Documents already read, by digest, with the images found under each: an index that
    /// lists the same manifest 10,000 times is read (and its manifest parsed) once.
    seen: HashMap<Digest, Vec<usize>>,
    /// Images found so far, in walk order: a document's images are the ones added while it
    /// was being read.
    reached: Vec<usize>,
    absent_seen: std::collections::HashSet<Digest>,
    /// index.json's entries: (`kind` annotation, digest), for `cosign save` layouts.
    top: Vec<(Option<String>, String)>,
    /// The document references were last made from, shared by its references.
    from: Option<std::sync::Arc<str>>,
}

/// Far more documents than any real layout holds (k3s airgap bundles hold a few hundred).
pub const MAX_VISITS: usize = 20_000;

pub fn read(catalog: &Catalog, model: &mut Model) {
    check_layout_file(catalog, model);
    let index = match docker::document(catalog, "index.json") {
        Ok(b) => b,
        Err(f) => {
            model.note(f);
            model.walk_stopped = true;
            return;
        }
    };
    let mut walk = Walk {
        catalog,
        model,
        stack: Vec::new(),
        visits: 0,
        seen: HashMap::new(),
        reached: Vec::new(),
        absent_seen: Default::default(),
        top: Vec::new(),
        from: None,
    };
    walk.document(index, "index.json", None, &[], None, 0);
    walk.referrers();
    let top = std::mem::take(&mut walk.top);
    artifacts::link_cosign_layout(&top, &mut model.artifacts);
}

/// `oci-layout` (specs-go v1 ImageLayout).
#[derive(Deserialize)]
struct Layout {
    #[serde(rename = "imageLayoutVersion")]
    _version: AnyString,
}

fn check_layout_file(catalog: &Catalog, model: &mut Model) {
    // Hauler's `--containerd` haul drops oci-layout and keeps manifest.json beside index.json:
    // every loader reads that (docker manifest.json, containerd either). Without both, the
    // OCI layout's marker is required.
    if !catalog.has("oci-layout") && catalog.has("manifest.json") {
        return;
    }
    let bad = match docker::document(catalog, "oci-layout") {
        Err(f) => Some(f.message),
        Ok(b) => {
            let parsed = json_keys::parse::<Layout>(b, &json_keys::OCI_LAYOUT);
            let ambiguous = model.refuse_ambiguous(&parsed.ambiguous, "oci-layout");
            (!ambiguous && parsed.value.is_err())
                .then(|| "oci-layout is not {\"imageLayoutVersion\": \"1.0.0\"}".to_string())
        }
    };
    if let Some(msg) = bad {
        model.note(Finding::new(Code::ManifestInvalid, msg).member("oci-layout"));
    }
}

/// The walk's budget is spent.
fn too_many(member: &str) -> Finding {
    invalid(member, format!("the indexes lead to more than {MAX_VISITS} documents; the rest is not read"))
}

fn invalid(member: &str, msg: String) -> Finding {
    Finding::new(Code::ManifestInvalid, msg).member(member)
}

impl Walk<'_> {
    /// Reads one index or manifest document. `desc` is the descriptor that led here (none for
    /// index.json itself); tags and platform are inherited from the descriptors above.
    fn document(
        &mut self,
        bytes: &[u8],
        member: &str,
        desc: Option<&Descriptor>,
        tags: &[String],
        platform: Option<&Platform>,
        depth: usize,
    ) {
        let parsed = json_keys::parse::<Document>(bytes, &json_keys::OCI_DOCUMENT);
        // Checked before anything is read from it: `Manifests` beside `layers` is as
        // ambiguous as the CVE-2021-41190 case below, to Go's case-insensitive decoder.
        if self.model.refuse_ambiguous(&parsed.ambiguous, member) {
            self.model.unread.insert(member.to_string());
            return;
        }
        let doc = match parsed.value {
            Ok(d) => d,
            Err(e) => {
                self.model.unread.insert(member.to_string());
                return self
                    .model
                    .findings
                    .push(invalid(member, format!("{member} is not an image index or manifest: {e}")));
            }
        };
        if doc.manifests.is_some() && (doc.layers.is_some() || doc.config.is_some()) {
            self.model.unread.insert(member.to_string());
            return self.model.note(invalid(
                member,
                format!(
                    "{member} has both \"manifests\" and \"layers\"/\"config\": ambiguous, refused (CVE-2021-41190)"
                ),
            ));
        }
        if let (Some(d), Some(dt)) = (desc.and_then(|d| d.media_type.as_deref()), doc.media_type.as_deref())
            && d != dt
        {
            self.model
                .findings
                .push(invalid(member, format!("{member}: the descriptor says mediaType {d}, the document says {dt}")));
        }
        match doc {
            Document { manifests: Some(m), .. } => {
                if member == "index.json" {
                    self.model.index_entries = m.0.len();
                    self.top = m.0.iter().map(|d| (d.annotations.kind.clone(), d.digest.clone())).collect();
                }
                self.index(&m.0, member, tags, platform, depth)
            }
            Document { config: Some(c), layers: Some(l), subject, annotations, .. } => {
                let at = Place { member, desc, notes: &annotations };
                self.manifest(&c, &l.0, subject.as_ref(), at, tags, platform)
            }
            _ => {
                self.model.unread.insert(member.to_string());
                let why = if member == "index.json" {
                    "index.json has no \"manifests\" list".to_string()
                } else {
                    format!("{member} is neither an image index nor an image manifest")
                };
                self.model.note(invalid(member, why))
            }
        }
    }

    fn index(
        &mut self,
        descs: &[Descriptor],
        member: &str,
        tags: &[String],
        platform: Option<&Platform>,
        depth: usize,
    ) {
        if descs.is_empty() && member == "index.json" {
            self.model.note(invalid(member, "index.json lists no manifest".to_string()));
        }
        for (n, d) in descs.iter().enumerate() {
            let mut tags = tags.to_vec();
            let own = descriptor_tag(d);
            tags.extend(own.clone());
            let platform = d.platform.as_ref().or(platform);
            let Some(blob) = self.blob_ref(d, member) else {
                continue;
            };
            let from = self.reached.len();
            let go_on = self.follow(d, blob, member, tags, platform, depth);
            // The images this entry names: those reached through it (read now or before).
            if let Some(t) = own {
                let named = self.reached[from..].to_vec();
                self.model.hold_tag(&t, &format!("{member} entry {n}"), named, member);
            }
            if !go_on {
                return;
            }
        }
    }

    /// Follows one descriptor of an index; `false` when the walk must stop (its budget).
    fn follow(
        &mut self,
        d: &Descriptor,
        blob: BlobRef,
        member: &str,
        tags: Vec<String>,
        platform: Option<&Platform>,
        depth: usize,
    ) -> bool {
        let role = if d.media_type.as_deref().is_some_and(crate::formats::media_types::is_index) {
            Role::Index
        } else {
            Role::Manifest
        };
        if role == Role::Manifest && self.absent_platform(d, &blob, member) {
            return true;
        }
        self.model.documents.push(Reference { role, blob: blob.clone(), image: None, layer: None });
        if depth + 1 > MAX_DEPTH {
            self.model.unread.insert(blob.member.clone());
            self.model
                .findings
                .push(invalid(member, format!("indexes nest deeper than {MAX_DEPTH} levels at {}", blob.member)));
            return true;
        }
        let digest = blob.digest.expect("blob_ref only returns sha256 references");
        if self.stack.contains(&digest) {
            self.model.note(invalid(member, format!("index cycle: {member} leads back to {digest}")));
            return true;
        }
        if let Some(images) = self.seen.get(&digest).cloned() {
            return self.seen_before(images, &tags, member);
        }
        self.visits += 1;
        if self.visits > MAX_VISITS {
            self.model.note(too_many(member));
            self.model.walk_stopped = true;
            return false;
        }
        // A missing or unreadable document is reported by the blob checks.
        let Some(bytes) = self.catalog.document(&blob.member) else {
            if let Some(s) = self.catalog.scan_of(&blob.member) {
                self.model.unread.insert(blob.member.clone());
                let why = config::not_a_document(s);
                self.model.note(invalid(&blob.member, format!("manifest {digest} is {why}")));
            }
            return true;
        };
        self.stack.push(digest);
        let from = self.reached.len();
        self.document(bytes, &blob.member, Some(d), &tags, platform, depth + 1);
        self.stack.pop();
        self.seen.insert(digest, self.reached[from..].to_vec());
        true
    }

    /// A platform's manifest that is not in the archive at all: the other platforms of a
    /// partial export. Reported once per manifest (platform-absent), not as a broken
    /// reference; a manifest that is present but incomplete stays an error. `true` when so.
    fn absent_platform(&mut self, d: &Descriptor, blob: &BlobRef, member: &str) -> bool {
        let Some(p) = d.platform.as_ref().filter(|_| !self.catalog.has(&blob.member)) else {
            return false;
        };
        let digest = blob.digest.expect("blob_ref only returns sha256 references");
        if self.absent_seen.insert(digest) {
            self.model.absent.push(AbsentPlatform { platform: p.clone(), digest, index: member.to_string() });
        }
        true
    }

    /// A document read before: its images take this path's tags too, nothing is parsed
    /// again. Each image merged counts against the budget, so repeats stay bounded; `false`
    /// when the walk must stop.
    fn seen_before(&mut self, images: Vec<usize>, tags: &[String], member: &str) -> bool {
        self.visits += images.len().max(1);
        if !tags.is_empty() {
            for &i in &images {
                self.model.add_tags(i, tags.to_vec(), member);
            }
        }
        self.reached.extend(images);
        if self.visits > MAX_VISITS {
            self.model.note(too_many(member));
            self.model.walk_stopped = true;
            return false;
        }
        true
    }

    fn manifest(
        &mut self,
        config: &Descriptor,
        layers: &[Descriptor],
        subject: Option<&Subject>,
        at: Place,
        tags: &[String],
        platform: Option<&Platform>,
    ) {
        let (member, desc) = (at.member, at.desc);
        let Some(config_ref) = self.blob_ref(config, member) else {
            return;
        };
        let mut layer_refs = Vec::new();
        for l in layers {
            let Some(r) = self.blob_ref(l, member) else {
                return;
            };
            layer_refs.push(r);
        }
        if !artifacts::is_image(self.catalog, self.model, &config_ref, layers) {
            return self.artifact(config, layers, subject, at, config_ref, layer_refs);
        }
        let image = Image {
            tags: tags.to_vec(),
            platform: platform.cloned(),
            manifest_digest: desc.and_then(|d| Digest::parse(&d.digest)),
            manifest_member: Some(member.to_string()),
            config: config_ref,
            layers: layer_refs,
            also: Vec::new(),
            config_doc: None,
        };
        if let Some(at) = self.model.add_image(image, member) {
            self.reached.push(at);
        }
    }

    /// A manifest that is not an image (`artifacts::is_image`): a signature, attestation,
    /// SBOM or other artifact. Its blobs are checked as blobs (digest and size) and count as
    /// referenced; a kind airlock knows travels with its image as expected content, any other
    /// is pointed out.
    fn artifact(
        &mut self,
        config: &Descriptor,
        layers: &[Descriptor],
        subject: Option<&Subject>,
        at: Place,
        config_ref: BlobRef,
        layer_refs: Vec<BlobRef>,
    ) {
        let (member, desc) = (at.member, at.desc);
        let known = artifacts::kind(layers, desc, at.notes);
        let artifact = Artifact {
            kind: known.unwrap_or("artifact").to_string(),
            member: member.to_string(),
            digest: desc.and_then(|d| Digest::parse(&d.digest)),
            subject: artifacts::subject(subject, desc),
            blobs: std::iter::once(config_ref.clone()).chain(layer_refs.iter().cloned()).collect(),
        };
        if !self.model.add_artifact(artifact, member) {
            return;
        }
        if known.is_none() {
            self.model.note(
                Finding::new(
                    Code::ArtifactSkipped,
                    format!(
                        "{member} is an artifact (config type {}), not an image; its blobs are checked as blobs, not as layers",
                        config.media_type.as_deref().unwrap_or("?")
                    ),
                )
                .member(member),
            );
        }
        for (role, blob) in
            std::iter::once((Role::Config, config_ref)).chain(layer_refs.into_iter().map(|l| (Role::Layer, l)))
        {
            self.model.documents.push(Reference { role, blob, image: None, layer: None });
        }
    }

    /// OCI 1.1 referrers that index.json does not list, left in `blobs/` (cosign 3.1.1's
    /// `save` leaves its signature bundles so; cosign 3 finds them there by `subject`): a
    /// manifest whose `subject` names a document read from index.json, which is not an image
    /// itself, is an artifact about it, its blobs checked as blobs and accounted for. Any
    /// other blob nothing reaches stays `unreferenced-blob`; an image left there is not
    /// loaded by any runtime and stays one too.
    fn referrers(&mut self) {
        let start = "blobs/sha256/";
        // Configs are documents too, and may be large: never parsed again here.
        let configs: std::collections::HashSet<&str> =
            self.model.images.iter().map(|i| i.config.member.as_str()).collect();
        let unread: Vec<(String, Digest)> = (self.catalog.members.range(start.to_string()..))
            .take_while(|(k, _)| k.starts_with(start))
            .filter(|(k, _)| !configs.contains(k.as_str()))
            .filter_map(|(k, _)| Some((k.clone(), named_digest(k)?)))
            .filter(|(_, d)| !self.seen.contains_key(d))
            .collect();
        for (member, digest) in unread {
            let Some(bytes) = self.catalog.document(&member) else { continue };
            if !bytes.windows(9).any(|w| w == b"\"subject\"") {
                continue;
            }
            let parsed = json_keys::parse::<Document>(bytes, &json_keys::OCI_DOCUMENT);
            let Ok(doc) = parsed.value else { continue };
            let Document {
                manifests: None,
                config: Some(config),
                layers: Some(layers),
                subject: Some(subject),
                annotations,
                media_type,
            } = doc
            else {
                continue;
            };
            let about = subject.digest.as_deref().and_then(Digest::parse);
            let all_sha256 = std::iter::once(&config).chain(&layers.0).all(|d| Digest::parse(&d.digest).is_some());
            if !parsed.ambiguous.is_empty() || !all_sha256 || !about.is_some_and(|d| self.seen.contains_key(&d)) {
                continue;
            }
            let (Some(config_ref), Some(layer_refs)) = (
                self.blob_ref(&config, &member),
                layers.0.iter().map(|l| self.blob_ref(l, &member)).collect::<Option<Vec<_>>>(),
            ) else {
                continue;
            };
            if artifacts::is_image(self.catalog, self.model, &config_ref, &layers.0) {
                continue;
            }
            let desc = Descriptor {
                media_type,
                digest: digest.to_string(),
                size: bytes.len() as i64,
                annotations: Notes::default(),
                platform: None,
                urls: None,
            };
            let from = self.shared_from("blobs/");
            let blob = BlobRef {
                member: member.clone(),
                digest: Some(digest),
                size: Some(bytes.len() as u64),
                media_type: desc.media_type.clone(),
                urls: Vec::new(),
                from,
            };
            self.model.documents.push(Reference { role: Role::Manifest, blob, image: None, layer: None });
            self.seen.insert(digest, Vec::new());
            self.model.referrers.insert(member.clone());
            let at = Place { member: &member, desc: Some(&desc), notes: &annotations };
            self.artifact(&config, &layers.0, Some(&subject), at, config_ref, layer_refs);
        }
    }

    fn shared_from(&mut self, member: &str) -> std::sync::Arc<str> {
        match &self.from {
            Some(a) if **a == *member => a.clone(),
            _ => self.from.insert(member.into()).clone(),
        }
    }

    /// The member a descriptor names. Only sha256 is supported; anything else, or a digest
    /// that is not `sha256:<64 hex>` (and so could be a path), is refused here.
    fn blob_ref(&mut self, d: &Descriptor, from: &str) -> Option<BlobRef> {
        let Some(digest) = Digest::parse(&d.digest) else {
            let code = if d.digest.contains('/') || d.digest.contains("..") {
                Code::UnsafePath
            } else {
                Code::ManifestInvalid
            };
            self.model.note(
                Finding::new(
                    code,
                    format!("{from} refers to digest {:?}, which is not sha256:<64 hex digits>", d.digest),
                )
                .member(from),
            );
            // What `from` refers to is not all read (a manifest is dropped whole).
            self.model.unread.insert(from.to_string());
            return None;
        };
        if d.size < 0 {
            self.model.note(invalid(from, format!("{from}: descriptor {digest} has a negative size")));
            self.model.unread.insert(from.to_string());
            return None;
        }
        Some(BlobRef {
            member: format!("blobs/sha256/{}", digest.hex()),
            digest: Some(digest),
            size: Some(d.size as u64),
            media_type: d.media_type.clone(),
            urls: d.urls.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
            from: self.shared_from(from),
        })
    }
}
