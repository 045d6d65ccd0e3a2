//! Step 2 of the flow: which format an input is, from its members (never its file name).

use crate::finding::{Code, Finding};
use crate::open::Catalog;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `docker save` before Docker 25, podman, skopeo: manifest.json, `<id>/layer.tar`.
    DockerArchive,
    /// Docker 25+ and containerd's exporter: manifest.json *and* an OCI layout.
    DockerOci,
    /// go-containerregistry's tarball: config member `sha256:<hex>`.
    CraneTarball,
    /// An OCI image layout directory.
    OciLayout,
    /// An OCI image layout in a tar.
    OciArchive,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::DockerOci => "docker-oci",
            Format::CraneTarball => "crane-tarball",
            Format::OciLayout => "oci-layout",
            Format::OciArchive => "oci-archive",
        }
    }
}

pub fn detect(c: &Catalog) -> Option<Format> {
    let oci = c.has("index.json") || c.has("oci-layout");
    if c.has("manifest.json") {
        return Some(if oci {
            Format::DockerOci
        } else if is_crane(c) {
            Format::CraneTarball
        } else {
            Format::DockerArchive
        });
    }
    oci.then_some(if c.is_dir { Format::OciLayout } else { Format::OciArchive })
}

/// crane names the config `sha256:<hex>` where docker writes `<hex>.json`.
fn is_crane(c: &Catalog) -> bool {
    let Some(doc) = c.document("manifest.json") else {
        return false;
    };
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_slice(doc) else {
        return false;
    };
    entries.iter().any(|e| e.get("Config").and_then(|v| v.as_str()).is_some_and(|s| s.starts_with("sha256:")))
}

/// The finding for a readable archive (or directory) that holds no image.
pub fn not_an_image(c: &Catalog) -> Finding {
    let what = if c.is_dir { "directory" } else { "archive" };
    let n = c.members.len();
    Finding::new(
        Code::ManifestInvalid,
        format!("the {what} has no manifest.json and no index.json ({n} members): not a container image archive"),
    )
}

/// Docker 25+ stores each layer's legacy v1 `json` as a blob nothing refers to: normal.
pub fn is_docker_legacy_json(model: &super::Model, content: Option<&crate::scan::Content>) -> bool {
    let Some(crate::scan::Content::Document(doc)) = content else {
        return false;
    };
    if model.format != Some(Format::DockerOci) {
        return false;
    }
    let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(doc) else {
        return false;
    };
    o.contains_key("id") && !o.contains_key("mediaType") && !o.contains_key("schemaVersion")
}
