//! The image config: what the checks need of it (diff_ids, history, platform), read in one
//! pass (`json_keys::parse`) into these types; everything else in it is skipped.

use super::bounded::{Capped, Weigh};
use super::json_keys;
use crate::digest::Digest;
use crate::scan::{BlobScan, Content};
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub diff_ids: Vec<Digest>,
    /// `None` when the config has no history at all (allowed).
    pub history: Option<Vec<HistoryEntry>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

impl Weigh for HistoryEntry {
    fn weight(&self) -> usize {
        [&self.created, &self.created_by, &self.comment].iter().map(|s| s.as_ref().map_or(0, String::len)).sum()
    }
}

/// Why a config cannot be used. `NoRootfs` is told apart: a config without one is not an
/// image config at all (an OCI artifact's `{}`), which decides image or artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Keys Go reads differently from airlock (`json_keys`): refused, never carried.
    Ambiguous(Vec<String>),
    /// No key Go would read as `rootfs`.
    NoRootfs,
    /// Anything else: not JSON, the wrong shape, a bad diffID, too large.
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Ambiguous(found) => write!(f, "ambiguous, refused: {}", found.join("; ")),
            ConfigError::NoRootfs => f.write_str("no rootfs"),
            ConfigError::Invalid(why) => f.write_str(why),
        }
    }
}

/// The config as read: the fields airlock uses, nothing else kept.
#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<Rootfs>,
    #[serde(default)]
    history: Option<Capped<HistoryEntry, { super::MAX_HISTORY }>>,
}

#[derive(Deserialize)]
struct Rootfs {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    diff_ids: Option<Capped<String, { super::MAX_LAYERS }>>,
}

pub fn parse(bytes: &[u8]) -> Result<ImageConfig, ConfigError> {
    let parsed = json_keys::parse::<Doc>(bytes, &json_keys::IMAGE_CONFIG);
    if !parsed.ambiguous.is_empty() {
        return Err(ConfigError::Ambiguous(parsed.ambiguous));
    }
    let doc = parsed.value.map_err(|e| ConfigError::Invalid(format!("not an image config: {e}")))?;
    let rootfs = doc.rootfs.ok_or(ConfigError::NoRootfs)?;
    if let Some(t) = rootfs.kind
        && t != "layers"
    {
        return Err(ConfigError::Invalid(format!("rootfs.type is {t:?}, not \"layers\"")));
    }
    let ids = rootfs.diff_ids.ok_or_else(|| ConfigError::Invalid("no rootfs.diff_ids array".into()))?.0;
    let mut diff_ids = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let d = Digest::parse(id)
            .ok_or_else(|| ConfigError::Invalid(format!("rootfs.diff_ids[{i}] is not a sha256 digest: {id:?}")))?;
        diff_ids.push(d);
    }
    Ok(ImageConfig {
        os: doc.os,
        architecture: doc.architecture,
        variant: doc.variant,
        diff_ids,
        history: doc.history.map(|h| h.0),
    })
}

/// Why a member that should be a config is not a JSON document we kept.
pub fn not_a_document(scan: &BlobScan) -> String {
    match scan.content {
        Content::OversizedDocument => format!(
            "{} bytes, more than the {} MiB airlock reads of a JSON document (or past the {} MiB it holds at once)",
            scan.size,
            crate::scan::blob::MAX_DOCUMENT >> 20,
            crate::scan::blob::MAX_DOCUMENTS_TOTAL >> 20
        ),
        _ => "not JSON".to_string(),
    }
}

impl ImageConfig {
    /// History entries that made a layer, in order.
    pub fn layer_history(&self) -> Option<Vec<&HistoryEntry>> {
        self.history.as_ref().map(|h| h.iter().filter(|e| !e.empty_layer).collect())
    }

    /// Bytes of text kept from the config (its history), counted against the model's budget.
    pub fn weight(&self) -> usize {
        self.history.as_ref().map_or(0, |h| h.iter().map(Weigh::weight).sum())
    }
}
