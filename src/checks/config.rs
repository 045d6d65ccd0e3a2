//! The config itself: `config-invalid`, `layer-count-mismatch`, `history-mismatch`,
//! `platform-mismatch`.

use crate::finding::{Code, Finding};
use crate::model::Image;

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
        && (&p.os != os
            || &p.architecture != arch
            || (p.variant.is_some() && cfg.variant.is_some() && p.variant != cfg.variant))
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
}
