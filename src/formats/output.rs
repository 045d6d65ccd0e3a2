//! The output formats convert writes (`--to`): where each keeps its blobs, which media types
//! and compressions it holds, and which top-level documents it has.

use crate::digest::Digest;
use crate::scan::Compression;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An OCI image layout directory
    Oci,
    /// An OCI image layout in one tar
    OciArchive,
    /// The layout Docker 25+ writes: manifest.json and index.json over blobs/sha256
    Docker,
    /// go-containerregistry's tarball: config `sha256:<hex>`, gzip layers `<hex>.tar.gz`
    Crane,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionChoice {
    /// Keep each layer's compression (docker target: zstd becomes gzip)
    Keep,
    Gzip,
    Zstd,
    /// Uncompressed layers
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    Config,
    Layer,
    /// Manifests and nested indexes.
    Document,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Oci => "oci",
            OutputFormat::OciArchive => "oci-archive",
            OutputFormat::Docker => "docker",
            OutputFormat::Crane => "crane",
        }
    }

    pub fn is_tar(self) -> bool {
        self != OutputFormat::Oci
    }

    /// docker and crane archives name images by tag only: one platform per tag.
    pub fn one_platform_per_tag(self) -> bool {
        matches!(self, OutputFormat::Docker | OutputFormat::Crane)
    }

    pub fn has_oci_layout(self) -> bool {
        self != OutputFormat::Crane
    }

    /// Where a blob lives in the output.
    pub fn blob_path(self, role: BlobKind, digest: &Digest) -> String {
        match (self, role) {
            (OutputFormat::Crane, BlobKind::Config) => digest.to_string(),
            (OutputFormat::Crane, _) => format!("{}.tar.gz", digest.hex()),
            _ => format!("blobs/sha256/{}", digest.hex()),
        }
    }

    /// The compression a layer is written with, given what it has now.
    pub fn layer_compression(self, choice: CompressionChoice, now: Compression) -> Compression {
        if self == OutputFormat::Crane {
            return Compression::Gzip; // crane's format has gzip layers only
        }
        match choice {
            // Docker before 23 cannot load zstd layers.
            CompressionChoice::Keep if self == OutputFormat::Docker && now == Compression::Zstd => Compression::Gzip,
            CompressionChoice::Keep => now,
            CompressionChoice::Gzip => Compression::Gzip,
            CompressionChoice::Zstd => Compression::Zstd,
            CompressionChoice::None => Compression::None,
        }
    }
}
