//! `airlock inspect`: the model without hashing layers. Declared digests, diffIDs from the
//! config, chainIDs from those, and the history aligned to the layers (`docker history`).

use super::select;
use super::verify::{UsageError, report_input};
use crate::digest::Digest;
use crate::model::Image;
use crate::report::{HistoryReport, ImageReport, LayerReport, Report};
use crate::scan::{Compression, Depth};
use std::path::PathBuf;

pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub selection: select::Selection,
    pub progress: bool,
}

pub fn run(opts: &Options) -> Result<Report, UsageError> {
    let mut inputs = Vec::new();
    for path in super::inputs_to_read(&opts.inputs) {
        inputs.extend(super::reports_for(
            path,
            Depth::Documents,
            opts.progress,
            |p, loaded| report_input(p, loaded, &opts.selection, declared),
            &mut |_, _| {},
        )?);
    }
    let ok = inputs.iter().all(|i| i.ok);
    Ok(Report { ok, inputs, findings: Vec::new() })
}

fn declared(catalog: &crate::open::Catalog, image: &Image) -> ImageReport {
    let cfg = image.config_doc.as_ref().and_then(|c| c.as_ref().ok());
    let diff_ids: Vec<Digest> = cfg.map(|c| c.diff_ids.clone()).unwrap_or_default();
    let chain = Digest::chain_ids(&diff_ids);
    let layers = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerReport {
            digest: l.digest,
            size: l.size.or_else(|| catalog.resolve(&l.member).ok().map(|(_, m)| m.size)),
            media_type: l.media_type.clone(),
            // The magic bytes were read; the media type is only a claim.
            compression: match catalog.scan_of(&l.member).map(|s| &s.content) {
                Some(crate::scan::Content::Sniffed(c)) => Some(*c),
                _ => l.media_type.as_deref().and_then(Compression::from_media_type),
            },
            diff_id: diff_ids.get(i).copied(),
            chain_id: chain.get(i).copied(),
            uncompressed_size: None,
            member: l.member.clone(),
        })
        .collect();
    let history = cfg.and_then(|c| c.history.as_ref()).map(|h| {
        let mut next = 0;
        h.iter()
            .map(|e| HistoryReport {
                layer: (!e.empty_layer).then(|| {
                    next += 1;
                    next - 1
                }),
                empty_layer: e.empty_layer,
                created: e.created.clone(),
                created_by: e.created_by.clone(),
                comment: e.comment.clone(),
            })
            .collect()
    });
    ImageReport {
        tags: image.tags.clone(),
        platform: select::platform_of(image).map(|p| p.to_string()),
        config_digest: super::verify::image_id(catalog, image),
        manifest_digest: image.manifest_digest,
        config_member: image.config.member.clone(),
        layers,
        history,
        signatures: None,
        signatures_not_checked: None,
        config: catalog.document(&image.config.member).and_then(crate::model::runtime::read),
    }
}
