//! The delta archive, version 1: a tar (deterministic: entries sorted, mtime 0, uid 0) of
//!
//! - `airlock-delta.json` (first): this schema;
//! - `new/NAME/…`: every member of the archive NAME except the blobs needed from the far
//!   side, under its own path (symlinks stay symlinks).
//!
//! Reading refuses another version or a shape it does not know (a usage error); unknown
//! fields are ignored within version 1.

use crate::digest::Digest;
use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "airlock-delta.json";
/// The directory of the delta archive that holds each archive's members.
pub const ROOT: &str = "new";
/// The largest `airlock-delta.json` read.
pub const MAX_MANIFEST: u64 = 32 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaDoc {
    pub version: u32,
    /// The locks the delta was made against: what the far side must hold.
    pub have: Vec<HaveLock>,
    pub archives: Vec<Archive>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HaveLock {
    /// The lock's file name.
    pub name: String,
    pub sha256: Digest,
    /// The input files it pins (their names): what to give `apply --from`.
    pub inputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    /// NEW's file name: its members are under `new/NAME/`, and apply writes it by this name.
    pub name: String,
    /// airlock's format name (`docker-archive`, `oci-archive`, …).
    pub format: String,
    /// NEW was a directory (an OCI layout): apply writes a directory.
    pub directory: bool,
    /// NEW's whole-file compression, if any (apply writes the plain tar).
    pub compression: Option<String>,
    pub images: Vec<Image>,
    /// Every regular member shipped, sorted by path.
    pub members: Vec<Member>,
    /// Symlinks of NEW, kept as symlinks.
    pub links: Vec<Link>,
    /// Members taken from the far side, sorted by path.
    pub needs: Vec<Need>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Image {
    pub image_id: Digest,
    pub platform: Option<String>,
    pub tags: Vec<String>,
    pub manifest_digest: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub path: String,
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// A base blob with this digest, copied byte for byte.
    Digest,
    /// NEW stores the layer uncompressed: any base blob whose diffID is this digest,
    /// decompressed (or a base blob with this digest, copied).
    DiffId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// The member of NEW the blob is written to.
    pub path: String,
    /// sha256 of the member's bytes (for `diff_id`, also the layer's diffID).
    pub digest: Digest,
    pub size: u64,
    #[serde(rename = "match")]
    pub how: Match,
    /// Image IDs of NEW whose layer it is.
    pub images: Vec<Digest>,
    /// Where the delta found it: the locked image that has it.
    pub have: HaveRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaveRef {
    pub lock: String,
    pub input: String,
    pub image_id: Digest,
    pub tags: Vec<String>,
}

impl Archive {
    /// How an image is named in messages: its first tag and short ID.
    pub fn image_name(&self, id: &Digest) -> String {
        let tag = self.images.iter().find(|i| &i.image_id == id).and_then(|i| i.tags.first());
        match tag {
            Some(t) => format!("{t} ({})", id.short()),
            None => format!("<untagged> ({})", id.short()),
        }
    }
}

/// The delta document as written: pretty JSON and a final newline.
pub fn to_bytes(doc: &DeltaDoc) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(doc).expect("a delta document serializes");
    b.push(b'\n');
    b
}

/// Parses `airlock-delta.json`; the error completes "DELTA …" (a usage error).
pub fn parse(bytes: &[u8]) -> Result<DeltaDoc, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("has an {MANIFEST} that is not JSON: {e}"))?;
    match v.get("version").and_then(serde_json::Value::as_u64) {
        Some(n) if n == VERSION as u64 => {}
        Some(n) => return Err(format!("is a delta of version {n}; this airlock reads version {VERSION}")),
        None => return Err(format!("has an {MANIFEST} without a \"version\" number")),
    }
    serde_json::from_value(v).map_err(|e| format!("has an {MANIFEST} of the wrong shape: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_documents_say_why() {
        assert!(parse(b"{").unwrap_err().contains("not JSON"));
        assert!(parse(br#"{"version":2,"have":[],"archives":[]}"#).unwrap_err().contains("version 2"));
        assert!(parse(br#"{"have":[]}"#).unwrap_err().contains("without a \"version\""));
        assert!(parse(br#"{"version":1,"have":{},"archives":[]}"#).unwrap_err().contains("wrong shape"));
        let ok = parse(br#"{"version":1,"later":true,"have":[],"archives":[]}"#).unwrap();
        assert_eq!(ok, DeltaDoc { version: 1, have: vec![], archives: vec![] });
    }
}
