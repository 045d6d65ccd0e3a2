//! Writing OCI documents: manifests, indexes and `oci-layout`. A document that needs no
//! change keeps its original bytes (and so its digest); one is synthesized, with OCI media
//! types matching the real compression, only where the source has none or a change
//! requires it.

use super::Descriptor;
use crate::digest::Digest;
use crate::formats::media_types::{self, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use crate::scan::Compression;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A layer as written.
#[derive(Debug, Clone)]
pub struct OutLayer {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
}

/// What `manifest` reads of a source manifest: its descriptors and annotations, the rest
/// skipped unread (a document is never made a tree: a large unknown field would cost many
/// times its size).
#[derive(Deserialize)]
struct Source {
    #[serde(default)]
    config: Option<SourceDescriptor>,
    #[serde(default)]
    layers: Option<Vec<SourceDescriptor>>,
    #[serde(default)]
    annotations: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct SourceDescriptor {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
}

/// A new manifest, its keys in the order serde_json's maps sort them (as before, when it
/// was built as a `Value`); the source's annotations carried verbatim.
#[derive(Serialize)]
struct NewManifest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a RawValue>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
}

/// The manifest bytes for an image: the source's own if every descriptor in it still holds,
/// otherwise a new OCI manifest with the new layer descriptors and the source's annotations.
pub fn manifest(source: Option<&[u8]>, config: (&Digest, u64), layers: &[OutLayer]) -> Vec<u8> {
    let src: Option<Source> = source.and_then(|b| serde_json::from_slice(b).ok());
    if let (Some(bytes), Some(v)) = (source, &src)
        && unchanged(v, config, layers)
    {
        return bytes.to_vec();
    }
    let layer_descs: Vec<Descriptor> =
        layers.iter().map(|l| Descriptor::new(media_types::oci_layer(l.compression), &l.digest, l.size)).collect();
    let m = NewManifest {
        annotations: src.as_ref().and_then(|s| s.annotations.as_deref()),
        config: Descriptor::new(OCI_CONFIG, config.0, config.1),
        layers: layer_descs,
        media_type: OCI_MANIFEST,
        schema_version: 2,
    };
    serde_json::to_vec(&m).expect("JSON values serialize")
}

fn unchanged(v: &Source, config: (&Digest, u64), layers: &[OutLayer]) -> bool {
    let same = |d: &SourceDescriptor, digest: &Digest, size: u64| {
        d.digest.as_deref() == Some(digest.to_string().as_str()) && d.size == Some(size)
    };
    let (Some(c), Some(src_layers)) = (&v.config, &v.layers) else {
        return false;
    };
    same(c, config.0, config.1)
        && src_layers.len() == layers.len()
        && src_layers.iter().zip(layers).all(|(d, l)| {
            same(d, &l.digest, l.size)
                && d.media_type.as_deref().and_then(media_types::compression_of).is_some_and(|c| c == l.compression)
        })
}

pub fn manifest_media_type(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).ok().and_then(|p| p.media_type).unwrap_or_else(|| OCI_MANIFEST.to_string())
}

/// A JSON object read field by field, each value kept as its raw text: an index is
/// rewritten without making it a tree, and what airlock does not change is written back as
/// it was.
pub type RawObject = BTreeMap<String, Box<RawValue>>;

/// A field of a raw object, read as `T`.
pub fn field<T: serde::de::DeserializeOwned>(o: &RawObject, k: &str) -> Option<T> {
    o.get(k).and_then(|r| serde_json::from_str(r.get()).ok())
}

/// Sets a field of a raw object to `v`.
pub fn set_field(o: &mut RawObject, k: &str, v: &impl Serialize) {
    o.insert(k.to_string(), serde_json::value::to_raw_value(v).expect("serializes"));
}

/// Whether two raw objects have the same fields with the same text.
pub fn same_object(a: &RawObject, b: &RawObject) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
}

pub fn index(descriptors: &[Descriptor]) -> Vec<u8> {
    serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}))
        .expect("serializes")
}

pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
