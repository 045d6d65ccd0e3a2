//! The config itself: `config-invalid`, `layer-count-mismatch`, `history-mismatch`,
//! `platform-mismatch`.

use crate::finding::{Code, Finding};
use crate::model::{Image, Platform};

pub fn check(i: usize, image: &Image, out: &mut Vec<Finding>) {
    let member = &image.config.member;
    let cfg = match &image.config_doc {
        None => return, // missing: blob-missing already says so
        Some(Err(why)) => {
            out.push(
                Finding::new(Code::ConfigInvalid, format!("the config {member} is invalid: {why}"))
                    .image(i)
                    .member(member.clone()),
            );
            return;
        }
        Some(Ok(c)) => c,
    };
    let n = image.layers.len();
    if cfg.diff_ids.len() != n {
        out.push(
            Finding::new(
                Code::LayerCountMismatch,
                format!("the manifest lists {n} layers but the config's rootfs.diff_ids has {}", cfg.diff_ids.len()),
            )
            .image(i)
            .member(member.clone()),
        );
    }
    if let Some(h) = cfg.layer_history()
        && !cfg.history.as_ref().is_some_and(|h| h.is_empty())
        && h.len() != n
    {
        out.push(
            Finding::new(
                Code::HistoryMismatch,
                format!("the config's history has {} non-empty entries for {n} layers", h.len()),
            )
            .image(i)
            .member(member.clone()),
        );
    }
    if let Some(p) = &image.platform
        && let (Some(os), Some(arch)) = (&cfg.os, &cfg.architecture)
        && disagree(p, &Platform { os: os.clone(), architecture: arch.clone(), variant: cfg.variant.clone() })
    {
        let cv = cfg.variant.as_deref().map(|v| format!("/{v}")).unwrap_or_default();
        out.push(
            Finding::new(
                Code::PlatformMismatch,
                format!("the index says platform {p}, the config says {os}/{arch}{cv}"),
            )
            .image(i)
            .member(member.clone()),
        );
    }
}

/// Whether the index's platform and the config's name different platforms, each normalised
/// as containerd's platforms package does (`aarch64` is `arm64`, `x86_64` is `amd64`,
/// `arm64/v8` is `arm64`): the runtimes pick an image by the normalised platform, so spellings
/// of one platform are no disagreement. A variant given on one side only is none either.
fn disagree(index: &Platform, config: &Platform) -> bool {
    let (a, b) = (index.normalized(), config.normalized());
    a.os != b.os
        || a.architecture != b.architecture
        || (index.variant.is_some() && config.variant.is_some() && a.variant != b.variant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{Shape, at, config, image, reference};
    use crate::digest::Digest;
    use crate::model::{ConfigError, ImageConfig, Platform};

    fn run(cfg: Option<Result<ImageConfig, ConfigError>>, layers: usize, platform: Option<&str>) -> Vec<Shape> {
        let mut img =
            image(reference("cfg", None), (0..layers).map(|l| reference(&format!("l{l}"), None)).collect(), cfg);
        img.platform = platform.and_then(Platform::parse);
        let mut out = Vec::new();
        check(5, &img, &mut out);
        crate::checks::tests::shapes(&out)
    }

    fn ids(n: u8) -> Vec<Digest> {
        (0..n).map(|i| Digest::of(&[i])).collect()
    }

    #[test]
    fn a_matching_config_and_a_missing_one_say_nothing() {
        assert_eq!(run(Some(Ok(config(ids(2), Some(&[false, true, false])))), 2, Some("linux/amd64")), []);
        assert_eq!(run(None, 2, None), []);
    }

    #[test]
    fn an_invalid_config_is_one_finding_and_nothing_else() {
        assert_eq!(run(Some(Err(ConfigError::NoRootfs)), 2, None), [at(Code::ConfigInvalid, Some(5), None, "cfg")]);
    }

    #[test]
    fn layer_count_and_history_are_counted_against_the_layers() {
        assert_eq!(
            run(Some(Ok(config(ids(1), Some(&[false])))), 2, None),
            [at(Code::LayerCountMismatch, Some(5), None, "cfg"), at(Code::HistoryMismatch, Some(5), None, "cfg")]
        );
        // Empty-layer entries do not count; no history, or an empty one, is allowed.
        assert_eq!(
            run(Some(Ok(config(ids(2), Some(&[true, false, true])))), 2, None),
            [at(Code::HistoryMismatch, Some(5), None, "cfg")]
        );
        assert_eq!(run(Some(Ok(config(ids(2), None))), 2, None), []);
        assert_eq!(run(Some(Ok(config(ids(2), Some(&[])))), 2, None), []);
    }

    #[test]
    fn the_index_platform_against_the_config() {
        let c = || Some(Ok(config(ids(1), None)));
        assert_eq!(run(c(), 1, Some("linux/arm64")), [at(Code::PlatformMismatch, Some(5), None, "cfg")]);
        assert_eq!(run(c(), 1, Some("windows/amd64")), [at(Code::PlatformMismatch, Some(5), None, "cfg")]);
        // A variant on one side only is no disagreement; two different ones are.
        assert_eq!(run(c(), 1, Some("linux/amd64/v3")), []);
        let mut v = config(ids(1), None);
        v.variant = Some("v2".into());
        assert_eq!(
            run(Some(Ok(v.clone())), 1, Some("linux/amd64/v3")),
            [at(Code::PlatformMismatch, Some(5), None, "cfg")]
        );
        assert_eq!(run(Some(Ok(v)), 1, None), []);
    }

    #[test]
    fn spellings_of_one_platform_agree() {
        let with = |arch: &str, variant: Option<&str>| {
            let mut c = config(ids(1), None);
            c.architecture = Some(arch.into());
            c.variant = variant.map(str::to_string);
            Some(Ok(c))
        };
        assert_eq!(run(with("aarch64", None), 1, Some("linux/arm64")), []);
        assert_eq!(run(with("arm64", Some("v8")), 1, Some("linux/arm64")), []);
        assert_eq!(run(with("arm64", Some("v8")), 1, Some("linux/aarch64/8")), []);
        assert_eq!(run(with("x86_64", None), 1, Some("linux/amd64")), []);
        assert_eq!(run(with("amd64", Some("v1")), 1, Some("linux/x86-64/v1")), []);
        assert_eq!(run(with("armhf", None), 1, Some("linux/arm/v7")), []);
        // Spelled alike or not, different platforms still disagree.
        assert_eq!(
            run(with("aarch64", None), 1, Some("linux/amd64")),
            [at(Code::PlatformMismatch, Some(5), None, "cfg")]
        );
        assert_eq!(
            run(with("arm", Some("v6")), 1, Some("linux/arm/7")),
            [at(Code::PlatformMismatch, Some(5), None, "cfg")]
        );
    }
}
