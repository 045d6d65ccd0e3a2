//! JSON keys as Go reads them.
//!
//! docker, containerd, skopeo and podman decode every document with Go's `encoding/json`,
//! which matches an object key to a struct field *case-insensitively* (exact spelling first,
//! then a case fold, the last matching key winning) and keeps the last of duplicate keys.
//! serde matches keys exactly. So `{"Config": good, "config": evil}` in manifest.json is the
//! good image to airlock and the evil one to `docker load`: a verifier that can be steered
//! past. airlock does not try to mimic the fold; it refuses the ambiguity. In every document
//! it reads, these are errors:
//!
//! - a key that appears twice in one object (any object, maps included);
//! - a key that is not spelled like a known struct field but folds to one (`layers` for
//!   manifest.json's `Layers`, `Manifests` for an index's `manifests`): Go reads it, serde
//!   does not.
//!
//! Keys of map-typed fields (annotations, labels, `LayerSources`) are not folded by Go, so
//! only their duplicates count. Unknown keys are fine: Go ignores them too.
//!
//! The schemas below mirror the Go structs the loaders decode into: moby's
//! `image/tarexport.manifestItem`, the OCI image-spec `specs-go/v1` `Index`, `Manifest`,
//! `Descriptor`, `Platform` and `Image`, and moby's `image.Image` / `V1Image` with
//! `container.Config` for configs.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// What Go decodes a JSON value into.
pub enum Shape {
    /// Anything (or a field airlock does not model): only duplicate keys are checked inside.
    Any,
    /// A Go struct: keys are matched to these fields with case folding.
    Struct(&'static [(&'static str, Shape)]),
    /// A Go map: keys are exact; values have this shape.
    Map(&'static Shape),
    /// A Go slice of this shape.
    Array(&'static Shape),
    /// A Go string, integer (int/int64) or bool: a JSON value of another type (null aside)
    /// fails Go's whole decode, so docker and containerd refuse the document.
    Str,
    Int,
    Bool,
}

use Shape::{Any, Array, Bool, Int, Map, Str, Struct};

const STRINGS: Shape = Str;
const STRING_LIST: Shape = Array(&Str);

const PLATFORM: Shape = Struct(&[
    ("architecture", Str),
    ("os", Str),
    ("os.version", Str),
    ("os.features", STRING_LIST),
    ("variant", Str),
    ("features", STRING_LIST),
]);

const DESCRIPTOR: Shape = Struct(&[
    ("mediaType", Str),
    ("digest", Str),
    ("size", Int),
    ("urls", STRING_LIST),
    ("annotations", Map(&STRINGS)),
    ("data", Str),
    ("platform", PLATFORM),
    ("artifactType", Str),
]);

/// An OCI index or manifest (or a docker manifest list / schema 2 manifest): one shape for
/// both, because which one a document is depends on these very keys (CVE-2021-41190).
pub const OCI_DOCUMENT: Shape = Struct(&[
    ("schemaVersion", Int),
    ("mediaType", Str),
    ("artifactType", Str),
    ("manifests", Array(&DESCRIPTOR)),
    ("config", DESCRIPTOR),
    ("layers", Array(&DESCRIPTOR)),
    ("subject", DESCRIPTOR),
    ("annotations", Map(&STRINGS)),
]);

/// `manifest.json` of docker save (moby image/tarexport manifestItem).
pub const MANIFEST_JSON: Shape = Array(&Struct(&[
    ("Config", Str),
    ("RepoTags", STRING_LIST),
    ("Layers", STRING_LIST),
    ("Parent", Str),
    ("LayerSources", Map(&DESCRIPTOR)),
]));

/// `repositories`: `map[string]map[string]string`.
pub const REPOSITORIES: Shape = Map(&Map(&STRINGS));

/// `oci-layout` (specs-go v1 ImageLayout).
pub const OCI_LAYOUT: Shape = Struct(&[("imageLayoutVersion", Any)]);

/// moby `container.Config` and OCI `ImageConfig` (the `config` of an image config).
const CONTAINER_CONFIG: Shape = Struct(&[
    ("Hostname", Any),
    ("Domainname", Any),
    ("User", Any),
    ("AttachStdin", Any),
    ("AttachStdout", Any),
    ("AttachStderr", Any),
    ("ExposedPorts", Map(&Any)),
    ("Tty", Any),
    ("OpenStdin", Any),
    ("StdinOnce", Any),
    ("Env", Any),
    ("Cmd", Any),
    ("Healthcheck", Any),
    ("ArgsEscaped", Any),
    ("Image", Any),
    ("Volumes", Map(&Any)),
    ("WorkingDir", Any),
    ("Entrypoint", Any),
    ("NetworkDisabled", Any),
    ("MacAddress", Any),
    ("OnBuild", Any),
    ("Labels", Map(&STRINGS)),
    ("StopSignal", Any),
    ("StopTimeout", Any),
    ("Shell", Any),
]);

const HISTORY: Shape =
    Struct(&[("created", Any), ("created_by", Str), ("author", Str), ("comment", Str), ("empty_layer", Bool)]);

/// An image config: moby `image.Image` (with `V1Image`) and OCI `v1.Image`.
pub const IMAGE_CONFIG: Shape = Struct(&[
    ("id", Any),
    ("parent", Any),
    ("comment", Any),
    ("created", Any),
    ("container", Any),
    ("container_config", CONTAINER_CONFIG),
    ("docker_version", Any),
    ("author", Any),
    ("config", CONTAINER_CONFIG),
    ("architecture", Str),
    ("variant", Str),
    ("os", Str),
    ("os.version", Str),
    ("os.features", STRING_LIST),
    ("size", Int),
    ("rootfs", Struct(&[("type", Str), ("diff_ids", STRING_LIST)])),
    ("history", Array(&HISTORY)),
]);

/// A JSON value with every key kept, in order, duplicates included.
enum Raw {
    Object(Vec<(String, Raw)>),
    Array(Vec<Raw>),
    Scalar(Kind),
}

/// A JSON scalar's type, as Go's decoder tells them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Str,
    /// A number Go decodes into an int64: an integer literal in range.
    Int,
    /// Any other number (a fraction, an exponent, out of range).
    Number,
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Scalar(Kind::Bool))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Kind::Int))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Raw, E> {
        Ok(Raw::Scalar(if i64::try_from(n).is_ok() { Kind::Int } else { Kind::Number }))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Scalar(Kind::Number))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Raw, E> {
        Ok(Raw::Scalar(Kind::Str))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Scalar(Kind::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Raw::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry::<String, Raw>()? {
            v.push((k, x));
        }
        Ok(Raw::Object(v))
    }
}

/// The ambiguous keys of a document, one line each with its JSON path (`[0].Config`), or
/// an empty list. A document that is not JSON gives an empty list: its parser says so.
pub fn ambiguous_keys(bytes: &[u8], shape: &Shape) -> Vec<String> {
    let Ok(raw) = serde_json::from_slice::<Raw>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&raw, shape, "", &mut out);
    out
}

/// The `manifest-invalid` finding for a document whose keys Go would read differently.
pub fn finding(bytes: &[u8], shape: &Shape, member: &str) -> Option<crate::finding::Finding> {
    let found = ambiguous_keys(bytes, shape);
    if found.is_empty() {
        return None;
    }
    Some(
        crate::finding::Finding::new(
            crate::finding::Code::ManifestInvalid,
            format!("{member} is ambiguous, refused: {}", found.join("; ")),
        )
        .member(member),
    )
}

/// At most this many problems are listed per document (all are errors anyway).
const MAX_LISTED: usize = 8;

fn walk(v: &Raw, shape: &Shape, at: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_LISTED {
        return;
    }
    if let Some(want) = mistyped(v, shape) {
        out.push(format!(
            "key {} is not {want}: Go's decoder (docker, containerd, podman) fails on it",
            if at.is_empty() { "(the document)".to_string() } else { at.to_string() }
        ));
        return;
    }
    match v {
        Raw::Scalar(_) => {}
        Raw::Array(items) => {
            let inner = if let Array(s) = shape { s } else { &Any };
            for (i, x) in items.iter().enumerate() {
                walk(x, inner, &format!("{at}[{i}]"), out);
            }
        }
        Raw::Object(entries) => {
            let mut seen = std::collections::HashSet::with_capacity(entries.len());
            for (k, _) in entries {
                if !seen.insert(k.as_str()) && out.len() < MAX_LISTED {
                    out.push(format!("key {} appears more than once", path(at, k)));
                }
            }
            for (k, x) in entries {
                let child = match shape {
                    Struct(fields) => match fields.iter().find(|(f, _)| f == k) {
                        Some((_, s)) => s,
                        None => {
                            if let Some((f, _)) = fields.iter().find(|(f, _)| fold_eq(f, k))
                                && out.len() < MAX_LISTED
                            {
                                out.push(format!(
                                    "key {} is read as {} by Go's case-insensitive JSON (docker, containerd, podman) but not by airlock",
                                    path(at, k),
                                    path(at, f)
                                ));
                            }
                            &Any
                        }
                    },
                    Map(s) => s,
                    _ => &Any,
                };
                walk(x, child, &path(at, k), out);
            }
        }
    }
}

/// What Go expects where `v` does not fit the field's Go type (null fits every type).
fn mistyped(v: &Raw, shape: &Shape) -> Option<&'static str> {
    let ok = match (shape, v) {
        (Any, _) | (_, Raw::Scalar(Kind::Null)) => true,
        (Struct(_) | Map(_), Raw::Object(_)) | (Array(_), Raw::Array(_)) => true,
        (Str, Raw::Scalar(k)) => *k == Kind::Str,
        (Int, Raw::Scalar(k)) => *k == Kind::Int,
        (Bool, Raw::Scalar(k)) => *k == Kind::Bool,
        _ => false,
    };
    (!ok).then_some(match shape {
        Struct(_) | Map(_) => "an object",
        Array(_) => "an array",
        Str => "a string",
        Int => "an integer",
        Bool => "a boolean",
        Any => "",
    })
}

fn path(at: &str, key: &str) -> String {
    if at.is_empty() { format!("{key:?}") } else { format!("{at}.{key:?}") }
}

/// Go's key fold (encoding/json `foldName`): ASCII letters fold by case, and Unicode simple
/// folding maps a few non-ASCII letters onto ASCII ones: the Kelvin sign K (U+212A) onto `k`
/// and the long s ſ (U+017F) onto `s`. Both sides are folded the same way.
fn fold_eq(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

fn fold(c: char) -> char {
    match c {
        '\u{212A}' => 'k',
        '\u{017F}' => 's',
        // Every field name here is ASCII, so no other non-ASCII letter can fold onto one.
        c => c.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_keys_pass() {
        let doc = br#"[{"Config":"a.json","RepoTags":["x:1"],"Layers":["l/layer.tar"],"LayerSources":{"sha256:a":{"mediaType":"m","size":1,"digest":"d"}}}]"#;
        assert!(ambiguous_keys(doc, &MANIFEST_JSON).is_empty());
    }

    #[test]
    fn case_variants_and_duplicates_fail() {
        let doc = br#"[{"Config":"a.json","config":"b.json","Layers":[]}]"#;
        let found = ambiguous_keys(doc, &MANIFEST_JSON);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(r#"[0]."config""#) && found[0].contains(r#""Config""#), "{found:?}");

        let doc = br#"{"schemaVersion":2,"Manifests":[],"layers":[]}"#;
        assert_eq!(ambiguous_keys(doc, &OCI_DOCUMENT).len(), 1);

        let doc = br#"{"schemaVersion":2,"config":{},"config":{}}"#;
        assert!(ambiguous_keys(doc, &OCI_DOCUMENT)[0].contains("more than once"));

        // Go folds the long s onto s (and the Kelvin sign onto k).
        let doc = "{\"\u{17F}ize\":1,\"rootfs\":{\"diff_id\u{17F}\":[]}}";
        assert_eq!(ambiguous_keys(doc.as_bytes(), &IMAGE_CONFIG).len(), 2);
    }

    #[test]
    fn nested_descriptors_and_maps() {
        // A descriptor inside an index: its fields fold too.
        let doc = br#"{"manifests":[{"digest":"a","Digest":"b","size":1}]}"#;
        assert_eq!(ambiguous_keys(doc, &OCI_DOCUMENT).len(), 1);
        // Map keys are not folded by Go: "A" and "a" are two labels.
        let doc = br#"{"config":{"Labels":{"a":"1","A":"2"}},"rootfs":{"diff_ids":[]}}"#;
        assert!(ambiguous_keys(doc, &IMAGE_CONFIG).is_empty());
        // But duplicates count everywhere.
        let doc = br#"{"config":{"Labels":{"a":"1","a":"2"}},"rootfs":{"diff_ids":[]}}"#;
        assert_eq!(ambiguous_keys(doc, &IMAGE_CONFIG).len(), 1);
        // Unknown keys are ignored by Go and by airlock.
        let doc = br#"{"moby.extra":1,"rootfs":{"diff_ids":[]}}"#;
        assert!(ambiguous_keys(doc, &IMAGE_CONFIG).is_empty());
    }
}
