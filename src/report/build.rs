//! Reports built from an opened input (`crate::input`): what each image shows, recomputed
//! from the bytes for verify ([`recomputed`]) or as declared for inspect ([`declared`]), and
//! for a bundle, its own report followed by one per image archive in it.

use super::{ArtifactReport, HistoryReport, ImageReport, InputReport, LayerReport, OtherFile};
use crate::checks::{self, Selected};
use crate::digest::Digest;
use crate::error::Error;
use crate::finding::Finding;
use crate::input::{Loaded, Opened, bundle::Part};
use crate::model::select::{self, Selection};
use crate::model::{BlobRef, Image, Model, reference};
use crate::open::Catalog;
use crate::scan::{Compression, Content, Depth};
use std::path::Path;

/// The reports for one opened input: its own, or, for a bundle, the bundle's (its container
/// findings and what it contains) followed by one per image archive in it, named
/// `BUNDLE!MEMBER`. An image archive that holds archives of its own is reported as itself,
/// then those. The first report carries the input's coverage: every member, nested ones
/// included, with its verdict. `--image` / `--platform` pick images across a bundle: an
/// archive without them is left out, unless none has them (then the usage error stands).
/// `check` reports one image archive.
/// The report of an input that cannot be opened (`Error::is_input_unreadable`): no format,
/// no images, one `input-unreadable` finding saying why. The run's exit status is then 2
/// (`Report::exit_status`).
pub fn unreadable(path: &Path, e: &Error) -> InputReport {
    let finding = Finding::new(crate::finding::Code::InputUnreadable, e.to_string());
    let mut report = InputReport { path: path.display().to_string(), findings: vec![finding], ..Default::default() };
    report.settle();
    report
}

pub fn reports(
    opened: Opened,
    mut check: impl FnMut(&Path, &Loaded) -> Result<InputReport, Error>,
) -> Result<Vec<InputReport>, Error> {
    let Opened { display, depth, top, mut found, zarf } = opened;
    let coverage = Some(Box::new(std::mem::take(&mut found.coverage)));
    let contains: Vec<String> = found.parts.iter().map(|p| p.name.clone()).collect();
    if top.model.format.is_some() || (!found.is_bundle() && !zarf) {
        // An image archive (or no archive at all): its own report, and what it holds beside.
        let mut report = check(Path::new(&display), &top)?;
        report.findings.extend(found.findings.iter().cloned());
        report.settle();
        report.contains = contains;
        report.coverage = coverage;
        let mut reports = vec![report];
        reports.extend(part_reports(&found.parts, &mut check)?);
        return Ok(reports);
    }
    let mut reports = part_reports(&found.parts, &mut check)?;
    let mut findings = top.catalog.findings.clone();
    findings.extend(found.findings.iter().cloned());
    // The bundle's own integrity data, where it has some and the members were hashed.
    if zarf && depth == Depth::Full {
        findings.extend(crate::formats::zarf::check(&top.catalog));
    }
    let (other, other_count) = found.others();
    let mut bundle = InputReport {
        path: display,
        size: top.catalog.whole.map(|w| w.size),
        sha256: top.catalog.whole.and_then(|w| w.sha256),
        compression: top.catalog.outer.unwrap_or_default(),
        findings,
        contains,
        other: other.into_iter().map(|(path, size)| OtherFile { path, size }).collect(),
        other_count: Some(other_count),
        coverage,
        ..Default::default()
    };
    bundle.settle();
    reports.insert(0, bundle);
    Ok(reports)
}

/// One report per image archive of a bundle. An archive the selection picks nothing from is
/// left out, unless none has the selection (its usage error then stands).
fn part_reports(
    parts: &[Part],
    check: &mut impl FnMut(&Path, &Loaded) -> Result<InputReport, Error>,
) -> Result<Vec<InputReport>, Error> {
    let mut reports = Vec::new();
    let mut first_error = None;
    for part in parts {
        match check(Path::new(&part.name), &part.loaded) {
            Ok(r) => reports.push(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if reports.is_empty() => Err(e),
        _ => Ok(reports),
    }
}

/// Selects, checks and reports one input; `image_report` says what each image shows
/// ([`recomputed`] for verify, [`declared`] for inspect).
pub fn report_input(
    path: &Path,
    loaded: &Loaded,
    selection: &Selection,
    image_report: fn(&Catalog, usize, &Image) -> ImageReport,
) -> Result<InputReport, Error> {
    let Loaded { catalog, model } = loaded;
    let mut absent_selected = None;
    let chosen = if model.format.is_some() {
        match select::select(model, selection) {
            Ok(c) => c,
            // --platform names a platform the index lists but the archive lacks: an error
            // finding (this archive cannot give it), not a usage error.
            Err(e) => match selection.platform.as_ref().and_then(|p| checks::platforms::selected_absent(model, p)) {
                Some(f) => {
                    absent_selected = Some(f);
                    Vec::new()
                }
                None => return Err(Error::Selection { input: path.display().to_string(), message: e }),
            },
        }
    } else {
        Vec::new()
    };
    let selected = Selected::of(model, &chosen);
    let mut findings = checks::all_findings(catalog, model, &selected);
    if let Some(f) = absent_selected {
        findings.insert(0, f);
    }
    let images = selected.images.iter().map(|&(i, im)| image_report(catalog, i, im)).collect();
    let artifacts = model
        .artifacts
        .iter()
        .map(|a| ArtifactReport {
            kind: a.kind.clone(),
            manifest_digest: a.digest,
            member: a.member.clone(),
            about: a.subject,
            image: a
                .subject
                .and_then(|s| selected.images.iter().find(|(_, im)| im.manifest_digest == Some(s)))
                .map(|&(i, _)| i),
        })
        .collect();
    let mut report = InputReport {
        path: path.display().to_string(),
        size: catalog.whole.map(|w| w.size),
        sha256: catalog.whole.and_then(|w| w.sha256),
        format: model.format,
        compression: catalog.outer.unwrap_or(Compression::None),
        images,
        findings,
        artifacts,
        ..Default::default()
    };
    if model.format.is_none() {
        // Cut short before its manifest: the images read whole before the cut.
        let (images, findings) = super::salvage::images(catalog);
        report.images = images;
        report.findings.extend(findings);
    }
    report.settle();
    Ok(report)
}

/// The report of the images `selected` of one input (`name`) with these findings: what
/// convert and export refuse, with why.
pub fn selected_input(
    name: &str,
    catalog: &Catalog,
    model: &Model,
    selected: &Selected,
    findings: Vec<Finding>,
) -> InputReport {
    let mut report = InputReport {
        path: name.to_string(),
        format: model.format,
        compression: catalog.outer.unwrap_or(Compression::None),
        images: selected.images.iter().map(|&(i, im)| recomputed(catalog, i, im)).collect(),
        findings,
        ..Default::default()
    };
    report.settle();
    report
}

/// The image ID: sha256 of the config bytes, recomputed; the name's claim if not read.
pub fn image_id(catalog: &Catalog, image: &Image) -> Option<Digest> {
    catalog.scan_of(&image.config.member).and_then(|s| s.digest).or(image.config.digest)
}

/// The tags as every report and the lock spell them: normalized (`airlock/app:1` is
/// `docker.io/airlock/app:1`, what containerd, podman and skopeo name it), each once; one
/// that is not a valid reference (a finding names it) as stored.
pub fn shown_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let shown = if reference::is_valid(t, false) && reference::names_repository(t) {
            reference::normalize(t)
        } else {
            t.clone()
        };
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    out
}

/// What verify shows of an image: digests, diffIDs and chainIDs recomputed from the bytes.
pub fn recomputed(catalog: &Catalog, index: usize, image: &Image) -> ImageReport {
    let layers: Vec<LayerReport> = image.layers.iter().map(|l| layer_report(catalog, l)).collect();
    // chainID n needs every diffID up to n.
    let known: Vec<Digest> = layers.iter().map_while(|l| l.diff_id).collect();
    let chain = Digest::chain_ids(&known);
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.chain_id = chain.get(i).copied();
            l
        })
        .collect();
    ImageReport {
        index,
        tags: shown_tags(&image.tags),
        platform: select::platform_of(image).map(|p| p.to_string()),
        image_id: image_id(catalog, image),
        config_digest: image_id(catalog, image),
        manifest_digest: image.manifest_digest,
        config_member: image.config.member.clone(),
        layers,
        history: None,
        signatures: None,
        signatures_not_checked: None,
        config: None,
    }
}

/// What inspect shows of an image: declared digests, diffIDs from the config, chainIDs from
/// those, and the history aligned to the layers (`docker history`).
pub fn declared(catalog: &Catalog, index: usize, image: &Image) -> ImageReport {
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
                Some(Content::Sniffed(c)) => Some(*c),
                _ => l.media_type.as_deref().and_then(crate::formats::media_types::compression_of),
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
        index,
        tags: shown_tags(&image.tags),
        platform: select::platform_of(image).map(|p| p.to_string()),
        image_id: image_id(catalog, image),
        config_digest: image_id(catalog, image),
        manifest_digest: image.manifest_digest,
        config_member: image.config.member.clone(),
        layers,
        history,
        signatures: None,
        signatures_not_checked: None,
        config: catalog.document(&image.config.member).and_then(crate::formats::runtime::read),
    }
}

fn layer_report(catalog: &Catalog, l: &BlobRef) -> LayerReport {
    let scan = catalog.scan_of(&l.member);
    let (compression, diff_id, uncompressed_size) = match scan.map(|s| &s.content) {
        Some(Content::Layer(ls)) => match &ls.tar {
            Ok(t) => (Some(ls.compression), Some(t.diff_id), Some(t.uncompressed_size)),
            Err(_) => (Some(ls.compression), None, None),
        },
        _ => (None, None, None),
    };
    LayerReport {
        digest: scan.and_then(|s| s.digest),
        size: scan.map(|s| s.size),
        media_type: l.media_type.clone(),
        compression,
        diff_id,
        chain_id: None,
        uncompressed_size,
        member: l.member.clone(),
    }
}
