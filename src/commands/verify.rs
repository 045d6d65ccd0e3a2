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

/// What [`crate::verify()`] checks. Start from `Default` (nothing drawn: `progress` false).
#[derive(Default)]
#[non_exhaustive]
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
    /// Signatures looked for and reported (`--key`, `lock`, a lock that records some); the
    /// images must carry one that verifies when it holds keys.
    pub signatures: Option<crate::signatures::Trust>,
    /// `--ignore-missing`: checksum lines that name nothing given are not errors.
    pub ignore_missing: bool,
}

pub fn run(opts: &Options) -> Result<Report, Error> {
    let mut seen = Seen::default();
    // The input files' own sha256, for --checksums, hashed beside the verify.
    let (file_digests, result) = std::thread::scope(|s| {
        let hashing = s.spawn(|| hash_inputs(opts));
        let result = crate::input::inputs_to_read(&opts.inputs).into_iter().try_for_each(|p| {
            // An input that cannot be opened is reported as such; the others are still read.
            match read(p, opts, &mut seen) {
                Err(e) if e.is_input_unreadable() => {
                    seen.inputs.push(build::unreadable(p, &e));
                    Ok(())
                }
                r => r,
            }
        });
        (hashing.join().unwrap_or_default(), result)
    });
    result?;
    let mut report = Report::new(seen.inputs);
    settle(&mut report, opts, (&seen.present, &seen.manifests), &file_digests, &seen.members);
    // A plain tar's sha256, which its own read cannot give, where --checksums hashed it.
    for input in report.inputs.iter_mut().filter(|i| i.sha256.is_none()) {
        input.sha256 = file_digests.iter().find(|(p, _)| *p == input.path).and_then(|(_, d)| *d);
    }
    Ok(report)
}

/// What the inputs read so far gave, for the run's own checks.
#[derive(Default)]
struct Seen {
    inputs: Vec<InputReport>,
    /// The image IDs present, for --expect-id.
    present: Vec<Digest>,
    /// (manifest digest, image ID): for the hint when --expect-id is given a manifest digest.
    manifests: Vec<(Digest, Option<Digest>)>,
    /// Bundle members' digests, for --checksums: (bundle path, member, sha256).
    members: Vec<(String, String, Option<Digest>)>,
}

/// Opens one input, checks it and what it holds, and adds their reports to `seen`.
fn read(path: &std::path::Path, opts: &Options, seen: &mut Seen) -> Result<(), Error> {
    let opened = crate::input::open(path, Depth::Full, opts.progress)?;
    // `--key` on a Zarf package: its own signature, for the bundle's report.
    let mut package = None;
    if !opened.is_image_archive() {
        let catalog = &opened.top.catalog;
        if let Some(trust) = opts.signatures.as_ref().filter(|t| !t.keys.is_empty())
            && crate::formats::zarf::is_package(catalog)
        {
            package = Some(crate::signatures::package::check_zarf(catalog, trust));
        }
        if !opts.checksums.is_empty() {
            for (k, m) in &catalog.members {
                if matches!(m.kind, crate::open::MemberKind::File) {
                    seen.members.push((opened.display.clone(), k.clone(), m.scan.as_ref().and_then(|s| s.digest)));
                }
            }
        }
    }
    let display = opened.display.clone();
    let mut reports = build::reports(opened, |p, loaded| {
        let r = checked_input(p, loaded, opts)?;
        let images = &loaded.model.images;
        seen.present.extend(images.iter().filter_map(|i| image_id(&loaded.catalog, i)));
        seen.manifests.extend(images.iter().filter_map(|i| Some((i.manifest_digest?, image_id(&loaded.catalog, i)))));
        Ok(r)
    })?;
    if let Some((files, finding)) = package
        && let Some(input) = reports.iter_mut().find(|i| i.path == display)
    {
        input.signed_files = files;
        input.findings.extend(finding);
        input.settle();
    }
    seen.inputs.extend(reports);
    Ok(())
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
                        id: im.image_id,
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
        for (bundle, f) in member_mismatches(e, &hits) {
            push(report, Some(bundle), f);
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

/// The bundle members a checksum line names that hash to something else, each with the
/// bundle it is in.
fn member_mismatches<'a>(
    e: &crate::checksums::Entry,
    hits: &[&'a (String, String, Option<Digest>)],
) -> Vec<(&'a str, Finding)> {
    let mut out = Vec::new();
    for (bundle, member, digest) in hits.iter().copied() {
        if let Some(d) = digest
            && !crate::checksums::matches(e, d)
        {
            let f = Finding::new(
                Code::ChecksumMismatch,
                format!("{bundle}!{member} hashes to {d}, but {} says sha256:{}", e.origin, e.sha256),
            )
            .member(member.clone());
            out.push((bundle.as_str(), f));
        }
    }
    out
}

/// One input (or one archive of a bundle), checked, with its `--target` verdicts.
fn checked_input(path: &std::path::Path, loaded: &Loaded, opts: &Options) -> Result<InputReport, Error> {
    let mut input = report_input(path, loaded, &opts.selection, recomputed)?;
    if let Some(trust) = &opts.signatures {
        signatures(&mut input, loaded, &opts.selection, trust);
    }
    if !opts.targets.is_empty() && loaded.model.format.is_some() {
        let profile = crate::targets::profile::read(path, loaded);
        for t in &opts.targets {
            let found = crate::targets::rules::evaluate(t, &profile);
            let loads = crate::report::verdict::passes(&found);
            input.findings.extend(found);
            let measured_with = t.measured_with().into_iter().map(Into::into).collect();
            input.targets.push(crate::report::TargetVerdict { target: t.to_string(), loads, measured_with });
        }
    }
    Ok(input)
}

/// The signatures of each image the input reports, and with keys, `signature-missing` or
/// `signature-invalid` where none verifies (`crate::signatures`).
fn signatures(input: &mut InputReport, loaded: &Loaded, selection: &Selection, trust: &crate::signatures::Trust) {
    let Ok(chosen) = crate::model::select::select(&loaded.model, selection) else { return };
    if loaded.model.format.is_none() {
        return;
    }
    for r in crate::signatures::check_selected(&loaded.catalog, &loaded.model, &chosen, trust) {
        let Some(image) = input.images.iter_mut().find(|i| i.index == r.image) else { continue };
        let (sigs, not_checked) = crate::signatures::report::of_image(&r, trust);
        image.signatures = Some(sigs);
        image.signatures_not_checked = Some(not_checked);
        if !trust.keys.is_empty() {
            input.findings.extend(r.finding(trust));
        }
    }
    input.settle();
}
