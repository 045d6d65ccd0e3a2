//! The human report: per input and image, what it is, a layer table, the findings and a
//! verdict. Colour as `--color` and anstream decide (`cli::colored`).

pub use super::view::human_size;
use super::{ConvertSummary, ImageReport, InputReport, Report};
use crate::finding::{Finding, Severity};
use std::io::{self, Write};

pub struct Style {
    /// Paint with ANSI styles (anstyle).
    pub color: bool,
    /// One line per image (`inspect --compact`), instead of its tables.
    pub compact: bool,
}

impl Style {
    fn paint(&self, style: anstyle::Style, s: &str) -> String {
        if self.color { format!("{}{s}{}", style.render(), style.render_reset()) } else { s.to_string() }
    }
    fn bold(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().bold(), s)
    }
    fn red(&self, s: &str) -> String {
        self.paint(anstyle::AnsiColor::Red.on_default().bold(), s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint(anstyle::AnsiColor::Yellow.on_default().bold(), s)
    }
    fn green(&self, s: &str) -> String {
        self.paint(anstyle::AnsiColor::Green.on_default().bold(), s)
    }
}

pub fn print(report: &Report, style: &Style, verb: &str, out: &mut dyn Write) -> io::Result<()> {
    for input in &report.inputs {
        print_input(input, style, out)?;
    }
    if !report.findings.is_empty() {
        writeln!(out, "{}", style.bold("all inputs"))?;
        for f in &report.findings {
            print_finding(f, style, out)?;
        }
        writeln!(out)?;
    }
    let errors: usize = report.inputs.iter().map(|i| i.errors()).sum::<usize>()
        + report.findings.iter().filter(|f| f.is_error()).count();
    let warnings: usize = report.inputs.iter().map(|i| i.warnings()).sum::<usize>()
        + report.findings.iter().filter(|f| !f.is_error()).count();
    let denied: usize =
        report.inputs.iter().flat_map(|i| &i.findings).chain(&report.findings).filter(|f| f.denied).count();
    let n = report.inputs.len();
    let inputs = if n == 1 { "1 input".to_string() } else { format!("{n} inputs") };
    let counts = counts(errors, warnings, denied);
    if report.ok {
        writeln!(out, "{} {verb}: {inputs}, {counts}", style.green("OK"))
    } else {
        writeln!(out, "{} {verb}: {inputs}, {counts}", style.red("FAILED"))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "1 error, 2 warnings", and how many of the warnings `--deny` made fail: a report that
/// fails with no error says why.
fn counts(errors: usize, warnings: usize, denied: usize) -> String {
    let mut s = format!("{errors} error{}, {warnings} warning{}", plural(errors), plural(warnings));
    if denied > 0 {
        s.push_str(&format!(", {denied} of them failing because of --deny"));
    }
    s
}

/// What was checked of an artifact beside the images, and what was not.
fn artifact_checks(kind: &str, signatures_checked: bool) -> &'static str {
    match kind {
        "signature" if signatures_checked => {
            "its blobs' digests and sizes checked; the signature is checked under the image it signs"
        }
        "signature" => {
            "its blobs' digests and sizes checked; the signature itself not verified: verify --key does that"
        }
        _ => "its blobs' digests and sizes checked; what it says is not checked",
    }
}

/// The input's first line: what it is, and how many images or archives it holds.
fn print_heading(input: &InputReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    // A bundle's report lists what else it holds (`other_count`), even when no image
    // archive was found in it.
    let bundle = input.format.is_none() && (!input.contains.is_empty() || input.other_count.is_some());
    let format = match input.format {
        Some(f) => f.as_str(),
        None if input.unreadable() => "cannot be opened",
        None if bundle => "bundle",
        None => "not an image archive",
    };
    let wrap = match input.compression.as_str() {
        "none" => String::new(),
        c => format!(", {c}-compressed"),
    };
    let n = input.images.len();
    if bundle {
        let k = input.contains.len();
        writeln!(out, "{}: {format}{wrap}, {k} image archive{}", style.bold(&input.path), plural(k))?;
    } else if input.unreadable() {
        writeln!(out, "{}: {format}", style.bold(&input.path))?;
    } else if input.format.is_none() && n > 0 {
        // A tar cut short before its manifest: the images found whole before the cut.
        let p = style.bold(&input.path);
        writeln!(
            out,
            "{p}: cut short{wrap}, {n} image{} read whole before the cut (untagged: the tags were in the manifest)",
            plural(n)
        )?;
    } else {
        writeln!(out, "{}: {format}{wrap}, {n} image{}", style.bold(&input.path), plural(n))?;
    }
    Ok(())
}

fn print_input(input: &InputReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    print_heading(input, style, out)?;
    if style.compact {
        super::view::print_compact(&input.images, out)?;
    }
    for image in input.images.iter().filter(|_| !style.compact) {
        print_image(image, style, out)?;
    }
    for c in &input.contains {
        writeln!(out, "  contains: {c}")?;
    }
    for f in &input.signed_files {
        writeln!(out, "  signed: {}", f.line())?;
    }
    let signatures_checked = input.images.iter().any(|i| i.signatures.is_some());
    for a in &input.artifacts {
        let about = match (a.image, a.about) {
            (Some(i), _) => format!(" about image @{i}"),
            (None, Some(d)) => format!(" about {}", d.short()),
            (None, None) => String::new(),
        };
        let digest = a.manifest_digest.map(|d| format!(" {}", d.short())).unwrap_or_default();
        writeln!(out, "  {}{digest}{about} ({})", a.kind, artifact_checks(&a.kind, signatures_checked))?;
    }
    if let Some(total) = input.other_count.filter(|&n| n > 0) {
        writeln!(out, "  also holds {total} other file{}:", plural(total))?;
        for f in &input.other {
            writeln!(out, "    {} ({} bytes)", f.path, f.size)?;
        }
        if total > input.other.len() {
            writeln!(out, "    … and {} more", total - input.other.len())?;
        }
    }
    if let Some(c) = &input.coverage {
        print_coverage(c, out)?;
    }
    if !input.targets.is_empty() {
        let list: Vec<String> = input
            .targets
            .iter()
            .map(|t| {
                let verdict = if t.loads { "loads it" } else { "will not" };
                let how = if t.measured_with.is_empty() { " (from sources, not measured)" } else { "" };
                format!("{} {verdict}{how}", t.target)
            })
            .collect();
        writeln!(out, "  targets: {}", list.join(", "))?;
    }
    if !input.findings.is_empty() {
        writeln!(out, "  findings:")?;
        for f in &input.findings {
            print_finding(f, style, out)?;
        }
    }
    let verdict = if input.ok { style.green("ok") } else { style.red("FAILED") };
    let denied = input.findings.iter().filter(|f| f.denied).count();
    writeln!(out, "  verdict: {verdict} ({})", counts(input.errors(), input.warnings(), denied))?;
    writeln!(out)
}

/// One line of counts, then what inside the input's archives is not part of an image (its own
/// files are listed above, under "also holds"; errors under "findings" too).
fn print_coverage(c: &super::Coverage, out: &mut dyn Write) -> io::Result<()> {
    let counts: Vec<String> = [
        (c.image, "in images"),
        (c.artifact, "artifact"),
        (c.archive, "archive searched"),
        (c.other, "other"),
        (c.error, "not verified"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let all = if counts.is_empty() { "none".to_string() } else { counts.join(", ") };
    writeln!(out, "  coverage: {} member{}: {all}", c.members, plural(c.members))?;
    let nested: Vec<&super::CoveredMember> = c.listed.iter().filter(|m| m.member.contains('!')).collect();
    for m in nested.iter().take(NESTED_SHOWN) {
        writeln!(out, "    {} {} ({} bytes)", m.verdict.as_str(), m.member, m.size)?;
    }
    if nested.len() > NESTED_SHOWN {
        writeln!(out, "    … and {} more (--json lists them)", nested.len() - NESTED_SHOWN)?;
    }
    Ok(())
}

/// Members inside an input's archives listed in the human report, at most this many.
const NESTED_SHOWN: usize = 20;

fn print_image(image: &ImageReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let tags =
        if image.tags.is_empty() { "<untagged>".to_string() } else { super::view::shown(&image.tags.join(", ")) };
    writeln!(out, "  {} {tags}", style.bold(&format!("image @{}", image.index)))?;
    let opt = |d: Option<String>| d.unwrap_or_else(|| "-".into());
    writeln!(out, "    platform:  {}", opt(image.platform.clone()))?;
    writeln!(out, "    image ID:  {}", opt(image.image_id.map(|d| d.to_string())))?;
    writeln!(out, "    manifest:  {}", opt(image.manifest_digest.map(|d| d.to_string())))?;
    if let Some(run) = &image.config {
        super::view::print_run(image, run, out)?;
    }
    writeln!(out, "    layers:    {}", image.layers.len())?;
    if !image.layers.is_empty() {
        writeln!(
            out,
            "      {:>3}  {:<12}  {:<5}  {:>10}  {:>12}  {:<12}  chainID",
            "#", "blob", "comp", "size", "uncompressed", "diffID"
        )?;
    }
    for (n, l) in image.layers.iter().enumerate() {
        let short = |d: Option<crate::digest::Digest>| d.map_or("-".to_string(), |d| d.short());
        let size = |s: Option<u64>| s.map_or("-".to_string(), human_size);
        writeln!(
            out,
            "      {n:>3}  {:<12}  {:<5}  {:>10}  {:>12}  {:<12}  {}",
            short(l.digest),
            l.compression.map_or("-", |c| c.as_str()),
            size(l.size),
            size(l.uncompressed_size),
            short(l.diff_id),
            short(l.chain_id),
        )?;
    }
    if let Some(history) = &image.history {
        writeln!(out, "    history:")?;
        for h in history {
            let which = match h.layer {
                Some(l) => format!("layer {l:>2}"),
                None => "   empty".to_string(),
            };
            let by = h.created_by.as_deref().or(h.comment.as_deref()).unwrap_or("");
            let created = h.created.as_deref().map_or("-".to_string(), super::view::shown);
            writeln!(out, "      {which}  {created}  {}", super::view::shown(by))?;
        }
    }
    if let Some(sigs) = &image.signatures {
        let verified = sigs.iter().filter(|s| s.verified_with.is_some()).count();
        let more = match image.signatures_not_checked {
            Some(n) if n > 0 => format!(", {n} more not checked (over airlock's bounds)"),
            _ => String::new(),
        };
        writeln!(out, "    signatures: {}, {verified} verified{more}", sigs.len())?;
        for s in sigs {
            writeln!(out, "      {}", s.line())?;
        }
    }
    Ok(())
}

fn print_finding(f: &Finding, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let sev = match f.severity {
        Severity::Error => style.red(&format!("error[{}]", f.code)),
        Severity::Warning if f.denied => style.red(&format!("warning[{}] (denied)", f.code)),
        Severity::Warning => style.yellow(&format!("warning[{}]", f.code)),
    };
    let mut place = Vec::new();
    if let Some(i) = f.image {
        place.push(format!("image @{i}"));
    }
    if let Some(l) = f.layer {
        place.push(format!("layer {l}"));
    }
    if let Some(m) = &f.member {
        place.push(format!("member {m}"));
    }
    let place = if place.is_empty() { String::new() } else { format!(" ({})", place.join(", ")) };
    writeln!(out, "    {sev}{place}: {}", f.message)
}

/// What `convert` wrote, on one line, then its notes and the input's findings, each a line
/// of its own: `format` is the output format, `to` where.
pub fn print_written(s: &ConvertSummary, format: &str, to: &str, out: &mut dyn Write) -> io::Result<()> {
    let blobs = s.copied + s.recompressed;
    writeln!(
        out,
        "airlock: wrote {format} {to}: {} image{}, {blobs} layer blob{} ({} copied, {} re-compressed), {}",
        s.images,
        plural(s.images),
        plural(blobs),
        s.copied,
        s.recompressed,
        human_size(s.output_bytes)
    )?;
    print_notes(&s.notes, out)?;
    for f in &s.findings {
        writeln!(out, "airlock: {}[{}]: {}", if f.is_error() { "error" } else { "warning" }, f.code, f.message)?;
    }
    Ok(())
}

/// Notes about an output (what it could not hold, how it differs), one line each.
pub fn print_notes(notes: &[String], out: &mut dyn Write) -> io::Result<()> {
    for n in notes {
        writeln!(out, "airlock: note: {n}")?;
    }
    Ok(())
}

/// One verdict on one line, as `sha256sum -c` prints it (`-q`): `PATH: OK`,
/// `PATH: OK (1 warning)`, `PATH: FAILED (2 errors)`, `PATH: FAILED (1 denied warning)`, and
/// `PATH: FAILED (cannot be opened)` for an input that could not be read at all.
pub fn verdict_line(path: &str, ok: bool, findings: &[Finding]) -> String {
    if findings.iter().any(|f| f.code == crate::finding::Code::InputUnreadable) {
        return format!("{path}: FAILED (cannot be opened)");
    }
    let count = |n: usize, what: &str| (n > 0).then(|| format!("{n} {what}{}", plural(n)));
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let denied = findings.iter().filter(|f| !f.is_error() && f.denied).count();
    let warnings = findings.iter().filter(|f| !f.is_error() && !f.denied).count();
    let counts: Vec<String> = if ok {
        count(warnings, "warning").into_iter().collect()
    } else {
        [count(errors, "error"), count(denied, "denied warning")].into_iter().flatten().collect()
    };
    let verdict = if ok { "OK" } else { "FAILED" };
    if counts.is_empty() { format!("{path}: {verdict}") } else { format!("{path}: {verdict} ({})", counts.join(", ")) }
}

/// `-q`: one verdict line per input (and one for the findings about the inputs together,
/// when there are some), nothing else.
pub fn print_verdicts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for input in &report.inputs {
        writeln!(out, "{}", verdict_line(&input.path, input.ok, &input.findings))?;
    }
    if !report.findings.is_empty() {
        let ok = super::verdict::passes(&report.findings);
        writeln!(out, "{}", verdict_line("all inputs", ok, &report.findings))?;
    }
    Ok(())
}
