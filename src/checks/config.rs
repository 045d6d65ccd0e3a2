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
