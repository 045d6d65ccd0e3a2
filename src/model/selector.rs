//! What `--image` accepts besides a position (`@N`), as docker resolves an image by what a
//! user has at hand: a tag (`nginx`, `docker.io/library/nginx:1.25`), a full digest
//! (`sha256:<64 hex>` or the 64 hex alone: image ID or manifest digest), a short ID (a hex
//! prefix, with or without `sha256:`, as `docker images` and airlock's reports print it), and
//! a digest reference (`NAME[:TAG]@sha256:<hex>`, as registries and `RepoDigests` give it).

use crate::digest::Digest;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A full digest: the image ID or the manifest digest.
    Digest(Digest),
    /// `NAME[:TAG]@DIGEST`: the digest picks the image (the name is the user's label for it).
    Pinned { name: String, digest: Digest },
    /// `sha256:` and a hex prefix: image IDs and manifest digests that start with it.
    Prefix(String),
    /// A tag; if it is hex too (`961ede6d04e3`), an ID prefix when no tag has it, as docker
    /// tries the reference first and the ID index after.
    Tag { tag: String, prefix: Option<String> },
}

impl Selector {
    pub fn parse(spec: &str) -> Selector {
        if let Some(d) = Digest::parse(spec).or_else(|| Digest::from_hex(spec)) {
            return Selector::Digest(d);
        }
        if let Some((name, d)) = spec.rsplit_once('@')
            && let Some(digest) = Digest::parse(d)
        {
            return Selector::Pinned { name: name.to_string(), digest };
        }
        if let Some(hex) = spec.strip_prefix("sha256:")
            && is_hex(hex)
        {
            return Selector::Prefix(hex.to_string());
        }
        let prefix = is_hex(spec).then(|| spec.to_string());
        Selector::Tag { tag: spec.to_string(), prefix }
    }

    /// Whether the selector names an image of this ID and manifest digest by a digest or a
    /// prefix of one (tags aside).
    pub fn by_digest(&self, id: Option<Digest>, manifest: Option<Digest>) -> bool {
        let either = |f: &dyn Fn(&Digest) -> bool| id.as_ref().is_some_and(f) || manifest.as_ref().is_some_and(f);
        match self {
            Selector::Digest(d) | Selector::Pinned { digest: d, .. } => either(&|x| x == d),
            Selector::Prefix(p) => either(&|x| x.hex().starts_with(p.as_str())),
            Selector::Tag { .. } => false,
        }
    }

    /// For a hex tag: the selector read as an ID prefix, used when no tag matches.
    pub fn as_prefix(&self) -> Option<Selector> {
        match self {
            Selector::Tag { prefix: Some(p), .. } => Some(Selector::Prefix(p.clone())),
            _ => None,
        }
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len() < 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_users_have() {
        let id = Digest::of(b"config");
        let hex = id.hex();
        assert_eq!(Selector::parse(&id.to_string()), Selector::Digest(id));
        assert_eq!(Selector::parse(&hex), Selector::Digest(id));
        assert_eq!(Selector::parse(&format!("sha256:{}", &hex[..12])), Selector::Prefix(hex[..12].to_string()));
        assert_eq!(
            Selector::parse(&hex[..12]),
            Selector::Tag { tag: hex[..12].to_string(), prefix: Some(hex[..12].to_string()) }
        );
        assert_eq!(
            Selector::parse(&format!("docker.io/airlock/app@{id}")),
            Selector::Pinned { name: "docker.io/airlock/app".into(), digest: id }
        );
        assert_eq!(
            Selector::parse(&format!("airlock/app:1@{id}")),
            Selector::Pinned { name: "airlock/app:1".into(), digest: id }
        );
        assert_eq!(Selector::parse("nginx:1.25"), Selector::Tag { tag: "nginx:1.25".into(), prefix: None });
        // Not hex: a tag only. A short digest after @ is no digest reference.
        assert_eq!(Selector::parse("cafe-1"), Selector::Tag { tag: "cafe-1".into(), prefix: None });
        assert!(matches!(Selector::parse("app@sha256:abc"), Selector::Tag { prefix: None, .. }));
        assert!(matches!(Selector::parse("sha256:ABC"), Selector::Tag { prefix: None, .. }));
    }

    #[test]
    fn matches_ids_and_manifest_digests() {
        let (id, man) = (Digest::of(b"config"), Digest::of(b"manifest"));
        let short = |d: &Digest| d.hex()[..12].to_string();
        for spec in [id.to_string(), man.to_string(), format!("sha256:{}", short(&id)), format!("a/b@{man}")] {
            assert!(Selector::parse(&spec).by_digest(Some(id), Some(man)), "{spec}");
        }
        assert!(Selector::parse(&short(&id)).as_prefix().unwrap().by_digest(Some(id), None));
        assert!(!Selector::parse(&format!("sha256:{}", short(&man))).by_digest(Some(id), None));
        assert!(!Selector::parse(&format!("a/b@{}", Digest::of(b"other"))).by_digest(Some(id), Some(man)));
        assert!(!Selector::parse(&short(&id)).by_digest(Some(id), None), "a hex tag is tried as a tag first");
        assert_eq!(Selector::parse("nginx").as_prefix(), None);
    }
}
