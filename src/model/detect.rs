//! Step 2 of the flow: which format an input is, from its members (never its file name).

use crate::finding::{Code, Finding};
use crate::open::Catalog;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
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
        // A crane tarball is told apart while manifest.json is read (`docker::read`).
        return Some(if oci { Format::DockerOci } else { Format::DockerArchive });
    }
    oci.then_some(if c.is_dir { Format::OciLayout } else { Format::OciArchive })
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
