//! Shell completions and man pages, generated at run time from the same clap definitions as
//! `--help`, so they can never drift from it. (Run time rather than build time: the binary is
//! the one file users carry across the gap, and `airlock completions bash` there gives what
//! that very binary accepts.)
//!
//! A page is clap_mangen's sections (name, synopsis, description, options, subcommands), the
//! help's closing text split into DESCRIPTION paragraphs, EXAMPLES and EXIT STATUS, then
//! sections of our own from the tables the code uses: the finding codes (`finding::Code`),
//! the exit statuses (`exit::ExitStatus`), and the JSON documents (`report::json::Kind`).

use super::Cli;
use crate::finding::{Code, Severity};
use crate::report;
use crate::report::json::{Document, Kind};
use clap::CommandFactory;
use clap_complete::Shell;
use roff::{Roff, bold, italic, roman};
use std::io::{self, Write};
use std::path::Path;

pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "airlock", out);
}

/// The top-level page on `out`.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    render(&cmd, None, out)
}

/// `airlock.1` and one `airlock-SUBCOMMAND.1` per subcommand, into `dir`. Returns the
/// file names written.
pub fn man_pages(dir: &Path) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = Cli::command();
    cmd.build();
    let mut written = Vec::new();
    let mut write = |name: String, page: &clap::Command, sub: Option<&str>| -> io::Result<()> {
        let mut f = std::fs::File::create(dir.join(&name))?;
        render(page, sub, &mut f)?;
        written.push(name);
        Ok(())
    };
    write("airlock.1".into(), &cmd, None)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("airlock-{}", sub.get_name());
        write(format!("{name}.1"), &sub.clone().name(&name), Some(sub.get_name()))?;
    }
    Ok(written)
}

/// The help's closing text (`after_help`), split: examples, the exit status line, the rest.
#[derive(Default)]
struct AfterHelp {
    examples: Vec<String>,
    exit_status: Option<String>,
    paragraphs: Vec<String>,
}

fn split_after_help(page: &clap::Command) -> AfterHelp {
    let mut out = AfterHelp::default();
    let Some(text) = page.get_after_help().map(|t| t.to_string()) else { return out };
    for para in text.split("\n\n") {
        if let Some(rest) = para.strip_prefix("Examples:") {
            out.examples.extend(rest.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
        } else if let Some(rest) = para.strip_prefix("Exit status:") {
            out.exit_status = Some(rest.split_whitespace().collect::<Vec<_>>().join(" "));
        } else {
            out.paragraphs.push(para.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    out
}

/// One page: `sub` is the subcommand's name (`None` for `airlock.1`).
fn render(page: &clap::Command, sub: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(page.clone());
    let after = split_after_help(page);
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if !after.paragraphs.is_empty() {
        let mut r = Roff::new();
        if page.get_long_about().or(page.get_about()).is_none() {
            r.control("SH", ["DESCRIPTION"]);
        }
        for p in &after.paragraphs {
            r.control("PP", []).text([roman(p.as_str())]);
        }
        r.to_writer(out)?;
    }
    if page.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if page.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    let mut r = Roff::new();
    examples(&mut r, &after.examples);
    exit_status(&mut r, after.exit_status.as_deref());
    if matches!(sub, None | Some("verify" | "lock" | "convert")) {
        finding_codes(&mut r);
    }
    json_output(&mut r, sub);
    match sub {
        Some("verify") => {
            target_rules(&mut r);
            signature_forms(&mut r);
        }
        Some("export") => overlay_rules(&mut r),
        _ => {}
    }
    see_also(&mut r, sub);
    r.to_writer(out)?;
    if page.get_version().or(page.get_long_version()).is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

fn examples(r: &mut Roff, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    r.control("SH", ["EXAMPLES"]);
    for l in lines {
        // "airlock verify x.tar      what it is for": the command, then its note if any.
        let (cmd, note) = match l.find("   ") {
            Some(i) => (l[..i].trim_end(), l[i..].trim()),
            None => (l.as_str(), ""),
        };
        r.control("TP", []).text([bold(cmd)]);
        r.text([roman(if note.is_empty() { " " } else { note })]);
    }
}

fn exit_status(r: &mut Roff, this_command: Option<&str>) {
    r.control("SH", ["EXIT STATUS"]);
    if let Some(s) = this_command {
        r.control("PP", []).text([roman(s)]);
    }
    for (code, meaning) in crate::exit::ExitStatus::TABLE {
        r.control("TP", []).text([bold(code.to_string())]);
        r.text([roman(meaning)]);
    }
}

fn finding_codes(r: &mut Roff) {
    r.control("SH", ["FINDING CODES"]);
    r.control("PP", []).text([roman(
        "Each finding has a stable code (scripts match on it; a code is never renamed) and a severity. \
         An error means do not load this; a warning means it loads, but know this. \
         --deny warnings or --deny CODE makes warnings fail the input.",
    )]);
    for c in Code::ALL {
        let sev = match c.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        r.control("TP", []).text([bold(c.as_str()), roman(" ("), italic(sev), roman(")")]);
        r.text([roman(c.description())]);
    }
}

fn json_output(r: &mut Roff, sub: Option<&str>) {
    let kinds: Vec<Kind> =
        Kind::ALL.into_iter().filter(|k| sub.is_none_or(|s| k.command().split(' ').next() == Some(s))).collect();
    if kinds.is_empty() {
        return;
    }
    r.control("SH", ["JSON OUTPUT"]);
    r.control("PP", []).text([roman(
        "With --json every document carries \"schema\" (its kind and version) and \"airlock_version\". \
         Within a version fields are only added, never renamed or removed, nor given another type or \
         meaning; anything else bumps the version. The JSON Schema of each kind is printed by airlock schema KIND.",
    )]);
    for k in kinds {
        r.control("TP", []).text([bold(format!("airlock {} --json", k.command()))]);
        r.text([roman(format!("\"schema\": \"{}\"; its JSON Schema: airlock schema {}", k.id(), k.name()))]);
    }
}

fn see_also(r: &mut Roff, sub: Option<&str>) {
    r.control("SH", ["SEE ALSO"]);
    let mut pages = vec!["airlock(1)".to_string()];
    if sub.is_none() {
        pages = ["verify", "inspect", "convert", "export", "flatten", "diff", "lock", "delta", "apply", "schema"]
            .iter()
            .map(|s| format!("airlock-{s}(1)"))
            .collect();
    } else if !matches!(sub, Some("verify")) {
        pages.push("airlock-verify(1)".into());
    }
    r.control("PP", []).text([roman(pages.join(", "))]);
}

/// `--target`: each rule, what lifts it, where it comes from, what it was measured with.
fn target_rules(r: &mut Roff) {
    r.control("SH", ["TARGET RULES"]);
    r.control("PP", []).text([roman(
        "What --target predicts with: each rule, the finding code it gives, what lifts it, its source, \
         and the real runtimes it was measured with (none: from the source only).",
    )]);
    for rule in crate::targets::rules::RULES {
        r.control("TP", []).text([bold(rule.id), roman(" ("), italic(rule.code.as_str()), roman(")")]);
        let measured = if rule.measured.is_empty() { "not measured".to_string() } else { rule.measured.join(", ") };
        r.text([roman(format!("Lifted: {}. Source: {}. Measured with: {measured}.", rule.lifted, rule.source))]);
    }
}

/// `--key`: the signature layers read and the schemes tried, with their sources.
fn signature_forms(r: &mut Roff) {
    use crate::signatures::rules::{FORMS, SCHEMES};
    r.control("SH", ["SIGNATURES"]);
    r.control("PP", []).text([roman("The signature layers --key reads, by media type:")]);
    for f in FORMS {
        r.control("TP", []).text([bold(f.media_type), roman(format!(" ({})", f.format.name()))]);
        r.text([roman(format!("{}. Source: {}.", f.what, f.source))]);
    }
    r.control("PP", []).text([roman("The schemes tried for each kind of key, in order:")]);
    for s in SCHEMES {
        r.control("TP", []).text([bold(format!("{}: {}", s.key.name(), s.alg.name()))]);
        r.text([roman(format!("Source: {}.", s.source))]);
    }
}

/// `export`: the overlay rules it applies, each with its source.
fn overlay_rules(r: &mut Roff) {
    r.control("SH", ["OVERLAY RULES"]);
    r.control("PP", [])
        .text([roman("How export applies a layer over the ones below it, and where each rule comes from:")]);
    for rule in crate::export::rules::RULES {
        r.control("TP", []).text([bold(rule.name)]);
        r.text([roman(format!("{}. Source: {}.", rule.rule, rule.source))]);
    }
}

/// The JSON Schema (draft 2020-12) of a kind of document, generated from the types it is
/// printed from (here, above the commands whose types they are).
pub fn schema(kind: Kind) -> serde_json::Value {
    // What airlock writes, not what it would accept: a field always written (an `Option`
    // written as null included) is required, one skipped when empty is not.
    let g = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
    let mut s = match kind {
        Kind::Verify | Kind::Inspect => g.into_root_schema_for::<Document<report::Report>>(),
        Kind::Convert => g.into_root_schema_for::<Document<report::ConvertReport>>(),
        Kind::Delta => g.into_root_schema_for::<Document<crate::delta::Summary>>(),
        Kind::Apply => g.into_root_schema_for::<Document<crate::delta::apply::ApplyReport>>(),
        Kind::Thin => g.into_root_schema_for::<Document<crate::delta::thin::ThinSummary>>(),
        Kind::Diff => g.into_root_schema_for::<Document<crate::diff::Diff>>(),
    };
    // The title and `schema`'s one value name this kind.
    s.insert("title".into(), format!("airlock {} --json", kind.command()).into());
    if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert(
            "schema".into(),
            serde_json::json!({"const": kind.id(), "description": "The kind of document and its version."}),
        );
    }
    s.to_value()
}
