//! Step 6 of the flow: the report. One data structure, one printer per output format
//! (`human`, `json`). The JSON shape is versioned (`json::Kind`: `"schema":
//! "airlock.verify/v2"`), documented in the README and by the JSON Schema generated from these
//! types (`airlock schema verify`): within a version, fields may be added, never renamed or
//! removed. A [`Report`] reads back from its own JSON (`serde::Deserialize`).

pub(crate) mod build;
pub(crate) mod human;
pub mod json;
pub mod salvage;
pub mod signatures;
pub(crate) mod verdict;
pub(crate) mod view;

use crate::digest::Digest;
use crate::finding::Finding;
pub use crate::input::coverage::{Coverage, CoveredMember, MAX_LISTED, Verdict};
use crate::model::Format;
use crate::scan::Compression;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub ok: bool,
    pub inputs: Vec<InputReport>,
    /// Findings about the inputs together (an `--expect-id` found in none of several inputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// Fields only some inputs have (a bundle's, `--target`'s) default to empty.
#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct InputReport {
    pub path: String,
    /// The input's size in bytes: the file's, or the member's for `BUNDLE!MEMBER`; `null` for
    /// a directory (a layout is many files), a split or chunked input (several files), and
    /// an archive or layout read in place inside a bundle.
    pub size: Option<u64>,
    /// sha256 of the input's bytes, computed in the one pass that reads them front to back: a
    /// compressed file, a pipe, a bundle's member read as a stream. `null` where `size` is,
    /// and for a plain tar file, which is read at its members' offsets in parallel rather than
    /// front to back: no pass sees its bytes in order (`sha256sum`, `lock` and `--checksums`
    /// hash the file; with `--checksums` the value is given here).
    pub sha256: Option<Digest>,
    /// `null` when the input is not an image archive at all.
    pub format: Option<Format>,
    /// The whole-archive wrapping: "none", "gzip" or "zstd".
    pub compression: Compression,
    pub ok: bool,
    pub images: Vec<ImageReport>,
    pub findings: Vec<Finding>,
    /// `--target`: per runtime, whether it will load this input (present only with --target).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetVerdict>,
    /// A bundle: the image archives found in it, each reported as an input of its own
    /// named `BUNDLE!MEMBER` (present only for a bundle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    /// A bundle: its other files (scripts, package metadata, components), at most 1,000, in
    /// path order (present only for a bundle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<OtherFile>,
    /// A bundle: how many other files it holds in all (present only for a bundle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_count: Option<usize>,
    /// Signatures, attestations, SBOMs and other artifacts beside the images (present only
    /// when there are some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactReport>,
    /// What became of every member of the input, nested archives included (present on each
    /// input as given; the archives found in a bundle are counted in their bundle's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Box<Coverage>>,
    /// `verify --key` on a Zarf package: its `zarf.yaml` and the signature files over it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signed_files: Vec<signatures::SignedFile>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArtifactReport {
    /// "signature", "attestation", "sbom", "attestation manifest", "hauler artifact", "artifact".
    pub kind: String,
    pub manifest_digest: Option<Digest>,
    pub member: String,
    /// The manifest or index it is about, where it says so.
    pub about: Option<Digest>,
    /// The reported image it is about (its position in `images`), if any.
    pub image: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OtherFile {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetVerdict {
    /// The rule set used, e.g. "docker@24" for `--target docker@24.0.7`.
    pub target: String,
    /// No target-* error: the runtime loads it (what it changes on the way is a warning).
    pub loads: bool,
    /// The real runtimes this rule set was measured with (tests/interop.rs); empty: its
    /// rules come from the runtime's sources only.
    pub measured_with: Vec<Cow<'static, str>>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageReport {
    /// The image's index in its input (`@N`): what `--image @N` selects and what findings
    /// name it by, also under `--image` / `--platform` (which leave others out of `images`).
    pub index: usize,
    /// The references the image is tagged with, normalized as the lock and convert write them
    /// (`airlock/app:1` is `docker.io/airlock/app:1`); one that is not a valid reference is
    /// shown as stored.
    pub tags: Vec<String>,
    pub platform: Option<String>,
    /// The image ID: sha256 of the config bytes as stored (the lock's `image_id`).
    pub image_id: Option<Digest>,
    /// Deprecated alias of `image_id` (the same value), kept in version 2 for the consumers
    /// of version 1; removed in version 3.
    pub config_digest: Option<Digest>,
    pub manifest_digest: Option<Digest>,
    /// The archive member holding the config.
    pub config_member: String,
    pub layers: Vec<LayerReport>,
    /// `inspect` only: the history aligned to the layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryReport>>,
    /// `verify --key` (or a lock that records signatures): the signatures about this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<signatures::SignatureReport>>,
    /// With `signatures`: signature layers past airlock's bounds, counted, not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures_not_checked: Option<usize>,
    /// `inspect` only: what the image runs with (Env, Cmd, Entrypoint, Labels, User,
    /// WorkingDir, ExposedPorts) and when it was created, as its config says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<crate::formats::runtime::RunConfig>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LayerReport {
    /// sha256 of the blob as stored (recomputed by verify; as declared by inspect).
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    pub media_type: Option<String>,
    pub compression: Option<Compression>,
    /// Recomputed from the bytes by verify; the config's by inspect. `null` if it cannot be.
    pub diff_id: Option<Digest>,
    pub chain_id: Option<Digest>,
    pub uncompressed_size: Option<u64>,
    pub member: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HistoryReport {
    /// The layer this entry made, or `null` for an empty-layer entry.
    pub layer: Option<usize>,
    pub empty_layer: bool,
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
}

/// What `convert` wrote.
pub struct ConvertSummary {
    pub images: usize,
    pub layers: usize,
    pub copied: usize,
    pub recompressed: usize,
    pub bytes: u64,
    /// Warnings of the input (the output was written).
    pub findings: Vec<Finding>,
    /// Notes about the output, e.g. an image written untagged.
    pub notes: Vec<String>,
    /// Per image, what was written (`convert --json`).
    pub written: Vec<ConvertedImage>,
    /// The output's size (tar bytes, or the layout's files together).
    pub output_bytes: u64,
}

/// `convert --json`: what was written, image by image and layer by layer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConvertReport {
    /// The output was written.
    pub ok: bool,
    pub input: String,
    /// The output path, or "-" for stdout.
    pub output: String,
    /// The target format: "oci", "oci-archive", "docker" or "crane".
    pub format: &'static str,
    /// Size of the output: the tar's bytes, or the layout's files together; `null` if
    /// nothing was written.
    pub bytes: Option<u64>,
    pub images: Vec<ConvertedImage>,
    /// The input's findings: its warnings, or, when refused, why.
    pub findings: Vec<Finding>,
    /// What the output could not carry or how it differs (e.g. written untagged).
    pub notes: Vec<String>,
}

impl ConvertReport {
    /// What was written: its images and layers, the input's warnings, the notes.
    pub fn written(s: ConvertSummary, input: String, output: String, format: &'static str) -> ConvertReport {
        let (bytes, images, findings, notes) = (Some(s.output_bytes), s.written, s.findings, s.notes);
        ConvertReport { ok: true, input, output, format, bytes, images, findings, notes }
    }

    /// Nothing written: the input's findings say why.
    pub fn refused(report: InputReport, input: String, output: String, format: &'static str) -> ConvertReport {
        let findings = report.findings;
        ConvertReport { ok: false, input, output, format, bytes: None, images: Vec::new(), findings, notes: Vec::new() }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConvertedImage {
    /// Full references the output names the image by.
    pub tags: Vec<String>,
    /// OCI targets: ref names that are only a tag (`app-1`), kept as they were.
    pub ref_names: Vec<String>,
    pub platform: Option<String>,
    /// The image ID, the same before and after (config bytes are copied verbatim).
    pub image_id: Digest,
    /// Deprecated alias of `image_id` (the same value), kept in version 2 for the consumers
    /// of version 1; removed in version 3.
    pub config_digest: Digest,
    pub manifest_digest_before: Option<Digest>,
    /// `null` for crane (no manifest).
    pub manifest_digest_after: Option<Digest>,
    pub layers: Vec<ConvertedLayer>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ConvertedLayer {
    /// "copied" (byte for byte) or "recompressed".
    pub action: &'static str,
    pub member: String,
    pub digest_before: Option<Digest>,
    pub digest_after: Digest,
    pub size_before: u64,
    pub size_after: u64,
    pub compression_before: Option<Compression>,
    pub compression_after: Compression,
    pub media_type_before: Option<String>,
    /// `null` for crane, whose manifest.json has no media types.
    pub media_type_after: Option<String>,
}

impl Report {
    /// A finding about the inputs together (an `--expect-id`, a locked image or a checksum
    /// name found in none of them): with one input it is that input's; with several it
    /// belongs to none of them.
    pub fn push_set_finding(&mut self, f: Finding) {
        match self.inputs.as_mut_slice() {
            [only] => only.findings.push(f),
            _ => self.findings.push(f),
        }
    }
}

impl InputReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
    /// Errors and warnings denied by `--deny`: what makes the input fail.
    pub fn failures(&self) -> usize {
        self.findings.iter().filter(|f| f.fails()).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}
