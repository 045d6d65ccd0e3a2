//! Which signatures in an input are about which image.
//!
//! A signature is attached to a manifest or an index by digest:
//! - a cosign `sha256-<hex>.sig` tag, a `cosign save` entry of `kind`
//!   `dev.cosignproject.cosign/sigs`, a Hauler `sigs` entry, an OCI 1.1 `subject` (the model's
//!   `Artifact.subject` reads all of them: `formats::artifacts::subject`);
//! - an OCI 1.1 referrer that index.json does not list, left in `blobs/` the way cosign 3.1.1's
//!   `save` leaves its bundles (measured: cosign 3 then finds them there by their `subject`).
//!
//! An image is covered by what is attached to its own manifest digest and to every index in
//! the input that lists it (cosign signs a multi-platform image by its index digest), as long as
//! each of those documents hashes to its digest: the chain from the signed digest down to the
//! image's manifest is checked byte for byte here, not taken from the blob checks.

use super::rules::{self, Format};
use crate::digest::Digest;
use crate::model::{Model, Role};
use crate::open::Catalog;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How a signature is attached to what it signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// A `subject` field (OCI 1.1 referrer) of a manifest an index lists.
    Referrer,
    /// A referrer in `blobs/` that no index lists (cosign 3 save).
    UnlistedReferrer,
    /// cosign's tag scheme or a `kind` annotation (cosign save, Hauler).
    Tag,
}

impl Attachment {
    pub fn name(self) -> &'static str {
        match self {
            Attachment::Referrer => "OCI 1.1 referrer",
            Attachment::UnlistedReferrer => "OCI 1.1 referrer in blobs/, not in index.json (cosign 3 save)",
            Attachment::Tag => "cosign .sig tag or `kind: …/sigs` entry",
        }
    }
}

/// One signature layer found, before it is checked.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The signature manifest's member and digest.
    pub manifest_member: String,
    pub manifest: Option<Digest>,
    /// Which layer of it.
    pub layer: usize,
    pub blob: Option<Digest>,
    pub blob_member: String,
    pub annotations: BTreeMap<String, String>,
    pub format: Format,
    pub attachment: Attachment,
    /// The digest it is attached to.
    pub about: Digest,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
    subject: Option<Subject>,
}

#[derive(Deserialize)]
struct Subject {
    digest: String,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Every signature layer in the input, by the digest it is attached to.
pub fn candidates(catalog: &Catalog, model: &Model) -> HashMap<Digest, Vec<Candidate>> {
    let mut out: HashMap<Digest, Vec<Candidate>> = HashMap::new();
    let mut seen = HashSet::new();
    for a in &model.artifacts {
        let Some(about) = a.subject else { continue };
        if !seen.insert(a.member.clone()) {
            continue;
        }
        let Some(m) = catalog.document(&a.member).and_then(|b| serde_json::from_slice::<Manifest>(b).ok()) else {
            continue;
        };
        let attachment = match () {
            _ if model.referrers.contains(&a.member) => Attachment::UnlistedReferrer,
            _ if m.subject.is_some() => Attachment::Referrer,
            _ => Attachment::Tag,
        };
        push(&mut out, &m, &a.member, a.digest, attachment, about);
    }
    if matches!(model.format, Some(crate::model::Format::OciLayout | crate::model::Format::OciArchive)) {
        unlisted(catalog, model, &seen, &mut out);
    }
    out
}

/// Referrers in `blobs/sha256/` that nothing in the model refers to.
fn unlisted(catalog: &Catalog, model: &Model, seen: &HashSet<String>, out: &mut HashMap<Digest, Vec<Candidate>>) {
    let start = "blobs/sha256/";
    for (member, _) in catalog.members.range(start.to_string()..).take_while(|(k, _)| k.starts_with(start)) {
        if model.referenced.contains(member) || seen.contains(member) {
            continue;
        }
        let Some(bytes) = catalog.document(member) else { continue };
        let Ok(m) = serde_json::from_slice::<Manifest>(bytes) else { continue };
        let Some(about) = m.subject.as_ref().and_then(|s| Digest::parse(&s.digest)) else { continue };
        let digest = crate::formats::named_digest(member);
        push(out, &m, member, digest, Attachment::UnlistedReferrer, about);
    }
}

fn push(
    out: &mut HashMap<Digest, Vec<Candidate>>,
    m: &Manifest,
    member: &str,
    digest: Option<Digest>,
    attachment: Attachment,
    about: Digest,
) {
    for (i, l) in m.layers.iter().enumerate() {
        let Some(format) = rules::format_of(&l.media_type) else { continue };
        let blob = Digest::parse(&l.digest);
        out.entry(about).or_default().push(Candidate {
            manifest_member: member.to_string(),
            manifest: digest,
            layer: i,
            blob,
            blob_member: blob.map_or_else(String::new, |d| format!("blobs/sha256/{}", d.hex())),
            annotations: l.annotations.clone(),
            format,
            attachment,
            about,
        });
    }
}

/// The digests an image can be signed under: its manifest's, then each index (in the input,
/// hashing to its digest) that lists it, nearest first. Each with the member holding it.
pub fn signable(catalog: &Catalog, model: &Model, parents: &Parents, image: usize) -> Vec<(Digest, String)> {
    let img = &model.images[image];
    let (Some(digest), Some(member)) = (img.manifest_digest, img.manifest_member.clone()) else {
        return Vec::new();
    };
    if !hashes_to(catalog, &member, &digest) {
        return Vec::new();
    }
    let mut out = vec![(digest, member)];
    let mut i = 0;
    while i < out.len() && out.len() < 64 {
        let child = out[i].0;
        for (d, m) in parents.get(&child).into_iter().flatten() {
            if !out.iter().any(|(x, _)| x == d) {
                out.push((*d, m.clone()));
            }
        }
        i += 1;
    }
    out
}

/// child digest → the indexes (digest, member) that list it.
pub type Parents = HashMap<Digest, Vec<(Digest, String)>>;

/// Which indexes list which manifests, for the indexes that hash to their digest. Read once
/// per model: every image's walk up shares it.
pub fn parents(catalog: &Catalog, model: &Model) -> Parents {
    #[derive(Deserialize)]
    struct Index {
        manifests: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        digest: String,
    }
    let mut out: HashMap<Digest, Vec<(Digest, String)>> = HashMap::new();
    let mut done = HashSet::new();
    for r in model.documents.iter().filter(|r| r.role == Role::Index) {
        let Some(d) = r.blob.digest else { continue };
        if !done.insert(d) || !hashes_to(catalog, &r.blob.member, &d) {
            continue;
        }
        let Some(idx) = catalog.document(&r.blob.member).and_then(|b| serde_json::from_slice::<Index>(b).ok()) else {
            continue;
        };
        for e in idx.manifests {
            if let Some(child) = Digest::parse(&e.digest) {
                out.entry(child).or_default().push((d, r.blob.member.clone()));
            }
        }
    }
    out
}

/// A document's kept bytes hash to `digest`.
pub fn hashes_to(catalog: &Catalog, member: &str, digest: &Digest) -> bool {
    catalog.document(member).is_some_and(|b| Digest::of(b) == *digest)
}
