//! `--image REF|ID|@N` and `--platform os/arch[/variant]`.

pub use super::reference::normalize;
use super::selector::Selector;
use super::{Image, Model, Platform};
use crate::digest::Digest;

#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub images: Vec<String>,
    pub platform: Option<Platform>,
}

/// The indexes of the selected images, in model order; an error names what the input has.
pub fn select(model: &Model, sel: &Selection) -> Result<Vec<usize>, String> {
    let n = model.images.len();
    let mut chosen: Vec<usize> = if sel.images.is_empty() {
        (0..n).collect()
    } else {
        let mut v = Vec::new();
        for spec in &sel.images {
            let hits: Vec<usize> = match spec.strip_prefix('@') {
                Some(num) => match num.parse::<usize>() {
                    Ok(i) if i < n => vec![i],
                    _ => {
                        return Err(format!("--image {spec}: the input has images @0 to @{}", n.saturating_sub(1)));
                    }
                },
                None => hits(model, spec)?,
            };
            if hits.is_empty() {
                return Err(format!("--image {spec} matches no image; the input has: {}", describe(model)));
            }
            for h in hits {
                if !v.contains(&h) {
                    v.push(h);
                }
            }
        }
        v.sort();
        v
    };
    if let Some(want) = &sel.platform {
        chosen.retain(|&i| platform_of(&model.images[i]).is_some_and(|p| p.matches(want)));
        if chosen.is_empty() {
            return Err(format!("--platform {want} matches no image; the input has: {}", describe(model)));
        }
    }
    Ok(chosen)
}

/// The platform an index declares, else the config's.
pub fn platform_of(image: &Image) -> Option<Platform> {
    image.platform_or_config()
}

/// The images `spec` (not `@N`) names: by tag, digest, digest reference or short ID
/// (`model::selector`). A short ID must name one digest, as docker refuses an ambiguous one.
fn hits(model: &Model, spec: &str) -> Result<Vec<usize>, String> {
    let sel = Selector::parse(spec);
    let by = |sel: &Selector| -> Vec<usize> {
        (0..model.images.len()).filter(|&i| matches(&model.images[i], spec, sel)).collect()
    };
    let mut found = by(&sel);
    let mut prefix = matches!(sel, Selector::Prefix(_)).then_some(sel.clone());
    if found.is_empty()
        && let Some(p) = sel.as_prefix()
    {
        found = by(&p);
        prefix = Some(p);
    }
    if let Some(Selector::Prefix(p)) = prefix {
        let mut named: Vec<Digest> = found
            .iter()
            .flat_map(|&i| [model.images[i].config.digest, model.images[i].manifest_digest])
            .flatten()
            .filter(|d| d.hex().starts_with(&p))
            .collect();
        named.sort_by_key(Digest::hex);
        named.dedup();
        if named.len() > 1 {
            let list: Vec<String> = named.iter().map(Digest::to_string).collect();
            return Err(format!(
                "--image {spec} is the start of several digests: {}; give more of it",
                list.join(", ")
            ));
        }
    }
    Ok(found)
}

fn matches(image: &Image, spec: &str, sel: &Selector) -> bool {
    if let Selector::Tag { tag, .. } = sel {
        let want = normalize(tag);
        return image.tags.iter().any(|t| t == spec || normalize(t) == want);
    }
    sel.by_digest(image.config.digest, image.manifest_digest) || image.tags.iter().any(|t| t == spec)
}

pub fn describe(model: &Model) -> String {
    if model.images.is_empty() {
        return "no images".into();
    }
    model
        .images
        .iter()
        .enumerate()
        .map(|(i, im)| {
            let tags = if im.tags.is_empty() { "<untagged>".to_string() } else { im.tags.join(" ") };
            let p = platform_of(im).map(|p| format!(" [{p}]")).unwrap_or_default();
            format!("@{i} {tags}{p}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BlobRef;

    fn image(tag: &str, id: Digest, manifest: Option<Digest>) -> Image {
        let blob = BlobRef {
            member: String::new(),
            digest: Some(id),
            size: None,
            media_type: None,
            urls: vec![],
            from: "".into(),
        };
        Image {
            tags: vec![tag.to_string()],
            platform: None,
            manifest_digest: manifest,
            manifest_member: None,
            config: blob,
            layers: vec![],
            also: vec![],
            config_doc: None,
        }
    }

    /// Digests whose hex starts with `start`, found by counting (sha256 of a number).
    fn digest_starting(start: &str, skip: usize) -> Digest {
        (0u32..).map(|n| Digest::of(&n.to_le_bytes())).filter(|d| d.hex().starts_with(start)).nth(skip).unwrap()
    }

    fn pick(model: &Model, spec: &str) -> Result<Vec<usize>, String> {
        select(model, &Selection { images: vec![spec.to_string()], platform: None })
    }

    #[test]
    fn short_ids_tags_first_and_ambiguity() {
        let (a, b) = (digest_starting("ab", 0), digest_starting("ab", 1));
        let mut model = Model::default();
        model.images.push(image("app:1", a, None));
        model.images.push(image("app:2", b, Some(a)));
        // A tag that is hex is a tag first.
        model.images.push(image("abc", Digest::of(b"c"), None));
        assert_eq!(pick(&model, &a.hex()[..12]), Ok(vec![0, 1]), "the ID of @0 and the manifest digest of @1");
        assert_eq!(pick(&model, &format!("sha256:{}", &b.hex()[..12])), Ok(vec![1]));
        assert_eq!(pick(&model, "abc"), Ok(vec![2]));
        let err = pick(&model, "ab").unwrap_err();
        let mut both = [a.to_string(), b.to_string()];
        both.sort();
        assert_eq!(
            err,
            format!("--image ab is the start of several digests: {}, {}; give more of it", both[0], both[1])
        );
        assert_eq!(pick(&model, "sha256:ab").unwrap_err(), err.replace("--image ab ", "--image sha256:ab "));
        assert!(pick(&model, "ffffffffffff").unwrap_err().starts_with("--image ffffffffffff matches no image"));
    }

    fn platformed(tag: &str, seed: &[u8], platform: &str) -> Image {
        let mut i = image(tag, Digest::of(seed), None);
        i.platform = Platform::parse(platform);
        i
    }

    fn three_platforms() -> Model {
        let mut model = Model::default();
        model.images.push(platformed("app:1", b"a", "linux/amd64"));
        model.images.push(platformed("app:1", b"b", "linux/arm64/v8"));
        model.images.push(platformed("tool:1", b"c", "linux/arm/v7"));
        model
    }

    fn sel(images: &[&str], platform: Option<&str>) -> Selection {
        Selection {
            images: images.iter().map(|s| s.to_string()).collect(),
            platform: platform.and_then(Platform::parse),
        }
    }

    #[test]
    fn at_n_numbers_the_whole_input_whatever_the_platform() {
        let model = three_platforms();
        assert_eq!(select(&model, &sel(&[], None)), Ok(vec![0, 1, 2]));
        assert_eq!(select(&model, &sel(&["@1"], None)), Ok(vec![1]));
        // `@1` is the arm64 image with or without --platform: the selection does not renumber.
        assert_eq!(select(&model, &sel(&["@1"], Some("linux/arm64"))), Ok(vec![1]));
        assert_eq!(select(&model, &sel(&[], Some("linux/arm64"))), Ok(vec![1]));
        let err = select(&model, &sel(&["@0"], Some("linux/arm64"))).unwrap_err();
        assert!(
            err.starts_with("--platform linux/arm64 matches no image; the input has: @0 app:1 [linux/amd64]"),
            "{err}"
        );
        assert_eq!(select(&model, &sel(&["@3"], None)), Err("--image @3: the input has images @0 to @2".to_string()));
        assert!(select(&model, &sel(&["@x"], None)).is_err());
        assert!(select(&model, &sel(&["@-1"], None)).is_err());
    }

    #[test]
    fn several_specs_are_one_sorted_selection_without_repeats() {
        let model = three_platforms();
        assert_eq!(select(&model, &sel(&["tool:1", "@0", "app:1"], None)), Ok(vec![0, 1, 2]));
        // A tag names every platform it is given to; the normalised spelling too.
        assert_eq!(select(&model, &sel(&["docker.io/library/app:1"], None)), Ok(vec![0, 1]));
        assert_eq!(select(&model, &sel(&["app:1"], Some("linux/amd64"))), Ok(vec![0]));
        assert_eq!(
            select(&model, &sel(&["app"], None)).unwrap_err(),
            format!("--image app matches no image; the input has: {}", describe(&model))
        );
    }

    #[test]
    fn describe_lists_each_image_by_number() {
        let mut model = three_platforms();
        model.images[2].tags.clear();
        model.images[2].platform = None;
        assert_eq!(describe(&model), "@0 app:1 [linux/amd64], @1 app:1 [linux/arm64/v8], @2 <untagged>");
        assert_eq!(describe(&Model::default()), "no images");
        let err = select(&Model::default(), &sel(&["@0"], None)).unwrap_err();
        assert_eq!(err, "--image @0: the input has images @0 to @0");
    }
}
