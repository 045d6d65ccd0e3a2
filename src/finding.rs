//! Findings and their stable codes. A code, once shipped, is never renamed: scripts match on
//! it. Every check module produces findings through [`Finding::new`] with one of these.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($variant:ident = $text:literal, $sev:ident, $doc:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $(#[doc = $doc] $variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    InputUnreadable = "input-unreadable", Error,
        "an input cannot be opened or read at all (no such file, no permission, a directory that is neither an image layout nor a bundle): the run goes on with the other inputs and exits 2";
    ArchiveCorrupt = "archive-corrupt", Error,
        "the container can't be read: truncated tar, broken outer compression, not an archive, empty file";
    ManifestInvalid = "manifest-invalid", Error,
        "manifest.json, index.json, oci-layout or a manifest is missing, not JSON, the wrong shape, or ambiguous";
    ConfigInvalid = "config-invalid", Error,
        "the image config is not JSON or lacks rootfs.diff_ids";
    BlobMissing = "blob-missing", Error,
        "a referenced file or blob is not in the archive";
    BlobDigestMismatch = "blob-digest-mismatch", Error,
        "a blob's sha256 differs from the digest it is named or referenced by";
    BlobSizeMismatch = "blob-size-mismatch", Error,
        "a descriptor's size differs from the blob's";
    DiffIdMismatch = "diff-id-mismatch", Error,
        "a layer's recomputed diffID differs from the config's rootfs.diff_ids entry";
    LayerCountMismatch = "layer-count-mismatch", Error,
        "the number of layers differs from the number of diff_ids";
    HistoryMismatch = "history-mismatch", Error,
        "the number of non-empty history entries differs from the number of layers";
    LayerCorrupt = "layer-corrupt", Error,
        "a layer cannot be decompressed or is not a valid tar";
    LayerCompressionUnsupported = "layer-compression-unsupported", Error,
        "a layer is compressed with lz4, which no container runtime decompresses as a layer";
    MediaTypeMismatch = "media-type-mismatch", Error,
        "a declared media type disagrees with the layer's real compression, or an image's layer is declared with a type that is not a filesystem layer's";
    UnsafePath = "unsafe-path", Error,
        "an archive path, reference or symlink points outside the archive, or a legacy layer id is not 64 hex digits";
    UnsafeLayerEntry = "unsafe-layer-entry", Error,
        "a layer entry would land outside the root when unpacked (absolute or '..' path, hard link outside)";
    DuplicateEntry = "duplicate-entry", Error,
        "the archive holds the same member path twice";
    ExpectedIdMismatch = "expected-id-mismatch", Error,
        "an image ID given with --expect-id is not in the input";
    UnreferencedBlob = "unreferenced-blob", Warning,
        "a blob of an OCI layout that nothing references";
    InvalidReference = "invalid-reference", Warning,
        "a tag that is not a valid image reference";
    PlatformMismatch = "platform-mismatch", Warning,
        "an index's platform disagrees with the config's os/architecture";
    ForeignLayer = "foreign-layer", Warning,
        "a non-distributable layer with URLs is not in the archive; airlock never fetches it";
    UnpackableLayerEntry = "unpackable-layer-entry", Error,
        "a layer entry of a type docker, containerd and podman refuse to unpack (GNU sparse 'S', contiguous '7', ...): the load fails";
    LayerZstdWindow = "layer-zstd-window", Error,
        "a zstd layer needs a window over 512 MiB, the limit of Go's zstd decoder: containerd, podman and docker's graph drivers cannot decompress it (docker 28 with the containerd image store does), and airlock does not, so its diffID is unchecked";
    ArtifactSkipped = "artifact-skipped", Warning,
        "a manifest that is not an image (no filesystem layer, or a config without rootfs) and of no kind airlock knows: its blobs are checked as blobs";
    PlatformAbsent = "platform-absent", Warning,
        "an index lists a platform whose manifest is not in the archive (a partial multi-platform export); the platforms present are checked fully";
    MediaTypeUncompressed = "media-type-uncompressed", Warning,
        "a layer declared compressed is stored uncompressed; docker, containerd and podman detect it and load it";
    ArchiveTrailerIgnored = "archive-trailer-ignored", Warning,
        "a gzip-wrapped archive has extra bytes or a damaged trailer after the tar's end-of-archive marker, or a gzip layer bytes that are not a gzip member after its tar's end; Go's tar reader stops at the marker, so the runtimes load it (a bad CRC or size of an archive fails docker 20.10 with unpigz); every member was verified";
    LockImageMissing = "lock-image-missing", Error,
        "an image the lock pins (by image ID and platform) is in none of the inputs";
    LockTagMismatch = "lock-tag-mismatch", Error,
        "a tag the lock pins is missing, or names another image than the lock says";
    LockImageUnlisted = "lock-image-unlisted", Warning,
        "an input holds an image the lock does not list";
    TargetFormatUnsupported = "target-format-unsupported", Error,
        "--target: the runtime does not load this archive format (e.g. docker before the containerd store and an OCI-only archive)";
    TargetCompressionUnsupported = "target-compression-unsupported", Error,
        "--target: the runtime cannot decompress the archive or its layers (e.g. zstd before Docker 23, any wrapped archive for ctr)";
    TargetZstdWindow = "target-zstd-window", Error,
        "--target k3s/rke2: the zstd-wrapped archive needs a window over the loader's 32 MiB";
    TargetPlatformMissing = "target-platform-missing", Error,
        "--target: the runtime imports every platform, and some are absent (a partial multi-platform export)";
    TargetExtensionMismatch = "target-extension-mismatch", Error,
        "--target k3s/rke2: the file name's extension picks another decompressor than the content needs, or none";
    TargetLoadChanges = "target-load-changes", Warning,
        "--target: the runtime loads it, but changes something on the way (tags, media types, skipped manifests)";
    BundleChecksumsInvalid = "bundle-checksums-invalid", Error,
        "a bundle's checksum list is missing, malformed, or not the one its manifest pins (Zarf: checksums.txt against aggregateChecksum)";
    BundleFileMissing = "bundle-file-missing", Error,
        "a file a bundle's checksum list names, or a part of a split or chunked file, is not there";
    BundleChecksumMismatch = "bundle-checksum-mismatch", Error,
        "a bundle file's sha256 differs from its checksum line";
    BundleFileUnlisted = "bundle-file-unlisted", Error,
        "a bundle holds a file its checksum list does not name (zarf package verify refuses it)";
    BundleNotSearched = "bundle-not-searched", Error,
        "an input holds an archive airlock does not open (nested more than 6 deep, past 1,024 archives, or past the bytes read again): a runtime could load it unverified";
    ChecksumMissing = "checksum-missing", Error,
        "--checksums: a name in a checksum list matches no input or bundle member";
    ChecksumMismatch = "checksum-mismatch", Error,
        "--checksums: an input or bundle member hashes to another sha256 than its checksum line";
    LockManifestChanged = "lock-manifest-changed", Warning,
        "a locked image arrived with another manifest digest or re-compressed layer blobs (same image ID and diffIDs)";
    TagConflict = "tag-conflict", Error,
        "one tag names two different images, in one input or across the inputs of one run: docker load and ctr images import leave it on the last one loaded";
    DeltaCorrupt = "delta-corrupt", Error,
        "apply: the delta's members differ from what its airlock-delta.json records (a digest, a size, a member missing or unlisted), or its tar cannot be read";
    DeltaBaseMissing = "delta-base-missing", Error,
        "apply: a blob the delta needs from the far side is in none of the base inputs";
    DeltaBaseCorrupt = "delta-base-corrupt", Error,
        "apply: the base inputs hold a blob the delta needs, but no copy of it hashes to its digest";
    SignatureMissing = "signature-missing", Error,
        "--key: no signature is attached to the image (no cosign .sig tag, cosign save entry or OCI 1.1 referrer names its manifest or an index listing it)";
    SignatureInvalid = "signature-invalid", Error,
        "--key: the image's signatures verify with none of the keys over a payload naming its digest (another key, another image's signature, a payload or signature changed after signing, malformed, keyless)";
    LockSignatureMissing = "lock-signature-missing", Error,
        "an image the lock records with signatures arrived with none of them (a copy that leaves signatures behind), or, with --key, a locked key no longer verifies any of its signatures";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Code {
    /// The code named `s` (as `as_str` spells it).
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a finding code")))
    }
}

/// In the JSON Schema: one of the codes, each with its severity and meaning.
impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one_of: Vec<serde_json::Value> = Code::ALL
            .iter()
            .map(|c| {
                let sev = match c.severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                serde_json::json!({"const": c.as_str(), "description": format!("{sev}: {}", c.description())})
            })
            .collect();
        schemars::json_schema!({"type": "string", "description": "A finding code (stable: never renamed).", "oneOf": one_of})
    }
}

/// One finding. `image` and `layer` are indexes into the report's image and layer lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub image: Option<usize>,
    pub layer: Option<usize>,
    pub member: Option<String>,
    /// A warning that `--deny` turned into a failure (present in JSON only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub denied: bool,
}

impl Finding {
    pub fn new(code: Code, message: impl Into<String>) -> Finding {
        Finding {
            severity: code.severity(),
            code,
            message: message.into(),
            image: None,
            layer: None,
            member: None,
            denied: false,
        }
    }
    pub fn image(mut self, i: usize) -> Self {
        self.image = Some(i);
        self
    }
    pub fn layer(mut self, l: usize) -> Self {
        self.layer = Some(l);
        self
    }
    pub fn member(mut self, m: impl Into<String>) -> Self {
        self.member = Some(m.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// An error, or a warning `--deny` made fail the input.
    pub fn fails(&self) -> bool {
        self.is_error() || self.denied
    }
}
