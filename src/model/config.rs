//! The image config: what the checks need of it (diff_ids, history, platform).

use crate::digest::Digest;
use crate::scan::{BlobScan, Content};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub diff_ids: Vec<Digest>,
    /// `None` when the config has no history at all (allowed).
    pub history: Option<Vec<HistoryEntry>>,
}

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub empty_layer: bool,
}

/// How a config refused by `json_keys` is described (the model recognises it by this).
pub const AMBIGUOUS: &str = "ambiguous, refused: ";

pub fn parse(bytes: &[u8]) -> Result<ImageConfig, String> {
    let found = super::json_keys::ambiguous_keys(bytes, &super::json_keys::IMAGE_CONFIG);
    if !found.is_empty() {
        return Err(format!("{AMBIGUOUS}{}", found.join("; ")));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let rootfs = obj.get("rootfs").ok_or("no rootfs")?;
    if let Some(t) = rootfs.get("type").and_then(Value::as_str)
        && t != "layers"
    {
        return Err(format!("rootfs.type is {t:?}, not \"layers\""));
    }
    let ids = rootfs.get("diff_ids").and_then(Value::as_array).ok_or("no rootfs.diff_ids array")?;
    let mut diff_ids = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let d = id
            .as_str()
            .and_then(Digest::parse)
            .ok_or_else(|| format!("rootfs.diff_ids[{i}] is not a sha256 digest: {id}"))?;
        diff_ids.push(d);
    }
    let history = match obj.get("history") {
        None | Some(Value::Null) => None,
        Some(Value::Array(h)) => Some(
            h.iter()
                .map(|e| HistoryEntry {
                    created: e.get("created").and_then(Value::as_str).map(str::to_string),
                    created_by: e.get("created_by").and_then(Value::as_str).map(str::to_string),
                    comment: e.get("comment").and_then(Value::as_str).map(str::to_string),
                    empty_layer: e.get("empty_layer").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect(),
        ),
        Some(_) => return Err("history is not an array".into()),
    };
    Ok(ImageConfig { os: s("os"), architecture: s("architecture"), variant: s("variant"), diff_ids, history })
}

/// Why a member that should be a config is not a JSON document we kept.
pub fn not_a_document(scan: &BlobScan) -> String {
    match scan.content {
        Content::OversizedDocument => format!(
            "{} bytes, more than the {} MiB airlock reads of a JSON document",
            scan.size,
            crate::scan::blob::MAX_DOCUMENT >> 20
        ),
        _ => "not JSON".to_string(),
    }
}

impl ImageConfig {
    /// History entries that made a layer, in order.
    pub fn layer_history(&self) -> Option<Vec<&HistoryEntry>> {
        self.history.as_ref().map(|h| h.iter().filter(|e| !e.empty_layer).collect())
    }
}
