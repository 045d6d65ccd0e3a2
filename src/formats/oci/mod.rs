//! OCI image layouts: `oci-layout`, `index.json`, `blobs/sha256/<hex>`, read (`read`) and
//! written (`write`). The descriptor of indexes and manifests (and the `subject` an OCI 1.1
//! manifest names) is one type for both: what a reader takes from it is what a writer puts.

pub mod read;
pub mod write;

use crate::digest::Digest;
use crate::formats::bounded::{AnyString, Capped, Weigh};
use crate::model::Platform;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// A descriptor. Read, its digest is kept as written (a reader reports one that is not
/// `sha256:<64 hex>`); written, it is always a digest airlock computed. Its fields are in
/// the order of their JSON keys: written, it has the bytes a sorted map of it has.
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct Descriptor {
    #[serde(default, skip_serializing_if = "Notes::is_empty")]
    pub annotations: Notes,
    pub digest: String,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "platform")]
    pub platform: Option<Platform>,
    pub size: i64,
    #[serde(default, skip_serializing)]
    pub urls: Option<Capped<String, 64>>,
}

impl Descriptor {
    /// The descriptor of a blob written.
    pub fn new(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: Some(media_type.to_string()),
            digest: digest.to_string(),
            size: size as i64,
            annotations: Notes::default(),
            platform: None,
            urls: None,
        }
    }
}

/// A platform as a descriptor carries it: architecture, os and variant.
fn platform<S: Serializer>(p: &Option<Platform>, s: S) -> Result<S::Ok, S::Error> {
    let Some(p) = p else {
        return s.serialize_none();
    };
    let mut m = s.serialize_map(None)?;
    m.serialize_entry("architecture", &p.architecture)?;
    m.serialize_entry("os", &p.os)?;
    if let Some(v) = &p.variant {
        m.serialize_entry("variant", v)?;
    }
    m.end()
}

impl Weigh for Descriptor {
    fn weight(&self) -> usize {
        self.digest.len()
            + self.media_type.as_ref().map_or(0, String::len)
            + self.urls.as_ref().map_or(0, |u| u.0.iter().map(String::len).sum())
            + self.annotations.weight()
    }
}

/// The annotations of a descriptor that airlock reads (tags, artifact kinds and subjects);
/// the others are read as the strings Go requires them to be, and not kept.
#[derive(Clone, Debug, Default)]
pub struct Notes {
    /// `io.containerd.image.name`: a full reference.
    pub image_name: Option<String>,
    /// `org.opencontainers.image.ref.name`: a reference or only a tag.
    pub ref_name: Option<String>,
    /// Hauler's and `cosign save`'s `kind`.
    pub kind: Option<String>,
    /// buildkit's `vnd.docker.reference.type` and `vnd.docker.reference.digest`.
    pub reference_type: Option<String>,
    pub reference_digest: Option<String>,
    /// A sigstore bundle referrer's `dev.sigstore.bundle.predicateType` (cosign 3): a
    /// signature's is `https://sigstore.dev/cosign/sign/v1`, an attestation's another.
    pub predicate_type: Option<String>,
}

impl Notes {
    /// `org.opencontainers.image.ref.name` (the tag) and `io.containerd.image.name` (the
    /// full name), as Docker 25+ and containerd write them.
    pub fn for_tag(full: &str) -> Notes {
        let last = full.rsplit('/').next().unwrap_or(full);
        let tag = match (full.split_once('@'), last.rsplit_once(':')) {
            (Some((_, d)), _) => d.to_string(),
            (None, Some((_, t))) => t.to_string(),
            (None, None) => "latest".to_string(),
        };
        Notes { image_name: Some(full.to_string()), ref_name: Some(tag), ..Notes::default() }
    }

    /// Only an OCI ref name.
    pub fn ref_name(name: &str) -> Notes {
        Notes { ref_name: Some(name.to_string()), ..Notes::default() }
    }

    /// The annotations kept, by their keys, in the order of the keys.
    fn entries(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("dev.sigstore.bundle.predicateType", &self.predicate_type),
            ("io.containerd.image.name", &self.image_name),
            ("kind", &self.kind),
            ("org.opencontainers.image.ref.name", &self.ref_name),
            ("vnd.docker.reference.digest", &self.reference_digest),
            ("vnd.docker.reference.type", &self.reference_type),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.entries().iter().all(|(_, v)| v.is_none())
    }

    fn weight(&self) -> usize {
        [
            &self.image_name,
            &self.ref_name,
            &self.kind,
            &self.reference_type,
            &self.reference_digest,
            &self.predicate_type,
        ]
        .iter()
        .map(|s| s.as_ref().map_or(0, String::len))
        .sum()
    }
}

impl Serialize for Notes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.entries() {
            if let Some(v) = v {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Notes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Notes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Notes, E> {
                Ok(Notes::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Notes, A::Error> {
                let mut n = Notes::default();
                while let Some(k) = map.next_key::<String>()? {
                    let slot = match k.as_str() {
                        "io.containerd.image.name" => &mut n.image_name,
                        "org.opencontainers.image.ref.name" => &mut n.ref_name,
                        "kind" => &mut n.kind,
                        "vnd.docker.reference.type" => &mut n.reference_type,
                        "vnd.docker.reference.digest" => &mut n.reference_digest,
                        "dev.sigstore.bundle.predicateType" => &mut n.predicate_type,
                        _ => {
                            map.next_value::<AnyString>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(n)
            }
        }
        d.deserialize_any(V)
    }
}

/// An OCI 1.1 `subject`: only its digest is used.
#[derive(Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub digest: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_annotations() {
        let a = Notes::for_tag("docker.io/local/app:1");
        assert_eq!(a.ref_name.as_deref(), Some("1"));
        assert_eq!(a.image_name.as_deref(), Some("docker.io/local/app:1"));
        assert_eq!(Notes::for_tag("docker.io/local/app").ref_name.as_deref(), Some("latest"));
    }

    #[test]
    fn a_descriptor_is_written_as_read() {
        let d = Digest::parse("sha256:0000000000000000000000000000000000000000000000000000000000000001").unwrap();
        let platform = Platform::parse("linux/arm/v7");
        let written = Descriptor { platform, annotations: Notes::for_tag("app:1"), ..Descriptor::new("x", &d, 5) };
        let bytes = serde_json::to_string(&written).unwrap();
        // The keys sorted, as a serde_json map of it writes them.
        let sorted = serde_json::to_string(&serde_json::to_value(&written).unwrap()).unwrap();
        assert_eq!(bytes, sorted);
        assert_eq!(
            bytes,
            format!(
                r#"{{"annotations":{{"io.containerd.image.name":"app:1","org.opencontainers.image.ref.name":"1"}},"digest":"{d}","mediaType":"x","platform":{{"architecture":"arm","os":"linux","variant":"v7"}},"size":5}}"#
            )
        );
        let read: Descriptor = serde_json::from_str(&bytes).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), bytes);
    }
}
