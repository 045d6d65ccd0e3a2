//! Tags: `invalid-reference` for a tag a loader would refuse or misread, and `tag-conflict`
//! for a tag given to two different images.
//!
//! One tag names one image in a runtime's store. Given twice in an archive (two manifest.json
//! entries, two index entries with one name) to two different images, the runtime keeps the
//! last one it reads: measured with docker 20.10, 26.1 and 28.5 (`docker load`: "The image …
//! already exists, renaming the old one … to empty string"; the same with the containerd
//! store) and `ctr images import` 1.6, 1.7 and 2.1 (the index or manifest.json entry read
//! last names the image), and across inputs, the input loaded last. The image a tag ends on
//! then depends on the order, and the one airlock reported under that tag may not be it.
//!
//! Two images are different when they are not the same image for a platform: a tag on a
//! multi-platform index names one image per platform, and Docker 25+ names the same image in
//! manifest.json and index.json; neither is a conflict. Tags are compared normalised
//! (`nginx` = `docker.io/library/nginx:latest`).

use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::{Format, Image, Model, Platform, reference};
use crate::open::Catalog;
use std::collections::HashMap;

pub fn check(model: &Model, i: usize, image: &Image, out: &mut Vec<Finding>) {
    // An OCI ref.name may be a bare tag ("latest", "app-1"); RepoTags must be full references.
    let tag_only = matches!(model.format, Some(Format::OciLayout | Format::OciArchive | Format::DockerOci));
    for t in &image.tags {
        if !reference::is_valid(t, tag_only) {
            out.push(
                Finding::new(Code::InvalidReference, format!("tag {t:?} is not a valid image reference")).image(i),
            );
        }
    }
}

/// What a tag names on one platform: an image, known by its ID.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Named {
    pub platform: Option<Platform>,
    pub id: Option<Digest>,
}

/// Where a tag was first seen naming a platform's image, for messages.
pub struct Seen<W> {
    pub named: Named,
    pub where_: W,
}

/// A tag's images, merged over the places that give it, in order.
pub struct Merged<W> {
    seen: Vec<Seen<W>>,
    by_platform: HashMap<Option<Platform>, usize>,
}

impl<W: Clone> Merged<W> {
    pub fn new() -> Self {
        Merged { seen: Vec::new(), by_platform: HashMap::new() }
    }

    /// Adds what one place names; returns an image another place named differently before
    /// (the earlier, then the one named here), if any.
    pub fn add(&mut self, names: &[Named], where_: &W) -> Option<(Seen<W>, Named)> {
        let earlier = |s: &Seen<W>| Seen { named: s.named.clone(), where_: s.where_.clone() };
        let shares = names.iter().any(|n| self.by_platform.contains_key(&n.platform));
        if let Some(first) = self.seen.first()
            && !shares
            && let Some(n) = names.iter().find(|n| n.id != first.named.id)
        {
            // No platform in common: for a runtime that holds one image per tag, two images.
            return Some((earlier(first), n.clone()));
        }
        for n in names {
            match self.by_platform.get(&n.platform) {
                Some(&at) if self.seen[at].named.id != n.id => return Some((earlier(&self.seen[at]), n.clone())),
                Some(_) => {}
                None => {
                    self.by_platform.insert(n.platform.clone(), self.seen.len());
                    self.seen.push(Seen { named: n.clone(), where_: where_.clone() });
                }
            }
        }
        None
    }
}

impl<W: Clone> Default for Merged<W> {
    fn default() -> Self {
        Self::new()
    }
}

/// `image abcd12345678 (linux/amd64)`, or what is known of it.
pub fn describe(n: &Named) -> String {
    let id = n.id.map_or_else(|| "an image of unknown ID".to_string(), |d| format!("image {}", d.short()));
    match &n.platform {
        Some(p) => format!("{id} ({p})"),
        None => id,
    }
}

/// `tag-conflict` across the inputs of one run (and the archives of a bundle): `inputs`
/// gives, per input in order, its name and each tag's images; the findings name both inputs.
pub fn across(inputs: &[(String, Vec<(String, Named)>)]) -> Vec<Finding> {
    // (tag's key, input, tag as written, what it names), grouped by key: only a tag in
    // two inputs or more is compared, so a run of many tags costs a sort, nothing per tag.
    let mut all: Vec<(String, usize, &String, &Named)> = inputs
        .iter()
        .enumerate()
        .flat_map(|(n, (_, tagged))| tagged.iter().map(move |(t, named)| (key(t), n, t, named)))
        .collect();
    all.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out = Vec::new();
    for group in all.chunk_by(|a, b| a.0 == b.0) {
        if group.iter().all(|g| g.1 == group[0].1) {
            continue;
        }
        let mut merged: Merged<usize> = Merged::new();
        for input in group.chunk_by(|a, b| a.1 == b.1) {
            // One input's images for the tag (its own conflicts are its own findings): the
            // first per platform.
            let mut names: Vec<Named> = Vec::new();
            for (_, _, _, n) in input {
                if !names.iter().any(|m| m.platform == n.platform) {
                    names.push((*n).clone());
                }
            }
            let here = input[0].1;
            if let Some((earlier, later)) = merged.add(&names, &here) {
                out.push(Finding::new(
                    Code::TagConflict,
                    format!(
                        "tag {} names two different images: {} in {} and {} in {}; docker load and ctr images import leave it on the one loaded last",
                        input[0].2,
                        describe(&earlier.named),
                        inputs[earlier.where_].0,
                        describe(&later),
                        inputs[here].0,
                    ),
                ));
                break;
            }
        }
    }
    out
}

/// The key two spellings of one tag share.
pub fn key(tag: &str) -> String {
    reference::normalize(tag)
}

/// `tag-conflict` within one input: each tag's places (`Model::holders`), in document order.
pub fn conflicts(catalog: &Catalog, model: &Model, selected: &[(usize, &Image)], out: &mut Vec<Finding>) {
    let named = |i: usize| {
        let image = &model.images[i];
        let id = catalog.scan_of(&image.config.member).and_then(|s| s.digest).or(image.config.digest);
        Named { platform: image.platform_or_config(), id }
    };
    // Holders grouped by the tag's key, in document order within a group: only a tag given
    // twice or more is compared.
    let mut order: Vec<(String, usize)> = model.holders.iter().enumerate().map(|(n, h)| (key(&h.tag), n)).collect();
    order.sort();
    for group in order.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        let mut merged: Merged<&str> = Merged::new();
        let found = group.iter().find_map(|&(_, n)| {
            let h = &model.holders[n];
            let names: Vec<Named> = h.images.iter().map(|&i| named(i)).collect();
            merged.add(&names, &h.from.as_str()).map(|c| (h, c))
        });
        let Some((h, (earlier, later))) = found else { continue };
        let same_document = earlier.where_.split(' ').next() == h.from.split(' ').next();
        let ends = if same_document {
            format!("docker load and ctr images import keep the later: {}", describe(&later))
        } else {
            "docker load keeps manifest.json's, ctr images import index.json's".to_string()
        };
        let f = Finding::new(
            Code::TagConflict,
            format!(
                "tag {} names two different images: {} in {} and {} in {}; {ends}",
                h.tag,
                describe(&earlier.named),
                earlier.where_,
                describe(&later),
                h.from
            ),
        );
        // Name the later image where it is among those reported.
        let at = h.images.iter().find(|&&i| named(i) == later && selected.iter().any(|&(s, _)| s == i));
        out.push(match at {
            Some(&i) => f.image(i),
            None => f,
        });
    }
}

/// `across` and `Merged`, the rule of one tag, one image, case by case.
#[cfg(test)]
mod tests {
    use super::{Merged, Named, across};
    use crate::digest::Digest;
    use crate::finding::Code;
    use crate::model::Platform;

    fn named(id: u8, platform: Option<&str>) -> Named {
        Named { platform: platform.and_then(Platform::parse), id: Some(Digest::of(&[id])) }
    }

    fn input(name: &str, tags: &[(&str, Named)]) -> (String, Vec<(String, Named)>) {
        (name.to_string(), tags.iter().map(|(t, n)| (t.to_string(), n.clone())).collect())
    }

    #[test]
    fn one_image_under_one_tag_in_two_inputs_is_no_conflict() {
        let a = named(1, Some("linux/amd64"));
        let got = across(&[
            input("a.tar", &[("airlock/app:1", a.clone())]),
            input("b.tar", &[("docker.io/airlock/app:1", a)]),
        ]);
        assert_eq!(got, []);
    }

    #[test]
    fn two_images_under_one_tag_spelled_two_ways_conflict_once() {
        let got = across(&[
            input("a.tar", &[("airlock/app:1", named(1, Some("linux/amd64")))]),
            input("b.tar", &[("docker.io/airlock/app:1", named(2, Some("linux/amd64")))]),
            input("c.tar", &[("airlock/app:1", named(3, Some("linux/amd64")))]),
        ]);
        assert_eq!(got.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::TagConflict]);
        assert!(got[0].message.contains("a.tar") && got[0].message.contains("b.tar"), "{}", got[0].message);
    }

    /// Two single-platform archives under one tag: a runtime that holds one image per tag
    /// (docker, ctr) keeps the one loaded last, so it is a conflict, not a multi-platform tag.
    #[test]
    fn one_tag_on_two_platforms_in_two_inputs_conflicts() {
        let got = across(&[
            input("amd64.tar", &[("app:1", named(1, Some("linux/amd64")))]),
            input("arm64.tar", &[("app:1", named(2, Some("linux/arm64")))]),
        ]);
        assert_eq!(got.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::TagConflict]);
    }

    #[test]
    fn merged_names_the_earlier_place_of_a_platform_named_twice() {
        let mut m: Merged<&str> = Merged::new();
        assert!(m.add(&[named(1, Some("linux/amd64")), named(2, Some("linux/arm64"))], &"index.json").is_none());
        assert!(m.add(&[named(2, Some("linux/arm64"))], &"manifest.json").is_none());
        let (earlier, later) = m.add(&[named(3, Some("linux/arm64"))], &"again").expect("a conflict");
        assert_eq!((earlier.where_, earlier.named.id, later.id), ("index.json", named(2, None).id, named(3, None).id));
    }
}
