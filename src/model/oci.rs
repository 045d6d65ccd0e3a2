//! OCI image layouts: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. Indexes may nest; the
//! walk is bounded in depth and refuses cycles, so a hostile layout ends in a finding.

use super::{BlobRef, Image, Model, Platform, Reference, Role};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::open::Catalog;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Deeper than any real layout (they nest two or three levels).
const MAX_DEPTH: usize = 16;

pub const INDEX_TYPES: &[&str] =
    &["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
pub const CONFIG_TYPES: &[&str] =
    &["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

#[derive(Deserialize, Clone, Debug)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub digest: String,
    pub size: i64,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
}

/// The tag a descriptor carries: containerd's full name if present, else the OCI ref name.
pub fn descriptor_tag(d: &Descriptor) -> Option<String> {
    let a = d.annotations.as_ref()?;
    a.get("io.containerd.image.name").or_else(|| a.get("org.opencontainers.image.ref.name")).cloned()
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
}

/// Far more documents than any real layout holds (k3s airgap bundles hold a few hundred).
const MAX_VISITS: usize = 20_000;

pub fn read(catalog: &Catalog, model: &mut Model) {
    check_layout_file(catalog, model);
    let index = match super::docker::document(catalog, "index.json") {
        Ok(b) => b,
        Err(f) => {
            model.findings.push(f);
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
    };
    walk.document(index, "index.json", None, &[], None, 0);
    super::artifacts::link_cosign_layout(index, &mut model.artifacts);
}

fn check_layout_file(catalog: &Catalog, model: &mut Model) {
    // Hauler's `--containerd` haul drops oci-layout and keeps manifest.json beside index.json:
    // every loader reads that (docker manifest.json, containerd either). Without both, the
    // OCI layout's marker is required.
    if !catalog.has("oci-layout") && catalog.has("manifest.json") {
        return;
    }
    let bad = match super::docker::document(catalog, "oci-layout") {
        Err(f) => Some(f.message),
        Ok(b) if model.refuse_ambiguous(b, &super::json_keys::OCI_LAYOUT, "oci-layout") => None,
        Ok(b) => match serde_json::from_slice::<Value>(b) {
            Ok(v) if v.get("imageLayoutVersion").and_then(Value::as_str).is_some() => None,
            _ => Some("oci-layout is not {\"imageLayoutVersion\": \"1.0.0\"}".to_string()),
        },
    };
    if let Some(msg) = bad {
        model.findings.push(Finding::new(Code::ManifestInvalid, msg).member("oci-layout"));
    }
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
        let v: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                return self.model.findings.push(invalid(member, format!("{member} is not JSON: {e}")));
            }
        };
        // Checked before anything is read from it: `Manifests` beside `layers` is as
        // ambiguous as the CVE-2021-41190 case below, to Go's case-insensitive decoder.
        if self.model.refuse_ambiguous(bytes, &super::json_keys::OCI_DOCUMENT, member) {
            return;
        }
        let has = |k: &str| v.get(k).is_some();
        if has("manifests") && (has("layers") || has("config")) {
            return self.model.findings.push(invalid(
                member,
                format!(
                    "{member} has both \"manifests\" and \"layers\"/\"config\": ambiguous, refused (CVE-2021-41190)"
                ),
            ));
        }
        let doc_type = v.get("mediaType").and_then(Value::as_str);
        if let (Some(d), Some(dt)) = (desc.and_then(|d| d.media_type.as_deref()), doc_type)
            && d != dt
        {
            self.model
                .findings
                .push(invalid(member, format!("{member}: the descriptor says mediaType {d}, the document says {dt}")));
        }
        if has("manifests") {
            self.index(&v, member, tags, platform, depth);
        } else if has("config") && has("layers") {
            self.manifest(&v, member, desc, tags, platform);
        } else if member == "index.json" {
            self.model.findings.push(invalid(member, "index.json has no \"manifests\" list".to_string()));
        } else {
            self.model
                .findings
                .push(invalid(member, format!("{member} is neither an image index nor an image manifest")));
        }
    }

    fn index(&mut self, v: &Value, member: &str, tags: &[String], platform: Option<&Platform>, depth: usize) {
        let descs: Vec<Descriptor> = match v.get("manifests").cloned().map(serde_json::from_value) {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                return self
                    .model
                    .findings
                    .push(invalid(member, format!("{member}: a manifests entry is not a descriptor: {e}")));
            }
            None => return,
        };
        if descs.is_empty() && member == "index.json" {
            self.model.findings.push(invalid(member, "index.json lists no manifest".to_string()));
        }
        for d in &descs {
            let mut tags = tags.to_vec();
            if let Some(t) = descriptor_tag(d) {
                tags.push(t);
            }
            let platform = d.platform.as_ref().or(platform);
            let Some(blob) = self.blob_ref(d, member) else {
                continue;
            };
            let role = if d.media_type.as_deref().is_some_and(|m| INDEX_TYPES.contains(&m)) {
                Role::Index
            } else {
                Role::Manifest
            };
            // A platform's manifest that is not in the archive at all: the other platforms
            // of a partial export. Reported once per manifest (platform-absent), not as a
            // broken reference; a manifest that is present but incomplete stays an error.
            if role == Role::Manifest
                && let Some(p) = d.platform.as_ref()
                && !self.catalog.has(&blob.member)
            {
                let digest = blob.digest.expect("blob_ref only returns sha256 references");
                if self.absent_seen.insert(digest) {
                    self.model.absent.push(super::AbsentPlatform {
                        platform: p.clone(),
                        digest,
                        index: member.to_string(),
                    });
                }
                continue;
            }
            self.model.documents.push(Reference { role, blob: blob.clone(), image: None, layer: None });
            if depth + 1 > MAX_DEPTH {
                self.model
                    .findings
                    .push(invalid(member, format!("indexes nest deeper than {MAX_DEPTH} levels at {}", blob.member)));
                continue;
            }
            let digest = blob.digest.expect("blob_ref only returns sha256 references");
            if self.stack.contains(&digest) {
                self.model.findings.push(invalid(member, format!("index cycle: {member} leads back to {digest}")));
                continue;
            }
            if let Some(images) = self.seen.get(&digest).cloned() {
                // Read before: its images take this path's tags too, nothing is parsed again.
                // Each image merged counts against the budget, so repeats stay bounded.
                self.visits += images.len().max(1);
                if !tags.is_empty() {
                    for &i in &images {
                        self.model.add_tags(i, tags.clone());
                    }
                }
                self.reached.extend(images);
                if self.visits > MAX_VISITS {
                    return self.model.findings.push(invalid(
                        member,
                        format!("the indexes lead to more than {MAX_VISITS} documents; the rest is not read"),
                    ));
                }
                continue;
            }
            self.visits += 1;
            if self.visits > MAX_VISITS {
                self.model.findings.push(invalid(
                    member,
                    format!("the indexes lead to more than {MAX_VISITS} documents; the rest is not read"),
                ));
                return;
            }
            // A missing or unreadable document is reported by the blob checks.
            let Some(bytes) = self.catalog.document(&blob.member) else {
                if let Some(s) = self.catalog.scan_of(&blob.member) {
                    let why = super::config::not_a_document(s);
                    self.model.findings.push(invalid(&blob.member, format!("manifest {digest} is {why}")));
                }
                continue;
            };
            self.stack.push(digest);
            let from = self.reached.len();
            self.document(bytes, &blob.member, Some(d), &tags, platform, depth + 1);
            self.stack.pop();
            self.seen.insert(digest, self.reached[from..].to_vec());
        }
    }

    fn manifest(
        &mut self,
        v: &Value,
        member: &str,
        desc: Option<&Descriptor>,
        tags: &[String],
        platform: Option<&Platform>,
    ) {
        let config: Descriptor = match v.get("config").cloned().map(serde_json::from_value) {
            Some(Ok(c)) => c,
            _ => {
                return self.model.findings.push(invalid(member, format!("{member}: config is not a descriptor")));
            }
        };
        let layers: Vec<Descriptor> = match v.get("layers").cloned().map(serde_json::from_value) {
            Some(Ok(l)) => l,
            _ => {
                return self
                    .model
                    .findings
                    .push(invalid(member, format!("{member}: layers is not a list of descriptors")));
            }
        };
        let Some(config_ref) = self.blob_ref(&config, member) else {
            return;
        };
        let mut layer_refs = Vec::new();
        for l in &layers {
            let Some(r) = self.blob_ref(l, member) else {
                return;
            };
            layer_refs.push(r);
        }
        // A signature or attestation can borrow the image config type (cosign does): its
        // "layers" are JSON payloads, not filesystem layers, so their media types decide.
        let known = super::artifacts::kind(&layers, desc);
        let is_image = known.is_none()
            && config.media_type.as_deref().is_none_or(|m| CONFIG_TYPES.contains(&m))
            && layers.iter().all(|l| l.media_type.as_deref().is_none_or(super::artifacts::is_layer_type));
        if !is_image {
            self.model.artifacts.push(super::Artifact {
                kind: known.unwrap_or("artifact").to_string(),
                member: member.to_string(),
                digest: desc.and_then(|d| Digest::parse(&d.digest)),
                subject: super::artifacts::subject(v, desc),
                blobs: std::iter::once(config_ref.clone()).chain(layer_refs.iter().cloned()).collect(),
            });
            // Signatures, attestations and other artifacts: their blobs are checked as blobs
            // (digest and size) and count as referenced. A kind airlock knows travels with
            // its image as expected content; any other is pointed out.
            if known.is_none() {
                self.model.findings.push(
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
            return;
        }
        let at = self.model.add_image(Image {
            tags: tags.to_vec(),
            platform: platform.cloned(),
            manifest_digest: desc.and_then(|d| Digest::parse(&d.digest)),
            manifest_member: Some(member.to_string()),
            config: config_ref,
            layers: layer_refs,
            also: Vec::new(),
            config_doc: None,
        });
        self.reached.push(at);
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
            self.model.findings.push(
                Finding::new(
                    code,
                    format!("{from} refers to digest {:?}, which is not sha256:<64 hex digits>", d.digest),
                )
                .member(from),
            );
            return None;
        };
        if d.size < 0 {
            self.model.findings.push(invalid(from, format!("{from}: descriptor {digest} has a negative size")));
            return None;
        }
        Some(BlobRef {
            member: format!("blobs/sha256/{}", digest.hex()),
            digest: Some(digest),
            size: Some(d.size as u64),
            media_type: d.media_type.clone(),
            urls: d.urls.clone().unwrap_or_default(),
            from: from.to_string(),
        })
    }
}
