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
    /// `--checksums`: the lines of every checksum list given.
    pub checksums: Vec<crate::checksums::Entry>,
}

/// Why a run could not produce a report for an input: exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

pub fn run(opts: &Options) -> Result<Report, UsageError> {
    let mut inputs = Vec::new();
    let mut present: Vec<Digest> = Vec::new();
    // Bundle members' digests, for --checksums: (bundle path, member, sha256).
    let mut members: Vec<(String, String, Option<Digest>)> = Vec::new();
    // The input files' own sha256, for --checksums, hashed beside the verify.
    let (file_digests, result) = std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            if opts.checksums.is_empty() {
                return Vec::new();
            }
            // The parts of a split or chunked input are read with it: their lines match too.
            let mut files: Vec<std::path::PathBuf> = Vec::new();
            for p in &opts.inputs {
                for f in std::iter::once(p.clone()).chain(crate::open::split::siblings(p)) {
                    if !files.contains(&f) {
                        files.push(f);
                    }
                }
            }
            files
                .iter()
                .map(|p| (p.display().to_string(), crate::digest::file_sha256(p).ok().flatten().map(|(d, _)| d)))
                .collect::<Vec<_>>()
        });
        let mut result = Ok(());
        for path in super::inputs_to_read(&opts.inputs) {
            let mut on_bundle = |bundle: &str, c: &crate::open::Catalog| {
                if !opts.checksums.is_empty() {
                    for (k, m) in &c.members {
                        if matches!(m.kind, crate::open::MemberKind::File) {
                            members.push((bundle.to_string(), k.clone(), m.scan.as_ref().and_then(|s| s.digest)));
                        }
                    }
                }
            };
            match super::reports_for(
                path,
                Depth::Full,
                opts.progress,
                |p, loaded| {
                    let r = checked_input(p, loaded, opts)?;
                    present.extend(loaded.model.images.iter().filter_map(|i| image_id(&loaded.catalog, i)));
                    Ok(r)
                },
                &mut on_bundle,
            ) {
                Ok(r) => inputs.extend(r),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        (hashing.join().unwrap_or_default(), result)
    });
    result?;
    let mut report = Report { ok: true, inputs, findings: Vec::new() };
    settle(&mut report, opts, &present, &file_digests, &members);
    Ok(report)
}

/// The run's own checks, once every input is reported: `--expect-id`, `--checksums`, tags
/// across the inputs, `--lock`; then `--deny` and the verdicts.
fn settle(
    report: &mut Report,
    opts: &Options,
    present: &[Digest],
    file_digests: &[(String, Option<Digest>)],
    members: &[(String, String, Option<Digest>)],
) {
    for want in &opts.expect_ids {
        if !present.contains(want) {
            let f = Finding::new(
                Code::ExpectedIdMismatch,
                format!("no image in the input has the expected image ID {want}"),
            );
            report.push_set_finding(f);
        }
    }
    if !opts.checksums.is_empty() {
        check_checksums(report, &opts.checksums, file_digests, members);
    }
    for f in tag_conflicts(report) {
        report.push_set_finding(f);
    }
    if let Some(lock) = &opts.lock {
        for (place, f) in crate::lock::compare::compare(lock, report) {
            match place {
                crate::lock::compare::Place::Input(input) => report.inputs[input].findings.push(f),
                crate::lock::compare::Place::Set => report.push_set_finding(f),
            }
        }
    }
    for input in &mut report.inputs {
        // Errors first, then by image and layer, whichever step added them.
        input.findings.sort_by_key(|f| (f.severity, f.image, f.layer));
        opts.policy.apply(&mut input.findings);
        input.ok = input.failures() == 0;
    }
    opts.policy.apply(&mut report.findings);
    report.ok = report.inputs.iter().all(|i| i.ok) && !report.findings.iter().any(|f| f.fails());
}

/// `tag-conflict` across the inputs (and the archives of bundles) of the run.
fn tag_conflicts(report: &Report) -> Vec<Finding> {
    use crate::checks::tags::{Named, across};
    let inputs: Vec<(String, Vec<(String, Named)>)> = report
        .inputs
        .iter()
        .map(|input| {
            let tagged = input
                .images
                .iter()
                .flat_map(|im| {
                    let named = Named {
                        platform: im.platform.as_deref().and_then(crate::model::Platform::parse),
                        id: im.config_digest,
                    };
                    im.tags.iter().map(move |t| (t.clone(), named.clone()))
                })
                .collect();
            (input.path.clone(), tagged)
        })
        .collect();
    across(&inputs)
}

/// `--checksums`: each line against the inputs (by path or file name), else against the
/// members of the bundles among them; findings go to the input or bundle they concern.
fn check_checksums(
    report: &mut Report,
    entries: &[crate::checksums::Entry],
    files: &[(String, Option<Digest>)],
    members: &[(String, String, Option<Digest>)],
) {
    use crate::checksums::{matches, names};
    let push = |report: &mut Report, at: Option<&str>, f: Finding| match at
        .and_then(|p| report.inputs.iter_mut().find(|i| i.path == p))
    {
        Some(i) => i.findings.push(f),
        None => report.push_set_finding(f),
    };
    for e in entries {
        // Every input the line names: two inputs of one file name (`a/app.tar`, `b/app.tar`)
        // are both held to a bare-name line.
        let named: Vec<&(String, Option<Digest>)> = files.iter().filter(|(p, _)| names(e, p)).collect();
        for (path, digest) in &named {
            match digest {
                Some(d) if matches(e, d) => {}
                Some(d) => push(
                    report,
                    Some(path),
                    Finding::new(
                        Code::ChecksumMismatch,
                        format!("{path} hashes to {d}, but {} says sha256:{}", e.origin, e.sha256),
                    ),
                ),
                None => push(
                    report,
                    Some(path),
                    Finding::new(Code::ChecksumMissing, format!("{} names {path}, which is not a file", e.origin)),
                ),
            }
        }
        if !named.is_empty() {
            continue;
        }
        let hits: Vec<&(String, String, Option<Digest>)> = members.iter().filter(|(_, m, _)| names(e, m)).collect();
        if hits.is_empty() {
            push(
                report,
                None,
                Finding::new(
                    Code::ChecksumMissing,
                    format!("{} names {:?}, which is in none of the inputs", e.origin, e.name),
                ),
            );
            continue;
        }
        for (bundle, member, digest) in hits {
            if let Some(d) = digest
                && !matches(e, d)
            {
                push(
                    report,
                    Some(bundle),
                    Finding::new(
                        Code::ChecksumMismatch,
                        format!("{bundle}!{member} hashes to {d}, but {} says sha256:{}", e.origin, e.sha256),
                    )
                    .member(member.clone()),
                );
            }
        }
    }
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
            let measured_with = t.measured_with();
            input.targets.push(crate::report::TargetVerdict { target: t.to_string(), loads, measured_with });
        }
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
    let artifacts = model
        .artifacts
        .iter()
        .map(|a| crate::report::ArtifactReport {
            kind: a.kind.clone(),
            manifest_digest: a.digest,
            member: a.member.clone(),
            about: a.subject,
            image: a.subject.and_then(|s| selected.images.iter().position(|im| im.manifest_digest == Some(s))),
        })
        .collect();
    let ok = !findings.iter().any(|f| f.is_error());
    Ok(InputReport {
        path: path.display().to_string(),
        format: model.format,
        compression: catalog.outer.unwrap_or(Compression::None),
        ok,
        images,
        findings,
        artifacts,
        ..Default::default()
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
