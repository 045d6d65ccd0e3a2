//! The OCI descriptor as read from indexes and manifests (and the `subject` an OCI 1.1
//! manifest names): one type for every reader of OCI documents (`oci`, `artifacts`).

pub mod read;

use crate::formats::bounded::{AnyString, Capped, Weigh};
use crate::model::Platform;
use serde::Deserialize;

#[derive(Deserialize, Clone, Debug)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub digest: String,
    pub size: i64,
    #[serde(default)]
    pub annotations: Notes,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub urls: Option<Capped<String, 64>>,
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
