//! `manifest.json`: docker save (legacy and Docker 25+), podman, skopeo and crane.
//! `[{"Config": path, "RepoTags": [..], "Layers": [paths], "Parent"?, "LayerSources"?}]`

use super::bounded::Capped;
use super::{json_keys, named_digest};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::{BlobRef, Format, Image, MAX_LAYERS, Model};
use crate::open::{Catalog, path};
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One entry of manifest.json: the fields airlock reads, and all it writes (in this order,
/// as docker does).
#[derive(Deserialize, Serialize)]
pub struct ManifestJsonEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Capped<String, 100_000>>,
    #[serde(rename = "Layers")]
    pub layers: Capped<String, MAX_LAYERS>,
}

pub fn read(catalog: &Catalog, model: &mut Model) {
    let bytes = match document(catalog, "manifest.json") {
        Ok(b) => b,
        Err(f) => return model.note(f),
    };
    let before = model.findings.len();
    let mut entries = Entries { model, n: 0, crane: false, legacy_ids: BTreeSet::new(), unsafe_refs: BTreeSet::new() };
    let parsed = json_keys::parse_seed(bytes, &json_keys::MANIFEST_JSON, &mut entries);
    let Entries { n, crane, legacy_ids, .. } = entries;
    if !parsed.ambiguous.is_empty() {
        // Nothing of an ambiguous manifest.json is kept: which image it names is in doubt.
        model.forget_images(before);
        model.refuse_ambiguous(&parsed.ambiguous, "manifest.json");
        return;
    }
    if let Err(e) = parsed.value {
        model.note(
            Finding::new(
                Code::ManifestInvalid,
                format!("manifest.json is not a list of {{Config, RepoTags, Layers}}: {e}"),
            )
            .member("manifest.json"),
        );
        return;
    }
    if n == 0 {
        model
            .findings
            .push(Finding::new(Code::ManifestInvalid, "manifest.json lists no image").member("manifest.json"));
    }
    // go-containerregistry names the config `sha256:<hex>` where docker writes `<hex>.json`.
    if crane && model.format == Some(Format::DockerArchive) {
        model.format = Some(Format::CraneTarball);
    }
    if model.format == Some(Format::DockerArchive) {
        for member in legacy_ids {
            model.note(
                Finding::new(
                    Code::UnsafePath,
                    format!("legacy layer id {:?} is not 64 hex digits (CVE-2014-9358)", legacy_dir(&member)),
                )
                .member(member),
            );
        }
        check_repositories(catalog, model);
    }
}

/// Reads manifest.json's entries one at a time into the model: memory holds one entry and
/// the images found (a repeated image merges), never the whole list.
struct Entries<'m> {
    model: &'m mut Model,
    n: usize,
    /// A config named `sha256:<hex>`: a crane tarball.
    crane: bool,
    /// Layer members whose legacy directory is not a 64-hex id (reported for docker-archive).
    legacy_ids: BTreeSet<String>,
    /// References already reported as leaving the archive.
    unsafe_refs: BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for &mut Entries<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut Entries<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of {Config, RepoTags, Layers}")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<ManifestJsonEntry>()? {
            self.entry(e);
            self.n += 1;
        }
        Ok(())
    }
}

impl Entries<'_> {
    fn entry(&mut self, e: ManifestJsonEntry) {
        let from: std::sync::Arc<str> = format!("manifest.json entry {}", self.n).into();
        self.crane |= e.config.starts_with("sha256:");
        let Some(config) = self.reference(&e.config, &from) else {
            return;
        };
        let mut layers = Vec::with_capacity(e.layers.0.len());
        for l in &e.layers.0 {
            let Some(r) = self.reference(l, &from) else {
                return; // an unsafe reference: already reported, the image is not checked further
            };
            if legacy_dir(&r.member).is_some() && self.legacy_ids.len() < MAX_LAYERS {
                self.legacy_ids.insert(r.member.clone());
            }
            layers.push(r);
        }
        let tags = e.repo_tags.map(|t| t.0).unwrap_or_default();
        let image = Image {
            tags: tags.clone(),
            platform: None,
            manifest_digest: None,
            manifest_member: None,
            config,
            layers,
            also: Vec::new(),
            config_doc: None,
        };
        if let Some(at) = self.model.add_image(image, "manifest.json") {
            for t in &tags {
                self.model.hold_tag(t, &from, vec![at], "manifest.json");
            }
        }
    }

    fn reference(&mut self, raw: &str, from: &std::sync::Arc<str>) -> Option<BlobRef> {
        match path::normalize(raw) {
            Ok(member) => Some(BlobRef {
                digest: named_digest(&member),
                member,
                size: None,
                media_type: None,
                urls: Vec::new(),
                from: from.clone(),
            }),
            Err(why) => {
                if self.unsafe_refs.len() < MAX_LAYERS && self.unsafe_refs.insert(raw.to_string()) {
                    self.model.note(
                        Finding::new(
                            Code::UnsafePath,
                            format!("{from} refers to {raw:?}, outside the archive ({why})"),
                        )
                        .member(raw),
                    );
                }
                None
            }
        }
    }
}

/// Legacy layer directories are named by 64-hex v1 ids; docker used them as paths, and an id
/// like `../x` let an archive write outside its directory (CVE-2014-9358). The directory of
/// `member` when it is not such an id.
fn legacy_dir(member: &str) -> Option<&str> {
    let (dir, _) = member.split_once('/')?;
    // Docker 25+ names layers `blobs/sha256/<hex>`; an archive that keeps those paths without
    // its index.json (docker 26 and 28 and podman load it, measured) has no legacy ids.
    (dir != "blobs" && !member.contains("/blobs/") && Digest::from_hex(dir).is_none()).then_some(dir)
}

/// The bytes of a JSON document the format requires, or the finding saying why not.
pub fn document<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a [u8], Finding> {
    if let Some(d) = catalog.document(name) {
        return Ok(d);
    }
    let why = match catalog.scan_of(name) {
        None if !catalog.has(name) => "is missing".to_string(),
        None => "cannot be read".to_string(),
        Some(s) => super::config::not_a_document(s),
    };
    Err(Finding::new(Code::ManifestInvalid, format!("{name} {why}")).member(name))
}

/// `repositories`: `{"name": {"tag": "<v1 id>"}}`; ids must be 64 hex digits too.
fn check_repositories(catalog: &Catalog, model: &mut Model) {
    let Some(doc) = catalog.document("repositories") else {
        return;
    };
    let mut bad = BadIds::default();
    let parsed = json_keys::parse_seed(doc, &json_keys::REPOSITORIES, &mut bad);
    if model.refuse_ambiguous(&parsed.ambiguous, "repositories") {
        return;
    }
    if parsed.value.is_err() {
        model.note(
            Finding::new(Code::ManifestInvalid, "repositories is not a JSON object of {name: {tag: id}}")
                .member("repositories"),
        );
        return;
    }
    for (name, tag, id) in &bad.listed {
        model.note(
            Finding::new(
                Code::UnsafePath,
                format!("repositories: {name}:{tag} names layer id {id:?}, not 64 hex digits (CVE-2014-9358)"),
            )
            .member("repositories"),
        );
    }
    if bad.count > bad.listed.len() {
        model.note(
            Finding::new(Code::UnsafePath, format!("repositories: {} more such ids", bad.count - bad.listed.len()))
                .member("repositories"),
        );
    }
}

/// The ids of `repositories` that are not 64 hex digits, found as the document is read: the
/// first few (name, tag, id), and how many in all.
#[derive(Default)]
struct BadIds {
    listed: Vec<(String, String, String)>,
    count: usize,
    name: String,
}

impl<'de> DeserializeSeed<'de> for &mut BadIds {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(Level(self, 0))
    }
}

/// The two levels of `repositories`: names (0), then each name's tags (1).
struct Level<'a>(&'a mut BadIds, u8);

impl<'de> DeserializeSeed<'de> for Level<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of {name: {tag: id}}")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Level(bad, level) = self;
        while let Some(key) = map.next_key::<String>()? {
            if level == 0 {
                bad.name = key;
                map.next_value_seed(Level(&mut *bad, 1))?;
                continue;
            }
            let id: String = map.next_value()?;
            if Digest::from_hex(&id).is_none() {
                bad.count += 1;
                if bad.listed.len() < 16 {
                    bad.listed.push((bad.name.clone(), key, id));
                }
            }
        }
        Ok(())
    }
}

/// Docker 25+ stores each layer's legacy v1 `json` as a blob nothing refers to: normal.
pub fn is_docker_legacy_json(model: &Model, content: Option<&crate::scan::Content>) -> bool {
    let Some(crate::scan::Content::Document(doc)) = content else {
        return false;
    };
    if model.format != Some(Format::DockerOci) {
        return false;
    }
    /// The keys that tell a v1 json from an OCI document; nothing else is read or kept.
    #[derive(serde::Deserialize)]
    struct Probe {
        id: Option<serde::de::IgnoredAny>,
        #[serde(rename = "mediaType")]
        media_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<serde::de::IgnoredAny>,
    }
    let Ok(p) = serde_json::from_slice::<Probe>(&doc[..]) else {
        return false;
    };
    p.id.is_some() && p.media_type.is_none() && p.schema_version.is_none()
}

/// docker's familiar form: `docker.io/library/nginx:1` → `nginx:1`.
pub fn familiar(full: &str) -> String {
    let s = full.strip_prefix("docker.io/").unwrap_or(full);
    s.strip_prefix("library/").filter(|r| !r.contains('/')).unwrap_or(s).to_string()
}

impl ManifestJsonEntry {
    /// An entry to write: the config's and layers' paths, and the image's familiar names.
    pub fn new(config: String, repo_tags: Vec<String>, layers: Vec<String>) -> ManifestJsonEntry {
        ManifestJsonEntry { config, repo_tags: Some(Capped(repo_tags)), layers: Capped(layers) }
    }
}

/// manifest.json's bytes.
pub fn manifest_json(entries: &[ManifestJsonEntry]) -> Vec<u8> {
    serde_json::to_vec(entries).expect("serializes")
}

/// `repositories`: familiar name → tag → the top layer's hex, as Docker 25+ writes it.
pub fn repositories(entries: &[(String, Digest)]) -> Option<Vec<u8>> {
    let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (tag_ref, top) in entries {
        if tag_ref.contains('@') {
            continue;
        }
        let last_slash = tag_ref.rfind('/').map_or(0, |i| i + 1);
        let Some(colon) = tag_ref[last_slash..].rfind(':') else {
            continue;
        };
        let (name, tag) = tag_ref.split_at(last_slash + colon);
        repos.entry(name.to_string()).or_default().insert(tag[1..].to_string(), top.hex());
    }
    (!repos.is_empty()).then(|| serde_json::to_vec(&repos).expect("serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn familiar_names() {
        assert_eq!(familiar("docker.io/library/nginx:1"), "nginx:1");
        assert_eq!(familiar("docker.io/local/app:1"), "local/app:1");
        assert_eq!(familiar("quay.io/x/y:2"), "quay.io/x/y:2");
    }

    #[test]
    fn manifest_json_reads_what_it_writes() {
        let e = ManifestJsonEntry::new("c.json".into(), vec!["app:1".into()], vec!["l/layer.tar".into()]);
        let bytes = manifest_json(&[e]);
        assert_eq!(bytes, br#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["l/layer.tar"]}]"#);
        let back: Vec<ManifestJsonEntry> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            (back[0].config.as_str(), back[0].layers.0.as_slice()),
            ("c.json", &["l/layer.tar".to_string()][..])
        );
    }
}
