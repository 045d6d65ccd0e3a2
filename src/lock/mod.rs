//! Lock files: the set of images pinned on the connected side, checked on the other.
//!
//! `airlock lock INPUT...` writes one (`format`); `airlock verify INPUT... --lock FILE`
//! holds the inputs against it (`compare`). The schema is version 1, documented in the
//! README; reading refuses anything that is not exactly that shape (a usage error, exit 2),
//! but tolerates fields it does not know, so a newer writer's additions do not break it.
//! A lock names digests and tags only: nothing in it makes airlock open another file.

pub mod compare;
pub mod format;

use crate::digest::Digest;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const VERSION: u32 = 1;

/// The largest lock airlock reads: one of a few thousand images is well under a megabyte.
const MAX_LOCK: u64 = 32 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub version: u32,
    pub inputs: Vec<LockInput>,
    pub images: Vec<LockImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInput {
    /// The file name as carried (no directories: the lock travels).
    pub name: String,
    /// airlock's format name; `null` for an input that is not an image archive.
    pub format: Option<String>,
    /// Bytes of the file; `null` for a directory.
    pub size: Option<u64>,
    /// sha256 of the file as carried; `null` for a directory.
    pub sha256: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockImage {
    /// The image ID: sha256 of the config.
    pub image_id: Digest,
    pub platform: Option<String>,
    /// Normalized references (`docker.io/library/nginx:1`), sorted.
    pub tags: Vec<String>,
    /// The manifest digest, where the format has a manifest (under Docker 29's containerd
    /// image store this is what `docker images` shows as the ID).
    pub manifest_digest: Option<Digest>,
    /// The input it was read from (a name in `inputs`).
    pub input: String,
    pub layers: Vec<LockLayer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockLayer {
    pub diff_id: Digest,
    /// The blob as stored (compressed or not).
    pub digest: Digest,
    pub size: u64,
    pub media_type: Option<String>,
}

/// Reads and checks a lock file; one that cannot be used is an [`Error::Lock`] (exit 2).
pub fn read(path: &Path) -> Result<Lock, Error> {
    let shown = path.display();
    let bad = |message: String| Error::Lock { path: path.to_path_buf(), message };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot open the lock {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(bad(format!("the lock {shown} is not a file")));
    }
    if meta.len() > MAX_LOCK {
        return Err(bad(format!("the lock {shown} is {} bytes, more than a lock can be", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the lock {shown}: {e}")))?;
    parse(&bytes).map_err(|why| bad(format!("the lock {shown} {why}")))
}

/// Parses lock bytes; the error completes "the lock FILE …".
pub fn parse(bytes: &[u8]) -> Result<Lock, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("is not JSON: {e}"))?;
    match v.get("version").and_then(serde_json::Value::as_u64) {
        Some(n) if n == VERSION as u64 => {}
        Some(n) => return Err(format!("has version {n}; this airlock reads version {VERSION}")),
        None => return Err("has no \"version\" number: not an airlock lock".into()),
    }
    let lock: Lock = serde_json::from_value(v).map_err(|e| format!("has the wrong shape: {e}"))?;
    for i in &lock.images {
        if !lock.inputs.iter().any(|x| x.name == i.input) {
            return Err(format!("has image {} from input {:?}, which it does not list", i.image_id, i.input));
        }
    }
    Ok(lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_locks_say_why() {
        assert!(parse(b"{").unwrap_err().starts_with("is not JSON"));
        assert!(parse(br#"{"version":2,"inputs":[],"images":[]}"#).unwrap_err().contains("version 2"));
        assert!(parse(br#"{"inputs":[]}"#).unwrap_err().contains("no \"version\""));
        assert!(parse(br#"{"version":1,"inputs":{},"images":[]}"#).unwrap_err().contains("wrong shape"));
        let bad_digest = br#"{"version":1,"inputs":[{"name":"a","format":null,"size":null,"sha256":null}],
            "images":[{"image_id":"sha256:00","platform":null,"tags":[],"manifest_digest":null,"input":"a","layers":[]}]}"#;
        assert!(parse(bad_digest).unwrap_err().contains("wrong shape"));
        let ok = br#"{"version":1,"future":true,"inputs":[],"images":[]}"#;
        assert_eq!(parse(ok).unwrap().images.len(), 0, "unknown fields are tolerated");
    }
}
