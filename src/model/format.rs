//! Which format an input is (`formats::detect` tells it from the members).

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
