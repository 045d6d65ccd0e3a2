//! `airlock verify`: read everything, recompute every digest, check, report.

use super::{Loaded, select};
use crate::checks::{self, Selected};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::{BlobRef, Image};
use crate::open::Catalog;
use crate::report::{ImageReport, InputReport, LayerReport, Report};
use crate::scan::{Compression, Content, Depth};
use std::path::PathBuf;

pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub selection: select::Selection,
    pub expect_ids: Vec<Digest>,
    pub progress: bool,
    /// `--deny`: warnings that fail an input.
    pub policy: crate::policy::Policy,
    /// `--lock`: the images the inputs must hold.
    pub lock: Option<crate::lock::Lock>,
    /// `--target`: the runtimes that will load the inputs.
    pub targets: Vec<crate::targets::Target>,
}

/// Why a run could not produce a report for an input: exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

pub fn run(opts: &Options) -> Result<Report, UsageError> {
    let mut inputs = Vec::new();
    let mut present: Vec<Digest> = Vec::new();
    for path in &opts.inputs {
        inputs.extend(super::reports_for(path, Depth::Full, opts.progress, |p, loaded| {
            let r = checked_input(p, loaded, opts)?;
            present.extend(loaded.model.images.iter().filter_map(|i| image_id(&loaded.catalog, i)));
            Ok(r)
        })?);
    }
    let mut report = Report { ok: true, inputs, findings: Vec::new() };
    for want in &opts.expect_ids {
        if !present.contains(want) {
            let f = Finding::new(
                Code::ExpectedIdMismatch,
                format!("no image in the input has the expected image ID {want}"),
            );
            // One input: the finding is that input's. Several: it belongs to none of them.
            match report.inputs.as_mut_slice() {
                [only] => only.findings.push(f),
                _ => report.findings.push(f),
            }
        }
    }
    if let Some(lock) = &opts.lock {
        let single = report.inputs.len() == 1;
        for (place, f) in crate::lock::compare::compare(lock, &report) {
            match place {
                crate::lock::compare::Place::Input { input, .. } => report.inputs[input].findings.push(f),
                crate::lock::compare::Place::Set if single => report.inputs[0].findings.push(f),
                crate::lock::compare::Place::Set => report.findings.push(f),
            }
        }
        for input in &mut report.inputs {
            input.findings.sort_by_key(|f| (f.severity, f.image, f.layer));
        }
    }
    for input in &mut report.inputs {
        opts.policy.apply(&mut input.findings);
        input.ok = input.failures() == 0;
    }
    opts.policy.apply(&mut report.findings);
    report.ok = report.inputs.iter().all(|i| i.ok) && !report.findings.iter().any(|f| f.fails());
    Ok(report)
}

/// One input (or one archive of a bundle), checked, with its `--target` verdicts.
fn checked_input(path: &std::path::Path, loaded: &Loaded, opts: &Options) -> Result<InputReport, UsageError> {
    let mut input = report_input(path, loaded, &opts.selection, image_report)?;
    if !opts.targets.is_empty() && loaded.model.format.is_some() {
        let profile = crate::targets::profile::read(path, loaded);
        for t in &opts.targets {
            let found = crate::targets::rules::evaluate(t, &profile);
            let loads = !found.iter().any(Finding::is_error);
            input.findings.extend(found);
            input.targets.push(crate::report::TargetVerdict { target: t.to_string(), loads });
        }
        input.findings.sort_by_key(|f| (f.severity, f.image, f.layer));
    }
    Ok(input)
}

/// Selects, checks and reports one input; `image_report` says what each image shows
/// (recomputed values for verify, declared ones for inspect).
pub fn report_input(
    path: &std::path::Path,
    loaded: &Loaded,
    selection: &select::Selection,
    image_report: fn(&Catalog, &Image) -> ImageReport,
) -> Result<InputReport, UsageError> {
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
                None => return Err(UsageError(format!("{}: {e}", path.display()))),
            },
        }
    } else {
        Vec::new()
    };
    let selected = Selected { images: chosen.iter().map(|&i| &model.images[i]).collect() };
    let mut findings = checks::all_findings(catalog, model, &selected);
    if let Some(f) = absent_selected {
        findings.insert(0, f);
    }
    let images = selected.images.iter().map(|im| image_report(catalog, im)).collect();
    let ok = !findings.iter().any(|f| f.is_error());
    Ok(InputReport {
        path: path.display().to_string(),
        format: model.format,
        compression: catalog.outer.unwrap_or(Compression::None),
        ok,
        images,
        findings,
        targets: Vec::new(),
        contains: Vec::new(),
    })
}

/// The image ID: sha256 of the config bytes, recomputed; the name's claim if not read.
pub fn image_id(catalog: &Catalog, image: &Image) -> Option<Digest> {
    catalog.scan_of(&image.config.member).and_then(|s| s.digest).or(image.config.digest)
}

pub(crate) fn image_report(catalog: &Catalog, image: &Image) -> ImageReport {
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
        tags: image.tags.clone(),
        platform: select::platform_of(image).map(|p| p.to_string()),
        config_digest: image_id(catalog, image),
        manifest_digest: image.manifest_digest,
        config_member: image.config.member.clone(),
        layers,
        history: None,
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
