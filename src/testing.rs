//! What airlock reads from given bytes, for the differential tests against Go
//! (tests/differential_fuzz.rs and its oracle, tests/go-oracle), and the few internals other
//! integration tests reach (the re-exports below). Not an API: hidden from the docs, and kept
//! to this one module so the rest of the crate can stay crate-private.
//!
//! Each function reads the bytes with the very readers verify uses (the tar reader, the gzip
//! reader, the JSON readers of the model) and says what they yield, or that they refuse.

/// tests/cli_docs.rs: the clap definition the completions and man pages come from.
pub use crate::cli::command;
/// tests/cli_docs.rs: the overlay rules export applies (its man page lists them).
pub use crate::export::rules::RULES as OVERLAY_RULES;
/// tests/signatures.rs: an input opened as verify opens it, and what a bundle holds.
pub use crate::input::{bundle::expand, load};
/// tests/shared_blobs.rs: how many bytes one read of an input takes.
pub use crate::open::read_input;
pub use crate::progress::Progress;
pub use crate::scan::Depth;
/// tests/interop.rs: the rules `--target` predicts with, and the runtimes each was measured with.
pub use crate::targets::rules::RULES as TARGET_RULES;

/// tests/signatures.rs: the signature checks, below the report.
pub mod signatures {
    pub use crate::signatures::{
        Alg, Attachment, Format, ImageSignatures, MAX_PER_IMAGE, PublicKey, Trust, Unchecked, Verdict, Why, blob,
        check, findings,
    };
}

use crate::digest::Digest;
use crate::tarstream::gzip::GzipReader;
use crate::tarstream::{EntryKind, HeaderError, Stream, TarError, TarReader};
use serde_json::{Value, json};
use std::io::Read;

/// One entry as airlock's tar reader yields it, in Go's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    pub name: String,
    pub link: String,
    /// The type flag as Go's `Header.Typeflag` gives it (`'\0'` becomes `'0'` or `'5'`).
    pub typeflag: u8,
    pub data: TarData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TarData {
    /// What reading the entry yields.
    Bytes { len: u64, sha256: String },
    /// A GNU sparse file: its expanded size, and whether Go's read of it succeeds. airlock
    /// refuses such a member of an image archive rather than expand it.
    Sparse { size: u64, readable: bool },
}

/// How a reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Ok,
    /// airlock refuses the bytes: where Go refuses them too, or past a bound of airlock's
    /// own (`bound`: a metadata header or sparse map over 1 MiB).
    Refused {
        why: String,
        bound: bool,
    },
}

#[derive(Debug, Clone)]
pub struct TarReading {
    pub entries: Vec<TarEntry>,
    pub end: End,
}

/// A tar stream read to its end-of-archive marker, each entry's data read whole.
pub fn read_tar(bytes: &[u8]) -> TarReading {
    let mut tar = TarReader::new(Stream(bytes));
    let mut entries = Vec::new();
    let refused = |e: TarError| {
        let bound = matches!(e, TarError::Header { error: HeaderError::MetaTooLarge(_), .. });
        End::Refused { why: e.to_string(), bound }
    };
    loop {
        let e = match tar.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => return TarReading { entries, end: End::Ok },
            Err(e) => return TarReading { entries, end: refused(e) },
        };
        let typeflag = match e.typeflag {
            0 if e.kind == EntryKind::Dir => b'5',
            0 => b'0',
            t => t,
        };
        let data = match e.sparse {
            // Go's read of it fails: a refusal (airlock refuses such a member or layer).
            Some(s) if !s.data_matches => {
                let end = End::Refused { why: format!("sparse file {} does not fit its map", e.path), bound: false };
                return TarReading { entries, end };
            }
            Some(s) => TarData::Sparse { size: s.size, readable: s.data_matches },
            None => {
                let mut data = Vec::new();
                if let Err(err) = tar.data().read_to_end(&mut data) {
                    let end = End::Refused { why: format!("data of {}: {err}", e.path), bound: false };
                    return TarReading { entries, end };
                }
                TarData::Bytes { len: data.len() as u64, sha256: Digest::of(&data).hex().to_string() }
            }
        };
        entries.push(TarEntry { name: e.path, link: e.link.unwrap_or_default(), typeflag, data });
    }
}

/// A raw tar name as airlock's tar reader turns it into text (one-to-one).
pub fn name_text(raw: &[u8]) -> String {
    crate::tarstream::name_string(raw)
}

/// What a gzip stream yields and how it ends.
#[derive(Debug, Clone)]
pub struct GzipReading {
    pub len: u64,
    pub sha256: String,
    /// The error it ends with, if any, and whether it is damage inside compressed data
    /// (where Go's flate and zlib may stop a few bytes apart) rather than in the framing.
    pub error: Option<(String, bool)>,
}

/// A gzip stream read whole.
pub fn read_gzip(bytes: &[u8]) -> GzipReading {
    let mut r = GzipReader::new(bytes);
    let mut out = Vec::new();
    let error = r.read_to_end(&mut out).err().map(|e| (e.to_string(), crate::tarstream::gzip::GzipError::in_data(&e)));
    GzipReading { len: out.len() as u64, sha256: Digest::of(&out).hex().to_string(), error }
}

/// The JSON documents airlock reads, by the oracle's mode letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Json {
    /// docker save's manifest.json (`m`).
    ManifestJson,
    /// An OCI index (`i`) or manifest (`o`).
    Index,
    Manifest,
    /// An image config (`c`).
    Config,
}

/// What airlock reads from a JSON document, in the shape the oracle prints Go's decode in
/// (`None` for a field Go leaves empty), restricted to the fields airlock uses; or why it
/// refuses the document.
pub fn read_json(kind: Json, bytes: &[u8]) -> Result<Value, String> {
    use crate::formats::{config, docker, json_keys, oci::Descriptor};
    let shape = match kind {
        Json::ManifestJson => &json_keys::MANIFEST_JSON,
        Json::Index | Json::Manifest => &json_keys::OCI_DOCUMENT,
        Json::Config => &json_keys::IMAGE_CONFIG,
    };
    let ambiguous = json_keys::ambiguous_keys(bytes, shape);
    if !ambiguous.is_empty() {
        return Err(format!("ambiguous: {}", ambiguous.join("; ")));
    }
    let descriptor = |d: &Descriptor| descriptor_json(d);
    match kind {
        Json::ManifestJson => {
            let entries: Vec<docker::ManifestJsonEntry> = json_keys::parse(bytes, &json_keys::MANIFEST_JSON).value?;
            Ok(Value::Array(
                entries
                    .iter()
                    .map(|e| {
                        let tags = e.repo_tags.as_ref().map(|t| &t.0);
                        json!({"Config": e.config, "RepoTags": tags, "Layers": e.layers.0})
                    })
                    .collect(),
            ))
        }
        Json::Index | Json::Manifest => {
            let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            let has = |k: &str| v.get(k).is_some();
            if has("manifests") && (has("layers") || has("config")) {
                return Err("both manifests and layers/config (CVE-2021-41190)".into());
            }
            let list = |k: &str| -> Result<Vec<Value>, String> {
                let ds: Vec<Descriptor> = match v.get(k) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(x) => serde_json::from_value(x.clone()).map_err(|e| e.to_string())?,
                };
                Ok(ds.iter().map(descriptor).collect())
            };
            if kind == Json::Index {
                return Ok(json!({"manifests": list("manifests")?}));
            }
            let config: Descriptor = match v.get("config") {
                Some(c) => serde_json::from_value(c.clone()).map_err(|e| e.to_string())?,
                None => return Err("no config".into()),
            };
            Ok(json!({"config": descriptor(&config), "layers": list("layers")?}))
        }
        Json::Config => {
            let c = config::parse(bytes).map_err(|e| e.to_string())?;
            let history: Option<Vec<Value>> = c.history.map(|h| {
                h.iter()
                    .map(|e| json!({"created_by": e.created_by, "comment": e.comment, "empty_layer": e.empty_layer}))
                    .collect()
            });
            Ok(json!({
                "os": c.os, "architecture": c.architecture, "variant": c.variant,
                "diff_ids": c.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "history": history,
            }))
        }
    }
}

/// The annotations airlock reads (see [`NOTED_ANNOTATIONS`]), as a map, or null when none.
fn notes_json(n: &crate::formats::oci::Notes) -> Value {
    let values = [&n.image_name, &n.ref_name, &n.kind, &n.reference_type, &n.reference_digest];
    let map: serde_json::Map<String, Value> = NOTED_ANNOTATIONS
        .iter()
        .zip(values)
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::from(v.as_str()))))
        .collect();
    if map.is_empty() { Value::Null } else { Value::Object(map) }
}

/// The descriptor annotations airlock keeps; the others are checked to be strings and dropped.
pub const NOTED_ANNOTATIONS: [&str; 5] = [
    "io.containerd.image.name",
    "org.opencontainers.image.ref.name",
    "kind",
    "vnd.docker.reference.type",
    "vnd.docker.reference.digest",
];

fn descriptor_json(d: &crate::formats::oci::Descriptor) -> Value {
    json!({
        "mediaType": d.media_type, "digest": d.digest, "size": d.size, "urls": d.urls.as_ref().map(|u| &u.0),
        "annotations": notes_json(&d.annotations),
        "platform": d.platform.as_ref().map(|p| json!({"os": p.os, "architecture": p.architecture, "variant": p.variant})),
    })
}

/// A reference as the reports and the lock spell it (`airlock/app:1` is
/// `docker.io/airlock/app:1`), for tests that compare with what the real tools print.
pub fn normalize_reference(r: &str) -> String {
    crate::model::reference::normalize(r)
}
