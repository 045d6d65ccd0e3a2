//! The subcommands, each a thin composition of the flow: open → detect/model → scan → check
//! → report (or write).

pub mod inspect;
pub mod lock;
pub mod select;
pub mod verify;

use crate::model::{self, Model};
use crate::open::{self, Catalog, OpenError};
use crate::progress::Progress;
use crate::report::InputReport;
use crate::scan::Depth;
use std::path::Path;
use verify::UsageError;

/// An input read and modelled.
pub struct Loaded {
    pub catalog: Catalog,
    pub model: Model,
}

pub fn load(path: &Path, depth: Depth, show_progress: bool) -> Result<Loaded, OpenError> {
    let label = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let (progress, handle) = Progress::start(label, show_progress);
    let catalog = open::read_input(path, depth, &progress);
    progress.finish(handle);
    let catalog = catalog?;
    let model = model::build(&catalog);
    Ok(Loaded { catalog, model })
}

/// The reports for one input path: its own, or, for a bundle (`crate::bundle`), the bundle's
/// (its container findings and what it contains) followed by one per image archive in it,
/// named `BUNDLE!MEMBER`. An image archive that holds archives of its own is reported as
/// itself, then those. The first report carries the input's coverage: every member, nested
/// ones included, with its verdict. `--image` / `--platform` pick images across a bundle:
/// an archive without them is left out, unless none has them (then the usage error stands).
pub fn reports_for(
    path: &Path,
    depth: Depth,
    progress: bool,
    mut check: impl FnMut(&Path, &Loaded) -> Result<InputReport, UsageError>,
    on_bundle: &mut dyn FnMut(&str, &Catalog),
) -> Result<Vec<InputReport>, UsageError> {
    let loaded = load(path, depth, progress).map_err(|e| UsageError(e.to_string()))?;
    let display = path.display().to_string();
    let mut found = crate::bundle::expand(path, &display, &loaded, depth);
    let coverage = Some(std::mem::take(&mut found.coverage));
    let zarf = crate::bundle::zarf::is_package(&loaded.catalog);
    let contains: Vec<String> = found.parts.iter().map(|p| p.name.clone()).collect();
    if loaded.model.format.is_some() || (!found.is_bundle() && !zarf) {
        // An image archive (or no archive at all): its own report, and what it holds beside.
        let mut top = check(path, &loaded)?;
        top.findings.extend(found.findings.iter().cloned());
        top.ok = !top.findings.iter().any(crate::finding::Finding::is_error);
        top.contains = contains;
        top.coverage = coverage;
        let mut reports = vec![top];
        reports.extend(part_reports(&found.parts, &mut check)?);
        return Ok(reports);
    }
    on_bundle(&display, &loaded.catalog);
    let mut reports = part_reports(&found.parts, &mut check)?;
    let mut findings = loaded.catalog.findings.clone();
    findings.extend(found.findings.iter().cloned());
    // The bundle's own integrity data, where it has some and the members were hashed.
    if zarf && depth == Depth::Full {
        findings.extend(crate::bundle::zarf::check(&loaded.catalog));
    }
    let (other, other_count) = found.others();
    let bundle = InputReport {
        path: display,
        compression: loaded.catalog.outer.unwrap_or_default(),
        ok: !findings.iter().any(crate::finding::Finding::is_error),
        findings,
        contains,
        other: other.into_iter().map(|(path, size)| crate::report::OtherFile { path, size }).collect(),
        other_count: Some(other_count),
        coverage,
        ..Default::default()
    };
    reports.insert(0, bundle);
    Ok(reports)
}

/// One report per image archive of a bundle. An archive the selection picks nothing from is
/// left out, unless none has the selection (its usage error then stands).
fn part_reports(
    parts: &[crate::bundle::Part],
    check: &mut impl FnMut(&Path, &Loaded) -> Result<InputReport, UsageError>,
) -> Result<Vec<InputReport>, UsageError> {
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

/// The inputs to read: the later parts of a split or chunked file are left out when its
/// first part is an input too (it reads them all), so a shell glob (`haul.tar.zst.*`,
/// `pkg.tar.zst.part*`) gives one input: `NAME.part001`… beside `NAME.part000` (Zarf), and
/// `NAME.002`… beside `NAME.001` (Hauler chunks).
pub fn inputs_to_read(inputs: &[std::path::PathBuf]) -> Vec<&std::path::PathBuf> {
    inputs
        .iter()
        .filter(|p| crate::open::split::first_part_of(p).is_none_or(|first| !inputs.contains(&first)))
        .collect()
}
