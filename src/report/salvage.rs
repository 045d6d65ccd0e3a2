//! The images a tar cut short still holds whole: its manifest.json and index.json come last
//! in every writer's order (docker save, ctr, skopeo, podman, crane), so a cut copy has none,
//! and its images are found by their configs instead. An image counts as read whole when its
//! config member was read whole and every diffID in it is the recomputed diffID of a layer
//! member read whole before the cut. Its tags are not known (they are in the lost manifest);
//! what its layers hold is checked as any layer's (`unsafe-layer-entry`,
//! `unpackable-layer-entry`). The input fails all the same: the runtimes load none of its
//! images (`crate::open::cut`).

use super::{ImageReport, LayerReport};
use crate::digest::Digest;
use crate::finding::Finding;
use crate::open::Catalog;
use crate::scan::{BlobScan, Content, TarSummary};
use std::collections::HashMap;

/// The images read whole before the cut, `@0`… in member order, and what their layers' entries
/// give; nothing when the catalog was not cut, or its layers were not hashed (`inspect`).
pub fn images(catalog: &Catalog) -> (Vec<ImageReport>, Vec<Finding>) {
    let (mut images, mut findings) = (Vec::new(), Vec::new());
    if !catalog.cut {
        return (images, findings);
    }
    let layers = whole_layers(catalog);
    let mut seen = Vec::new();
    for (member, scan, diff_ids, platform) in configs(catalog) {
        let Some(found) = diff_ids.iter().map(|d| layers.get(d)).collect::<Option<Vec<_>>>() else { continue };
        if diff_ids.is_empty() || seen.contains(&scan.digest) {
            continue;
        }
        seen.push(scan.digest);
        let i = images.len();
        let chain = Digest::chain_ids(&diff_ids);
        let mut reports = Vec::new();
        for (l, (m, s, summary)) in found.into_iter().enumerate() {
            let at = |f: Finding| f.image(i).layer(l).member(m.to_string());
            crate::checks::layers::entries(l, m, summary, &at, &mut findings);
            reports.push(LayerReport {
                digest: s.digest,
                size: Some(s.size),
                media_type: None,
                compression: layer_compression(s),
                diff_id: Some(summary.diff_id),
                chain_id: chain.get(l).copied(),
                uncompressed_size: Some(summary.uncompressed_size),
                member: m.to_string(),
            });
        }
        images.push(ImageReport {
            index: i,
            tags: Vec::new(),
            platform,
            image_id: scan.digest,
            config_digest: scan.digest,
            manifest_digest: None,
            config_member: member.to_string(),
            layers: reports,
            history: None,
            signatures: None,
            signatures_not_checked: None,
            config: None,
        });
    }
    (images, findings)
}

/// Every layer member read whole and hashed, by its recomputed diffID (the first in member
/// order where two are the same layer).
fn whole_layers(catalog: &Catalog) -> HashMap<Digest, (&str, &BlobScan, &TarSummary)> {
    let mut layers = HashMap::new();
    for (path, m) in &catalog.members {
        if let Some(s) = &m.scan
            && let Content::Layer(ls) = &s.content
            && let Ok(summary) = &ls.tar
        {
            layers.entry(summary.diff_id).or_insert((path.as_str(), s, summary));
        }
    }
    layers
}

/// Every member read whole that parses as an image config: its scan, diffIDs and platform.
fn configs(catalog: &Catalog) -> Vec<(&str, &BlobScan, Vec<Digest>, Option<String>)> {
    let mut found = Vec::new();
    for (path, m) in &catalog.members {
        let Some(s) = &m.scan else { continue };
        let Content::Document(doc) = &s.content else { continue };
        let Ok(c) = crate::formats::config::parse(&doc[..]) else { continue };
        let platform = match (&c.os, &c.architecture, &c.variant) {
            (Some(os), Some(arch), Some(v)) => Some(format!("{os}/{arch}/{v}")),
            (Some(os), Some(arch), None) => Some(format!("{os}/{arch}")),
            _ => None,
        };
        found.push((path.as_str(), s, c.diff_ids, platform));
    }
    found
}

fn layer_compression(s: &BlobScan) -> Option<crate::scan::Compression> {
    match &s.content {
        Content::Layer(ls) => Some(ls.compression),
        _ => None,
    }
}
