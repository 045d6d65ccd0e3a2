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
    /// Signatures looked for and reported (`--key`, `lock`, a lock that records some); the
    /// images must carry one that verifies when it holds keys.
    pub signatures: Option<crate::signatures::Trust>,
    /// `--ignore-missing`: checksum lines that name nothing given are not errors.
    pub ignore_missing: bool,
}

/// Why a run could not produce a report for an input: exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

pub fn run(opts: &Options) -> Result<Report, UsageError> {
    let mut inputs = Vec::new();
    let mut present: Vec<Digest> = Vec::new();
    // (manifest digest, image ID): for the hint when --expect-id is given a manifest digest.
    let mut manifests: Vec<(Digest, Option<Digest>)> = Vec::new();
    // Bundle members' digests, for --checksums: (bundle path, member, sha256).
    let mut members: Vec<(String, String, Option<Digest>)> = Vec::new();
    // `--key` on a Zarf package: its own signature, for the bundle's report.
    let mut packages: Vec<(String, Vec<crate::signatures::report::SignedFile>, Option<Finding>)> = Vec::new();
    // The input files' own sha256, for --checksums, hashed beside the verify.
    let (file_digests, result) = std::thread::scope(|s| {
        let hashing = s.spawn(|| hash_inputs(opts));
        let mut result = Ok(());
        for path in super::inputs_to_read(&opts.inputs) {
            let mut on_bundle = |bundle: &str, c: &crate::open::Catalog| {
                if let Some(trust) = opts.signatures.as_ref().filter(|t| !t.keys.is_empty())
                    && crate::bundle::zarf::is_package(c)
                {
                    let (files, finding) = crate::signatures::package::check_zarf(c, trust);
                    packages.push((bundle.to_string(), files, finding));
                }
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
                    manifests.extend(
                        loaded
                            .model
                            .images
                            .iter()
                            .filter_map(|i| Some((i.manifest_digest?, image_id(&loaded.catalog, i)))),
                    );
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
    for (path, files, finding) in packages {
        if let Some(input) = inputs.iter_mut().find(|i| i.path == path) {
            input.signed_files = files;
            input.findings.extend(finding);
        }
    }
    let mut report = Report { ok: true, inputs, findings: Vec::new() };
    settle(&mut report, opts, (&present, &manifests), &file_digests, &members);
    Ok(report)
}

/// The run's own checks, once every input is reported: `--expect-id`, `--checksums`, tags
/// across the inputs, `--lock`; then `--deny` and the verdicts.
fn settle(
    report: &mut Report,
    opts: &Options,
    (present, manifests): (&[Digest], &[(Digest, Option<Digest>)]),
    file_digests: &[(String, Option<Digest>)],
    members: &[(String, String, Option<Digest>)],
) {
    check_expected(report, &opts.expect_ids, present, manifests);
    if !opts.checksums.is_empty() {
        check_checksums(report, &opts.checksums, opts.ignore_missing, file_digests, members);
    }
    for f in tag_conflicts(report) {
        report.push_set_finding(f);
    }
    if let Some(lock) = &opts.lock {
        let keys: Vec<Digest> = opts
            .signatures
            .iter()
            .flat_map(|t| &t.keys)
            .filter_map(|k| Digest::parse(&k.fingerprint.to_string()))
            .collect();
        for (place, f) in crate::lock::compare::compare(lock, report, &keys) {
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

/// The input files' own sha256 (and their split parts'), for `--checksums`.
fn hash_inputs(opts: &Options) -> Vec<(String, Option<Digest>)> {
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
        .collect()
}

/// `--expect-id`: each ID must be an image's; a manifest digest given instead gets a hint.
fn check_expected(
    report: &mut Report,
    expect_ids: &[Digest],
    present: &[Digest],
    manifests: &[(Digest, Option<Digest>)],
) {
    for want in expect_ids {
        if !present.contains(want) {
            let hint = match manifests.iter().find(|(m, _)| m == want) {
                Some((_, Some(id))) => format!(
                    "; {want} is the manifest digest of an image whose image ID (the sha256 of its config, what --expect-id takes) is {id}"
                ),
                Some((_, None)) => format!(
                    "; {want} is an image's manifest digest; --expect-id takes the image ID (the sha256 of its config)"
                ),
                None => String::new(),
            };
            let f = Finding::new(
                Code::ExpectedIdMismatch,
                format!("no image in the input has the expected image ID {want}{hint}"),
            );
            report.push_set_finding(f);
        }
    }
}

/// `--checksums`: each line against the inputs (by path or file name), else against the
/// members of the bundles among them; findings go to the input or bundle they concern. With
/// `ignore_missing` a line naming nothing is passed over, but lists naming nothing at all
/// fail (as `sha256sum --ignore-missing` fails when no file was verified).
fn check_checksums(
    report: &mut Report,
    entries: &[crate::checksums::Entry],
    ignore_missing: bool,
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
    let mut ignored = 0;
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
        if hits.is_empty() && ignore_missing {
            ignored += 1;
            continue;
        }
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
    if ignore_missing && ignored == entries.len() {
        let f = Finding::new(
            Code::ChecksumMissing,
            format!(
                "no line of the checksum lists ({} line{}) names an input or a bundle member",
                entries.len(),
                if entries.len() == 1 { "" } else { "s" }
            ),
        );
        report.push_set_finding(f);
    }
}

/// One input (or one archive of a bundle), checked, with its `--target` verdicts.
fn checked_input(path: &std::path::Path, loaded: &Loaded, opts: &Options) -> Result<InputReport, UsageError> {
    let mut input = report_input(path, loaded, &opts.selection, image_report)?;
    if let Some(trust) = &opts.signatures {
        signatures(&mut input, loaded, &opts.selection, trust);
    }
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

/// The signatures of each image the input reports, and with keys, `signature-missing` or
/// `signature-invalid` where none verifies (`crate::signatures`).
fn signatures(
    input: &mut InputReport,
    loaded: &Loaded,
    selection: &select::Selection,
    trust: &crate::signatures::Trust,
) {
    let Ok(chosen) = select::select(&loaded.model, selection) else { return };
    if loaded.model.format.is_none() {
        return;
    }
    for r in crate::signatures::check_selected(&loaded.catalog, &loaded.model, &chosen, trust) {
        let Some(image) = input.images.get_mut(r.image) else { continue };
        let (sigs, not_checked) = crate::signatures::report::of_image(&r, trust);
        image.signatures = Some(sigs);
        image.signatures_not_checked = Some(not_checked);
        if !trust.keys.is_empty() {
            input.findings.extend(r.finding(trust));
        }
    }
    input.ok = !input.findings.iter().any(Finding::is_error);
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
        signatures: None,
        signatures_not_checked: None,
        config: None,
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
