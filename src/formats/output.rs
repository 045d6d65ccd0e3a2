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

/// How an output format's `index.json` is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexJson {
    /// The input's index, rewritten to list only what was written (its nesting, annotations
    /// and artifacts kept; its bytes where nothing changed); one entry per name where the
    /// input has none or new tags were given.
    FromInput,
    /// One entry per name, as Docker 25+ writes it.
    PerName,
}

/// What each output format holds beside its blobs: one row per format.
struct Holds {
    tar: bool,
    oci_layout: bool,
    index_json: Option<IndexJson>,
    /// Manifests as blobs (crane's tarball has none: manifest.json names config and layers).
    manifests: bool,
    manifest_json: bool,
    repositories: bool,
    /// Signatures, attestations and SBOMs (listed in index.json beside their images).
    artifacts: bool,
    /// One platform per tag: images are named by tag only.
    named_by_tag: bool,
}

impl OutputFormat {
    fn holds(self) -> Holds {
        let (tar, oci_layout, index_json, manifests, manifest_json, repositories, artifacts, named_by_tag) = match self
        {
            OutputFormat::Oci => (false, true, Some(IndexJson::FromInput), true, false, false, true, false),
            OutputFormat::OciArchive => (true, true, Some(IndexJson::FromInput), true, false, false, true, false),
            OutputFormat::Docker => (true, true, Some(IndexJson::PerName), true, true, true, false, true),
            OutputFormat::Crane => (true, false, None, false, true, false, false, true),
        };
        Holds { tar, oci_layout, index_json, manifests, manifest_json, repositories, artifacts, named_by_tag }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Oci => "oci",
            OutputFormat::OciArchive => "oci-archive",
            OutputFormat::Docker => "docker",
            OutputFormat::Crane => "crane",
        }
    }

    /// One tar file (else a directory).
    pub fn is_tar(self) -> bool {
        self.holds().tar
    }

    /// docker and crane archives name images by tag only: one platform per tag, and an OCI
    /// ref name that is only a tag names nothing there.
    pub fn one_platform_per_tag(self) -> bool {
        self.holds().named_by_tag
    }

    pub fn has_oci_layout(self) -> bool {
        self.holds().oci_layout
    }

    pub fn index_json(self) -> Option<IndexJson> {
        self.holds().index_json
    }

    /// Whether images have manifests (and so layers have media types) in this format.
    pub fn has_manifests(self) -> bool {
        self.holds().manifests
    }

    pub fn has_manifest_json(self) -> bool {
        self.holds().manifest_json
    }

    pub fn has_repositories(self) -> bool {
        self.holds().repositories
    }

    /// Whether signatures, attestations and SBOMs can go along with their images.
    pub fn carries_artifacts(self) -> bool {
        self.holds().artifacts
    }

    /// Where a blob lives in the output.
    pub fn blob_path(self, role: BlobKind, digest: &Digest) -> String {
        match (self, role) {
            (OutputFormat::Crane, BlobKind::Config) => digest.to_string(),
            (OutputFormat::Crane, _) => format!("{}.tar.gz", digest.hex()),
            _ => format!("blobs/sha256/{}", digest.hex()),
        }
    }

    /// Whether this format can hold layers of this compression (crane's: gzip only).
    pub fn holds_layers(self, c: Compression) -> bool {
        self != OutputFormat::Crane || c == Compression::Gzip
    }

    /// The compression a layer is written with, given what it has now.
    pub fn layer_compression(self, choice: CompressionChoice, now: Compression) -> Compression {
        if !self.holds_layers(Compression::Zstd) && !self.holds_layers(Compression::None) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_each_format_keeps_its_blobs() {
        let d = Digest::of(b"x");
        assert_eq!(OutputFormat::Crane.blob_path(BlobKind::Config, &d), d.to_string());
        assert_eq!(OutputFormat::Crane.blob_path(BlobKind::Layer, &d), format!("{}.tar.gz", d.hex()));
        for f in [OutputFormat::Oci, OutputFormat::OciArchive, OutputFormat::Docker] {
            assert_eq!(f.blob_path(BlobKind::Config, &d), format!("blobs/sha256/{}", d.hex()));
        }
    }

    #[test]
    fn what_each_format_holds() {
        // Docker 25+'s docker save: an OCI layout with manifest.json and repositories; images only.
        let f = OutputFormat::Docker;
        assert!(f.is_tar() && f.has_oci_layout() && f.has_manifests() && f.has_manifest_json() && f.has_repositories());
        assert!(!f.carries_artifacts() && f.one_platform_per_tag());
        assert_eq!(f.index_json(), Some(IndexJson::PerName));
        let f = OutputFormat::Crane;
        assert!(f.is_tar() && !f.has_oci_layout() && !f.has_manifests() && f.has_manifest_json());
        assert!(!f.has_repositories() && !f.carries_artifacts() && f.index_json().is_none());
        for f in [OutputFormat::Oci, OutputFormat::OciArchive] {
            assert!(f.has_oci_layout() && f.has_manifests() && f.carries_artifacts());
            assert!(!f.has_manifest_json() && !f.has_repositories() && !f.one_platform_per_tag());
            assert_eq!(f.index_json(), Some(IndexJson::FromInput));
        }
        assert!(!OutputFormat::Oci.is_tar() && OutputFormat::OciArchive.is_tar());
    }

    #[test]
    fn which_layers_each_format_holds() {
        let all = [Compression::Gzip, Compression::Zstd, Compression::None];
        for f in [OutputFormat::Oci, OutputFormat::OciArchive, OutputFormat::Docker] {
            assert!(all.iter().all(|c| f.holds_layers(*c)), "{}", f.as_str());
        }
        let crane: Vec<bool> = all.iter().map(|c| OutputFormat::Crane.holds_layers(*c)).collect();
        assert_eq!(crane, [true, false, false]);
    }

    #[test]
    fn layer_compressions() {
        use CompressionChoice as C;
        assert_eq!(OutputFormat::Crane.layer_compression(C::Zstd, Compression::Zstd), Compression::Gzip);
        assert_eq!(OutputFormat::Crane.layer_compression(C::Keep, Compression::None), Compression::Gzip);
        assert_eq!(OutputFormat::Docker.layer_compression(C::Keep, Compression::Zstd), Compression::Gzip);
        assert_eq!(OutputFormat::Docker.layer_compression(C::Zstd, Compression::Gzip), Compression::Zstd);
        assert_eq!(OutputFormat::Oci.layer_compression(C::Keep, Compression::Zstd), Compression::Zstd);
        assert_eq!(OutputFormat::Oci.layer_compression(C::None, Compression::Gzip), Compression::None);
    }
}
