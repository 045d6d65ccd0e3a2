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

use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
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

/// Where the reader is in a document, for messages: `[0]."Config"`.
enum Seg {
    Key(String),
    Index(usize),
}

/// At most this many problems are listed per document (all are errors anyway).
const MAX_LISTED: usize = 8;

/// Keys held at once to find duplicates: the keys of every object open on the current path.
/// Real documents hold a few hundred (annotations, labels, `LayerSources`); a document that
/// needs more is refused rather than costing memory in proportion to its size.
pub const MAX_OPEN_KEYS: usize = 100_000;

/// The reading context: what was found, and where the reader is.
#[derive(Default)]
struct Cx {
    problems: RefCell<Vec<String>>,
    path: RefCell<Vec<Seg>>,
    open_keys: Cell<usize>,
}

impl Cx {
    /// The path of the value being read, or of `key` in the object being read.
    fn at(&self, key: Option<&str>) -> String {
        fn push_key(out: &mut String, k: &str) {
            if out.is_empty() { out.push_str(&format!("{k:?}")) } else { out.push_str(&format!(".{k:?}")) }
        }
        let mut out = String::new();
        for seg in self.path.borrow().iter() {
            match seg {
                Seg::Key(k) => push_key(&mut out, k),
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if let Some(k) = key {
            push_key(&mut out, k);
        }
        out
    }

    fn problem(&self, p: impl FnOnce() -> String) {
        let mut problems = self.problems.borrow_mut();
        if problems.len() < MAX_LISTED {
            problems.push(p());
        }
    }

    /// Records a key of an object of `shape` (`seen`: the object's keys so far) and returns
    /// the shape of its value. Errors only when the document holds too many keys at once.
    fn key(&self, shape: &'static Shape, key: &str, seen: &mut HashSet<Box<str>>) -> Result<&'static Shape, String> {
        if seen.insert(key.into()) {
            self.open_keys.set(self.open_keys.get() + 1);
            if self.open_keys.get() > MAX_OPEN_KEYS {
                return Err(format!("more than {MAX_OPEN_KEYS} keys in the objects open at {}", self.at(None)));
            }
        } else {
            self.problem(|| format!("key {} appears more than once", self.at(Some(key))));
        }
        Ok(match shape {
            Struct(fields) => match fields.iter().find(|(f, _)| *f == key) {
                Some((_, s)) => s,
                None => {
                    if let Some((f, _)) = fields.iter().find(|(f, _)| fold_eq(f, key)) {
                        self.problem(|| {
                            format!(
                                "key {} is read as {} by Go's case-insensitive JSON (docker, containerd, podman) but not by airlock",
                                self.at(Some(key)),
                                self.at(Some(f))
                            )
                        });
                    }
                    &Any
                }
            },
            Map(s) => s,
            Any | Array(_) | Str | Int | Bool => &Any,
        })
    }
}

/// What a typed read of a document gave, and the keys Go would read differently.
pub struct Parsed<T> {
    pub value: Result<T, String>,
    /// One line per problem (`key [0]."config" is read as [0]."Config" …`); empty when Go and
    /// airlock read the document alike.
    pub ambiguous: Vec<String>,
}

/// Reads a document into `T` in one pass, checking every key as Go would match it (see the
/// module documentation): no tree of the document is built, and what `T` does not model is
/// skipped (its keys still checked). A document that stops the typed read early (wrong shape)
/// is looked at to its end for ambiguous keys too.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], shape: &'static Shape) -> Parsed<T> {
    parse_seed(bytes, shape, std::marker::PhantomData::<T>)
}

/// As [`parse`], with a seed (a reader that acts on parts of the document as they come).
pub fn parse_seed<'de, S: DeserializeSeed<'de>>(bytes: &'de [u8], shape: &'static Shape, seed: S) -> Parsed<S::Value> {
    let cx = Cx::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = seed
        .deserialize(Checked { de: &mut de, shape, cx: &cx })
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| e.to_string());
    let mut ambiguous = cx.problems.into_inner();
    if value.is_err() && ambiguous.is_empty() {
        ambiguous = ambiguous_keys(bytes, shape);
    }
    Parsed { value, ambiguous }
}

/// The ambiguous keys of a document, one line each with its JSON path (`[0].Config`), or
/// an empty list. A document that is not JSON gives what was found before its error.
pub fn ambiguous_keys(bytes: &[u8], shape: &'static Shape) -> Vec<String> {
    let cx = Cx::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = IgnoredAny::deserialize(Checked { de: &mut de, shape, cx: &cx });
    cx.problems.into_inner()
}

/// The `manifest-invalid` finding for a document whose keys Go would read differently.
pub fn finding(ambiguous: &[String], member: &str) -> Option<crate::finding::Finding> {
    if ambiguous.is_empty() {
        return None;
    }
    Some(
        crate::finding::Finding::new(
            crate::finding::Code::ManifestInvalid,
            format!("{member} is ambiguous, refused: {}", ambiguous.join("; ")),
        )
        .member(member),
    )
}

// ---------------------------------------------------------------------------------------------
// The checking deserializer: serde_json's, with every object's keys checked on the way through
// ---------------------------------------------------------------------------------------------

/// A deserializer that hands everything to `de` and checks the keys of every object it
/// reads against `shape`, whether the reader keeps the value or skips it.
struct Checked<'c, D> {
    de: D,
    shape: &'static Shape,
    cx: &'c Cx,
}

impl<'c, D> Checked<'c, D> {
    fn wrap<V>(&self, v: V) -> Wrap<'c, V> {
        Wrap { v, shape: self.shape, cx: self.cx }
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
            self.de.$method(v)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Checked<'_, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v);
        self.de.deserialize_any(w)
    }
    /// Skipped values are walked all the same: their keys count too.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v);
        self.de.deserialize_any(w)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v);
        self.de.deserialize_option(w)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v);
        self.de.deserialize_seq(w)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, D::Error> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> Result<V::Value, D::Error> {
        self.deserialize_seq(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let w = self.wrap(v);
        self.de.deserialize_map(w)
    }
    /// A Go struct is read from a JSON object only (serde would also take an array).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_map(v)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, D::Error> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_enum(name, variants, v)
    }
    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// The reader's visitor, given checked access to the objects and arrays it visits.
struct Wrap<'c, V> {
    v: V,
    shape: &'static Shape,
    cx: &'c Cx,
}

macro_rules! forward_visit {
    ($($method:ident($t:ty, $kind:expr))*) => {$(
        fn $method<E: de::Error>(self, x: $t) -> Result<V::Value, E> {
            self.typed($kind);
            self.v.$method(x)
        }
    )*};
}

/// A JSON value's type, as Go's decoder tells them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Str,
    /// A number Go decodes into an int64: an integer literal in range.
    Int,
    /// Any other number (a fraction, an exponent, out of range).
    Number,
    Array,
    Object,
}

impl<V> Wrap<'_, V> {
    /// Records a problem when a value of `kind` does not fit the Go field this shape stands
    /// for: Go's whole decode fails on it (null fits every field, and is never passed here).
    fn typed(&self, kind: Kind) {
        let want = match (self.shape, kind) {
            (Any, _) | (Struct(_) | Map(_), Kind::Object) | (Array(_), Kind::Array) => return,
            (Str, Kind::Str) | (Int, Kind::Int) | (Bool, Kind::Bool) => return,
            (Struct(_) | Map(_), _) => "an object",
            (Array(_), _) => "an array",
            (Str, _) => "a string",
            (Int, _) => "an integer",
            (Bool, _) => "a boolean",
        };
        self.cx.problem(|| {
            let at = self.cx.at(None);
            let at = if at.is_empty() { "(the document)".to_string() } else { at };
            format!("key {at} is not {want}: Go's decoder (docker, containerd, podman) fails on it")
        });
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.v.expecting(f)
    }

    forward_visit! {
        visit_bool(bool, Kind::Bool) visit_i64(i64, Kind::Int) visit_f64(f64, Kind::Number)
        visit_str(&str, Kind::Str) visit_borrowed_str(&'de str, Kind::Str) visit_string(String, Kind::Str)
        visit_bytes(&[u8], Kind::Str) visit_borrowed_bytes(&'de [u8], Kind::Str) visit_byte_buf(Vec<u8>, Kind::Str)
    }

    fn visit_u64<E: de::Error>(self, x: u64) -> Result<V::Value, E> {
        self.typed(if i64::try_from(x).is_ok() { Kind::Int } else { Kind::Number });
        self.v.visit_u64(x)
    }
    fn visit_i128<E: de::Error>(self, x: i128) -> Result<V::Value, E> {
        self.typed(if i64::try_from(x).is_ok() { Kind::Int } else { Kind::Number });
        self.v.visit_i128(x)
    }
    fn visit_u128<E: de::Error>(self, x: u128) -> Result<V::Value, E> {
        self.typed(if i64::try_from(x).is_ok() { Kind::Int } else { Kind::Number });
        self.v.visit_u128(x)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.v.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.v.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.v.visit_some(Checked { de: d, shape: self.shape, cx: self.cx })
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.v.visit_newtype_struct(Checked { de: d, shape: self.shape, cx: self.cx })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.typed(Kind::Array);
        let shape = if let Array(s) = self.shape { s } else { &Any };
        self.v.visit_seq(CheckedSeq { seq, shape, cx: self.cx, i: 0 })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.typed(Kind::Object);
        self.v.visit_map(CheckedMap { map, shape: self.shape, cx: self.cx, seen: HashSet::new(), next: &Any })
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.v.visit_enum(data)
    }
}

/// A seed whose deserializer is checked against `shape`.
struct ShapeSeed<'c, S> {
    seed: S,
    shape: &'static Shape,
    cx: &'c Cx,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ShapeSeed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Checked { de: d, shape: self.shape, cx: self.cx })
    }
}

struct CheckedSeq<'c, A> {
    seq: A,
    shape: &'static Shape,
    cx: &'c Cx,
    i: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for CheckedSeq<'_, A> {
    type Error = A::Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.cx.path.borrow_mut().push(Seg::Index(self.i));
        let r = self.seq.next_element_seed(ShapeSeed { seed, shape: self.shape, cx: self.cx });
        self.cx.path.borrow_mut().pop();
        self.i += 1;
        r
    }
    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

struct CheckedMap<'c, A> {
    map: A,
    shape: &'static Shape,
    cx: &'c Cx,
    /// The keys of this object so far.
    seen: HashSet<Box<str>>,
    /// The shape of the value of the key just read.
    next: &'static Shape,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CheckedMap<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.map.next_key::<String>()? else {
            return Ok(None);
        };
        self.next = self.cx.key(self.shape, &key, &mut self.seen).map_err(de::Error::custom)?;
        let k = seed.deserialize(de::value::StrDeserializer::<A::Error>::new(&key))?;
        self.cx.path.borrow_mut().push(Seg::Key(key));
        Ok(Some(k))
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let r = self.map.next_value_seed(ShapeSeed { seed, shape: self.next, cx: self.cx });
        self.cx.path.borrow_mut().pop();
        r
    }
    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

impl<A> Drop for CheckedMap<'_, A> {
    fn drop(&mut self) {
        self.cx.open_keys.set(self.cx.open_keys.get() - self.seen.len());
    }
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
