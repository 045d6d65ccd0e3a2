//! `manifest.json`: docker save (legacy and Docker 25+), podman, skopeo and crane.
//! `[{"Config": path, "RepoTags": [..], "Layers": [paths], "Parent"?, "LayerSources"?}]`

use super::{BlobRef, Image, Model, named_digest};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::open::{Catalog, path};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct Entry {
    #[serde(rename = "Config")]
    pub(crate) config: String,
    #[serde(rename = "RepoTags", default)]
    pub(crate) repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    pub(crate) layers: Vec<String>,
}

/// manifest.json's entries, once `json_keys` found it unambiguous.
pub(crate) fn parse(bytes: &[u8]) -> serde_json::Result<Vec<Entry>> {
    serde_json::from_slice(bytes)
}

pub fn read(catalog: &Catalog, model: &mut Model) {
    let entries: Vec<Entry> = match document(catalog, "manifest.json") {
        Ok(bytes) if model.refuse_ambiguous(bytes, &super::json_keys::MANIFEST_JSON, "manifest.json") => return,
        Ok(bytes) => match parse(bytes) {
            Ok(e) => e,
            Err(e) => {
                model.findings.push(
                    Finding::new(
                        Code::ManifestInvalid,
                        format!("manifest.json is not a list of {{Config, RepoTags, Layers}}: {e}"),
                    )
                    .member("manifest.json"),
                );
                return;
            }
        },
        Err(f) => {
            model.findings.push(f);
            return;
        }
    };
    if entries.is_empty() {
        model
            .findings
            .push(Finding::new(Code::ManifestInvalid, "manifest.json lists no image").member("manifest.json"));
    }
    let legacy = model.format == Some(super::Format::DockerArchive);
    for (n, e) in entries.into_iter().enumerate() {
        let from = format!("manifest.json entry {n}");
        let Some(config) = reference(model, &e.config, &from) else {
            continue;
        };
        let mut layers = Vec::with_capacity(e.layers.len());
        for l in &e.layers {
            let Some(r) = reference(model, l, &from) else {
                continue;
            };
            if legacy {
                check_legacy_id(model, &r.member);
            }
            layers.push(r);
        }
        if layers.len() != e.layers.len() {
            continue; // an unsafe reference: already reported, the image is not checked further
        }
        let _ = model.add_image(Image {
            tags: e.repo_tags.unwrap_or_default(),
            platform: None,
            manifest_digest: None,
            manifest_member: None,
            config,
            layers,
            also: Vec::new(),
            config_doc: None,
        });
    }
    if legacy {
        check_repositories(catalog, model);
    }
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

fn reference(model: &mut Model, raw: &str, from: &str) -> Option<BlobRef> {
    match path::normalize(raw) {
        Ok(member) => Some(BlobRef {
            digest: named_digest(&member),
            member,
            size: None,
            media_type: None,
            urls: Vec::new(),
            from: from.to_string(),
        }),
        Err(why) => {
            model.findings.push(
                Finding::new(Code::UnsafePath, format!("{from} refers to {raw:?}, outside the archive ({why})"))
                    .member(raw),
            );
            None
        }
    }
}

/// Legacy layer directories are named by 64-hex v1 ids; docker used them as paths, and an id
/// like `../x` let an archive write outside its directory (CVE-2014-9358).
fn check_legacy_id(model: &mut Model, member: &str) {
    if let Some((dir, _)) = member.split_once('/')
        && !member.contains("/blobs/")
        && Digest::from_hex(dir).is_none()
    {
        model.findings.push(
            Finding::new(Code::UnsafePath, format!("legacy layer id {dir:?} is not 64 hex digits (CVE-2014-9358)"))
                .member(member),
        );
    }
}

/// `repositories`: `{"name": {"tag": "<v1 id>"}}`; ids must be 64 hex digits too.
fn check_repositories(catalog: &Catalog, model: &mut Model) {
    let Some(doc) = catalog.document("repositories") else {
        return;
    };
    if model.refuse_ambiguous(doc, &super::json_keys::REPOSITORIES, "repositories") {
        return;
    }
    let Ok(serde_json::Value::Object(repos)) = serde_json::from_slice::<serde_json::Value>(doc) else {
        model.findings.push(
            Finding::new(Code::ManifestInvalid, "repositories is not a JSON object of {name: {tag: id}}")
                .member("repositories"),
        );
        return;
    };
    for (name, tags) in &repos {
        for (tag, id) in tags.as_object().into_iter().flatten() {
            if id.as_str().and_then(Digest::from_hex).is_none() {
                model.findings.push(
                    Finding::new(
                        Code::UnsafePath,
                        format!("repositories: {name}:{tag} names layer id {id}, not 64 hex digits (CVE-2014-9358)"),
                    )
                    .member("repositories"),
                );
            }
        }
    }
}
