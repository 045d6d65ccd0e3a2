//! Lock files: the set of images pinned on the connected side, checked on the other.
//!
//! `airlock lock INPUT...` writes one (`format`); `airlock verify INPUT... --lock FILE`
//! holds the inputs against it (`compare`). The schema is version 1, or 2 when it records
//! signatures, documented in the README; reading refuses anything that is not exactly that shape (a usage error, exit 2),
//! but tolerates fields it does not know, so a newer writer's additions do not break it.
//! A lock names digests and tags only: nothing in it makes airlock open another file.

pub mod compare;
pub mod format;

use crate::digest::Digest;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The version of a lock without signatures (what airlock has always written).
pub const VERSION: u32 = 1;
/// The version of a lock that records signatures: an airlock that reads only version 1 refuses
/// it instead of ignoring the signatures it must check.
pub const VERSION_SIGNED: u32 = 2;

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
    #[serde(deserialize_with = "bounded_tags")]
    pub tags: Vec<String>,
    /// The manifest digest, where the format has a manifest (under Docker 29's containerd
    /// image store this is what `docker images` shows as the ID).
    pub manifest_digest: Option<Digest>,
    /// The input it was read from (a name in `inputs`).
    pub input: String,
    #[serde(deserialize_with = "bounded_layers")]
    pub layers: Vec<LockLayer>,
    /// The signatures the image carried (version 2): `verify --lock` requires one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "bounded_signatures")]
    pub signatures: Vec<LockSignature>,
}

/// One signature an image carried when locked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LockSignature {
    /// The signature manifest's digest, where it has one.
    pub manifest: Option<Digest>,
    pub layer: usize,
    /// The payload's or bundle's digest: what matches it after the gap.
    pub blob: Digest,
    /// The fingerprint of the key it verified with (`lock --key`), else `null`.
    pub key: Option<Digest>,
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

/// Parses lock bytes; the error completes "the lock FILE …". One pass into the lock's types,
/// no tree: memory stays within a small multiple of what the lock pins, whatever it holds
/// besides (unknown fields are skipped unread), and the lists are bounded (`MAX_*`).
pub fn parse(bytes: &[u8]) -> Result<Lock, String> {
    let read = serde_json::from_slice::<Doc>(bytes);
    // The version speaks first: a lock of another version may have another shape.
    let version = match &read {
        Ok(doc) => doc.version,
        Err(_) => serde_json::from_slice::<Probe>(bytes).map_err(|e| format!("is not JSON: {e}"))?.version,
    };
    let version = match version.0 {
        Some(n) if n == VERSION as u64 || n == VERSION_SIGNED as u64 => n as u32,
        Some(n) => return Err(format!("has version {n}; this airlock reads versions {VERSION} and {VERSION_SIGNED}")),
        None => return Err("has no \"version\" number: not an airlock lock".into()),
    };
    let doc = read.map_err(|e| format!("has the wrong shape: {e}"))?;
    let lock = Lock { version, inputs: doc.inputs.0, images: doc.images.0 };
    for i in &lock.images {
        if !lock.inputs.iter().any(|x| x.name == i.input) {
            return Err(format!("has image {} from input {:?}, which it does not list", i.image_id, i.input));
        }
    }
    Ok(lock)
}

/// Inputs, images, tags and layers a lock may pin: far above a real lock (a few thousand
/// images), and what bounds the memory of reading one.
pub const MAX_IMAGES: usize = 50_000;
/// Per image, and in all.
pub const MAX_TAGS: usize = 1_000;
pub const MAX_LAYERS: usize = 4_096;
pub const MAX_ALL_TAGS: usize = 100_000;
pub const MAX_ALL_LAYERS: usize = 200_000;
/// Signatures per image (airlock checks at most 64), and in all.
pub const MAX_SIGNATURES: usize = 1_024;
pub const MAX_ALL_SIGNATURES: usize = 200_000;

/// The lock as read: its version, and its lists bounded.
#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    version: Version,
    inputs: Bounded<LockInput, MAX_IMAGES>,
    images: Images,
}

/// The images, with their tags and layers bounded in all, not only per image.
struct Images(Vec<LockImage>);

impl<'de> Deserialize<'de> for Images {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Images;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of images")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Images, A::Error> {
                let (mut out, mut tags, mut layers, mut sigs) = (Vec::new(), 0, 0, 0);
                while let Some(i) = a.next_element::<LockImage>()? {
                    (tags, layers, sigs) = (tags + i.tags.len(), layers + i.layers.len(), sigs + i.signatures.len());
                    if out.len() == MAX_IMAGES || tags > MAX_ALL_TAGS || layers > MAX_ALL_LAYERS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_IMAGES} images, {MAX_ALL_TAGS} tags or {MAX_ALL_LAYERS} layers"
                        )));
                    }
                    if sigs > MAX_ALL_SIGNATURES {
                        return Err(serde::de::Error::custom(format!("more than {MAX_ALL_SIGNATURES} signatures")));
                    }
                    out.push(i);
                }
                Ok(Images(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Only the version, every other field skipped unread: what a lock that is not of this
/// version's shape is asked first.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    version: Version,
}

/// `version` if it is a whole number (`None` for anything else, which is skipped).
#[derive(Clone, Copy, Default)]
struct Version(Option<u64>);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Version;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Version, E> {
                Ok(Version(Some(n)))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Version, E> {
                Ok(Version(None))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Version, E> {
                Ok(Version(None))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Version, E> {
                Ok(Version(None))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Version, E> {
                Ok(Version(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Version, E> {
                Ok(Version(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Version, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Version(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Version, A::Error> {
                while a.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Version(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of at most `N` items.
struct Bounded<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a list of at most {N} items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    if out.len() == N {
                        return Err(serde::de::Error::custom(format!("a list of more than {N} items")));
                    }
                    out.push(x);
                }
                Ok(Bounded(out))
            }
        }
        d.deserialize_seq(V::<T, N>(std::marker::PhantomData))
    }
}

fn bounded_tags<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Bounded::<String, MAX_TAGS>::deserialize(d).map(|b| b.0)
}

fn bounded_layers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<LockLayer>, D::Error> {
    Bounded::<LockLayer, MAX_LAYERS>::deserialize(d).map(|b| b.0)
}

fn bounded_signatures<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<LockSignature>, D::Error> {
    Bounded::<LockSignature, MAX_SIGNATURES>::deserialize(d).map(|b| b.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_locks_say_why() {
        assert!(parse(b"{").unwrap_err().starts_with("is not JSON"));
        assert!(parse(br#"{"version":3,"inputs":[],"images":[]}"#).unwrap_err().contains("version 3"));
        assert!(parse(br#"{"inputs":[]}"#).unwrap_err().contains("no \"version\""));
        assert!(parse(br#"{"version":1,"inputs":{},"images":[]}"#).unwrap_err().contains("wrong shape"));
        let bad_digest = br#"{"version":1,"inputs":[{"name":"a","format":null,"size":null,"sha256":null}],
            "images":[{"image_id":"sha256:00","platform":null,"tags":[],"manifest_digest":null,"input":"a","layers":[]}]}"#;
        assert!(parse(bad_digest).unwrap_err().contains("wrong shape"));
        let ok = br#"{"version":1,"future":true,"inputs":[],"images":[]}"#;
        assert_eq!(parse(ok).unwrap().images.len(), 0, "unknown fields are tolerated");
    }

    #[test]
    fn version_2_records_signatures_and_version_1_still_reads() {
        let image = |v: u32, sigs: &str| {
            format!(
                r#"{{"version":{v},"inputs":[{{"name":"a","format":null,"size":null,"sha256":null}}],
                "images":[{{"image_id":"sha256:{z}","platform":null,"tags":[],"manifest_digest":null,"input":"a","layers":[]{sigs}}}]}}"#,
                z = "0".repeat(64)
            )
        };
        let v1 = parse(image(1, "").as_bytes()).unwrap();
        assert_eq!((v1.version, v1.images[0].signatures.len()), (1, 0));
        let sig =
            format!(r#","signatures":[{{"manifest":null,"layer":0,"blob":"sha256:{}","key":null}}]"#, "1".repeat(64));
        let v2 = parse(image(2, &sig).as_bytes()).unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(v2.images[0].signatures[0].blob.to_string(), format!("sha256:{}", "1".repeat(64)));
        let bad = sig.replace("\"blob\":\"sha256:", "\"blob\":\"md5:");
        assert!(parse(image(2, &bad).as_bytes()).unwrap_err().contains("wrong shape"));
    }
}
