//! `convert --for TARGET`: the prediction for the input, the output `crate::targets::fit`
//! chooses, convert, and the prediction for what was written.

use super::quiet::Brevity;
use super::{ConvertArgs, convert_and_print, convert_options};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::finding::Finding;
use crate::formats::output::CompressionChoice;
use crate::input;
use crate::model::select::Selection;
use crate::scan::Depth;
use crate::targets::{Target, fit, profile};
use std::io::Write;
use std::path::Path;

/// `--to`, `--compression` and `--level` each mean one thing: with `--for`, the target
/// decides them, so giving them too is refused with what to do instead.
fn contradictions(a: &ConvertArgs, target: &Target) -> Result<(), Error> {
    let (flag, value) = match (a.to, a.compression, a.level) {
        (Some(to), _, _) => ("--to", to.as_str().to_string()),
        (None, Some(c), _) => {
            let name = clap::ValueEnum::to_possible_value(&c).map(|v| v.get_name().to_string());
            ("--compression", name.unwrap_or_default())
        }
        (None, None, Some(n)) => ("--level", n.to_string()),
        (None, None, None) => return Ok(()),
    };
    Err(Error::Usage(format!(
        "{flag} {value} with --for {target}: --for chooses the format and layer compression that {target} loads; give either --for (and let it choose) or {flag} (and choose yourself), not both"
    )))
}

pub fn run(a: ConvertArgs, target: Target) -> Result<ExitStatus, Error> {
    contradictions(&a, &target)?;
    super::flags::output_path(&a.output).map_err(Error::Usage)?;
    let no_fit =
        |why: fit::NoFit| Error::Usage(format!("--for {target}: no output airlock can write loads there: {why}"));
    let output = fit::output_path(&target, &a.input, &a.output).map_err(no_fit)?;

    let selection = Selection { images: a.images.clone(), platform: a.platform.clone() };
    // The predictions and notes are the full report's: -q prints convert's verdict line only.
    let loud = a.quiet.brevity() == Brevity::Full;
    let (before, facts) = shape(&a.input, &target, &selection, loud)?;
    let choice = fit::choose(target, &before, &facts).map_err(no_fit)?;
    for n in choice.notes.iter().filter(|_| loud) {
        say(&format!("--for {target}: {n}"));
    }

    let opts = convert_options(&a, choice.format, CompressionChoice::Keep, output.clone());
    let (status, written) = convert_and_print(&a, &opts)?;
    if !written || output.as_os_str() == "-" {
        return Ok(status);
    }
    let after = input::load(&output, Depth::Documents, false)?;
    let found = fit::predict(&target, &profile::read(&output, &after));
    if loud {
        print_prediction("after", &target, &output, &found);
    }
    // The choice was held against the rules before writing: a refusal now is airlock's bug,
    // and the output is not what was asked for.
    Ok(if crate::report::verdict::passes(&found) { status } else { ExitStatus::Failed })
}

/// The input's profile and facts, read from its documents only (convert verifies every
/// layer), and the prediction for it printed. From a bundle, those of the one archive in it
/// that holds the selection (convert takes it out); with none or several, the bundle's own,
/// and convert says what it holds.
fn shape(
    path: &Path,
    target: &Target,
    selection: &Selection,
    loud: bool,
) -> Result<(profile::Profile, fit::Facts), Error> {
    let opened = input::open(path, Depth::Documents, false)?;
    if opened.top.model.format.is_some() {
        let before = profile::read(path, &opened.top);
        if loud {
            print_prediction("before", target, path, &fit::predict(target, &before));
        }
        return Ok((before, fit::Facts::read(&opened.top, selection)));
    }
    let holding: Vec<&input::bundle::Part> = opened
        .found
        .parts
        .iter()
        .filter(|p| crate::model::select::select(&p.loaded.model, selection).is_ok_and(|c| !c.is_empty()))
        .collect();
    let loaded = match holding.as_slice() {
        [one] if loud => {
            say(&format!("--for {target}, before: the image is taken out of {}", one.name));
            &one.loaded
        }
        [one] => &one.loaded,
        _ => &opened.top,
    };
    Ok((profile::read(path, loaded), fit::Facts::read(loaded, selection)))
}

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "airlock: {line}");
}

/// The `--target` findings for one file, as verify would list them.
fn print_prediction(when: &str, target: &Target, path: &Path, found: &[Finding]) {
    let verdict = if crate::report::verdict::passes(found) { "loads" } else { "will not load" };
    say(&format!("--for {target}, {when}: {target} {verdict} {}", path.display()));
    for f in found {
        let severity = if f.is_error() { "error" } else { "warning" };
        let _ = writeln!(std::io::stderr(), "  {severity}[{}]: {}", f.code, f.message);
    }
}
