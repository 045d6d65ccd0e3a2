//! `airlock verify`: read everything, recompute every digest, check, report.

use crate::digest::Digest;
use crate::error::Error;
use crate::finding::{Code, Finding};
use crate::input::Loaded;
use crate::model::select::Selection;
use crate::report::build::{self, image_id, recomputed, report_input};
use crate::report::{InputReport, Report};
use crate::scan::Depth;
use std::path::PathBuf;

pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub selection: Selection,
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

pub fn run(opts: &Options) -> Result<Report, Error> {
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
        for path in crate::input::inputs_to_read(&opts.inputs) {
            let opened = match crate::input::open(path, Depth::Full, opts.progress) {
                Ok(o) => o,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            if !opts.checksums.is_empty() && !opened.is_image_archive() {
                for (k, m) in &opened.top.catalog.members {
                    if matches!(m.kind, crate::open::MemberKind::File) {
                        members.push((opened.display.clone(), k.clone(), m.scan.as_ref().and_then(|s| s.digest)));
                    }
                }
            }
            let reports = build::reports(opened, |p, loaded| {
                let r = checked_input(p, loaded, opts)?;
                present.extend(loaded.model.images.iter().filter_map(|i| image_id(&loaded.catalog, i)));
                Ok(r)
            });
            match reports {
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
    let mut report = Report::new(inputs);
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
    }
    opts.policy.apply(&mut report.findings);
    report.settle();
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
fn checked_input(path: &std::path::Path, loaded: &Loaded, opts: &Options) -> Result<InputReport, Error> {
    let mut input = report_input(path, loaded, &opts.selection, recomputed)?;
    if !opts.targets.is_empty() && loaded.model.format.is_some() {
        let profile = crate::targets::profile::read(path, loaded);
        for t in &opts.targets {
            let found = crate::targets::rules::evaluate(t, &profile);
            let loads = crate::report::verdict::passes(&found);
            input.findings.extend(found);
            let measured_with = t.measured_with();
            input.targets.push(crate::report::TargetVerdict { target: t.to_string(), loads, measured_with });
        }
    }
    Ok(input)
}
