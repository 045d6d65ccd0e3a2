//! Step 6 of the flow: the report. One data structure, one printer per output format
//! (`human`, `json`). The JSON shape is documented in the README and is stable: fields may be
//! added, never renamed or removed.

pub mod human;
pub mod json;

use crate::digest::Digest;
use crate::finding::Finding;
use crate::model::Format;
use crate::scan::Compression;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub inputs: Vec<InputReport>,
    /// Findings about the inputs together (an `--expect-id` found in none of several inputs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct InputReport {
    pub path: String,
    /// `null` when the input is not an image archive at all.
    pub format: Option<Format>,
    /// The whole-archive wrapping: "none", "gzip" or "zstd".
    pub compression: Compression,
    pub ok: bool,
    pub images: Vec<ImageReport>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct ImageReport {
    pub tags: Vec<String>,
    pub platform: Option<String>,
    /// The image ID: sha256 of the config bytes as stored.
    pub config_digest: Option<Digest>,
    pub manifest_digest: Option<Digest>,
    /// The archive member holding the config.
    pub config_member: String,
    pub layers: Vec<LayerReport>,
    /// `inspect` only: the history aligned to the layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryReport>>,
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
pub struct HistoryReport {
    /// The layer this entry made, or `null` for an empty-layer entry.
    pub layer: Option<usize>,
    pub empty_layer: bool,
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
}

impl InputReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}
