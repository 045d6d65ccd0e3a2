//! Reading the image config into `model::ImageConfig`, in one pass with Go's key rules
//! (`json_keys`); what the checks do not use is skipped unread.

use super::bounded::{Capped, Weigh};
use super::json_keys;
use crate::digest::Digest;
use crate::model::{ConfigError, ImageConfig, MAX_HISTORY, MAX_LAYERS, config::HistoryEntry};
use crate::scan::{BlobScan, Content};
use serde::Deserialize;

impl Weigh for HistoryEntry {
    fn weight(&self) -> usize {
        HistoryEntry::weight(self)
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
    history: Option<Capped<HistoryEntry, MAX_HISTORY>>,
}

#[derive(Deserialize)]
struct Rootfs {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    diff_ids: Option<Capped<String, MAX_LAYERS>>,
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
