//! Lists read from a document with a bound on what they keep: at most `N` items and at most
//! [`crate::model::MAX_KEPT_BYTES`] of text. A JSON element can be two bytes (`0,`, `{}`) and the
//! value it becomes a hundred; without a bound, memory would grow with the document many
//! times over. A list over the bound fails the read of its document, which is then refused.

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Bytes of text an item keeps (its strings); counted against [`crate::model::MAX_KEPT_BYTES`].
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

/// A JSON array of at most `N` items (and [`crate::model::MAX_KEPT_BYTES`] of their text).
#[derive(Debug, Clone)]
pub struct Capped<T, const N: usize>(pub Vec<T>);

/// Written, it is the array it holds.
impl<T: serde::Serialize, const N: usize> serde::Serialize for Capped<T, N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de> + Weigh, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Weigh, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an array of at most {N} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut bytes = 0usize;
                while let Some(x) = seq.next_element::<T>()? {
                    bytes += x.weight();
                    if out.len() == N {
                        return Err(serde::de::Error::custom(format!("an array of more than {N} items")));
                    }
                    if bytes > crate::model::MAX_KEPT_BYTES {
                        return Err(serde::de::Error::custom(format!(
                            "an array holding more than {} MiB of text",
                            crate::model::MAX_KEPT_BYTES >> 20
                        )));
                    }
                    out.push(x);
                }
                Ok(Capped(out))
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

/// A JSON string read without keeping it (Go decodes these fields as strings: anything else
/// fails its read, so it fails airlock's too).
pub struct AnyString;

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<AnyString, E> {
                Ok(AnyString)
            }
        }
        d.deserialize_str(V)
    }
}
