//! `--image REF|@N` and `--platform os/arch[/variant]`.

pub use super::reference::normalize;
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
                None => (0..n).filter(|&i| matches(&model.images[i], spec)).collect(),
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

fn matches(image: &Image, spec: &str) -> bool {
    if let Some(d) = Digest::parse(spec) {
        return image.config.digest == Some(d) || image.manifest_digest == Some(d);
    }
    let want = normalize(spec);
    image.tags.iter().any(|t| t == spec || normalize(t) == want)
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
