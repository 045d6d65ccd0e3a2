//! `airlock convert`: rewrite an image between archive formats without changing it.
//!
//! The flow: read the documents (cheap) → model → select → structural checks → write every
//! layer once (the layer plan: `Job`s), verifying it in the same read → full checks → plan
//! configs (verbatim), manifests (original bytes where nothing changed), indexes, the
//! output format's own files and the artifacts that go along (copied and hashed just before:
//! `artifacts::stage_all`) as `plan::Documents`, then write them in one loop → commit
//! atomically. An input with error findings is refused before anything is committed.

mod artifacts;
mod blobs;
mod emit;
mod pargz;
mod plan;

pub use blobs::Encoder;

use crate::checks::{self, Selected};
use crate::error::Error;
use crate::finding::{Code, Finding};
use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::input::{Loaded, reread};
use crate::model::select::{self, Selection};
use crate::model::{Image, reference};
use crate::open::Catalog;
use crate::output::{Destination, Staging, StagingError};
use crate::progress::Progress;
use crate::report::build::selected_input;
use crate::report::verdict::passes;
use crate::report::{ConvertSummary as Summary, InputReport};
use crate::scan::{Compression, Content};
use blobs::{Job, JobError, Writer, Written};
use emit::Emit;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::PathBuf;

/// What [`crate::convert()`] reads, writes and how: start from [`Options::new`] (the input's
/// compression kept, nothing selected, nothing drawn).
#[non_exhaustive]
pub struct Options {
    pub input: PathBuf,
    pub format: OutputFormat,
    pub output: Destination,
    pub selection: Selection,
    pub tags: Vec<String>,
    pub compression: CompressionChoice,
    pub level: Option<i32>,
    pub force: bool,
    pub progress: bool,
}

impl Options {
    /// `input` written as `format` to `output`: every image, each layer's compression kept.
    pub fn new(input: impl Into<PathBuf>, format: OutputFormat, output: Destination) -> Options {
        Options {
            input: input.into(),
            format,
            output,
            selection: Selection::default(),
            tags: Vec::new(),
            compression: CompressionChoice::Keep,
            level: None,
            force: false,
            progress: false,
        }
    }
}

/// What [`crate::convert()`] did.
pub enum Outcome {
    Written(Summary),
    /// The input has error findings and `--force` was not given, or it is one `--force`
    /// never writes (`forceable` false: JSON that Go reads differently): nothing was written.
    Refused {
        report: InputReport,
        forceable: bool,
    },
}

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    let staging = prepare_output(opts)?;
    // A bundle: the archive in it that holds the selection is the input from here on.
    let (loaded, name) = reread::open(&opts.input, &staging, &opts.selection, opts.progress)?;
    let Loaded { mut catalog, model } = loaded;

    let chosen = if model.format.is_some() {
        select::select(&model, &opts.selection).map_err(|message| Error::Selection { input: name.clone(), message })?
    } else {
        Vec::new()
    };
    let images: Vec<&Image> = chosen.iter().map(|&i| &model.images[i]).collect();
    check_platforms(opts, &model, &images)?;
    let tags = explicit_tags(opts, images.len())?;

    // Structural checks first: a broken input is refused before a byte is copied.
    let selected = Selected::of(&model, &chosen);
    let findings = checks::all_findings(&catalog, &model, &selected);
    // A document Go reads differently from airlock is never carried, not even with --force:
    // the output would be whatever image the loader picks.
    let refused = !model.ambiguous.is_empty() || (!passes(&findings) && !opts.force);
    if model.format.is_none() || refused {
        let forceable = model.format.is_some() && model.ambiguous.is_empty();
        return Ok(Outcome::Refused {
            report: selected_input(&name, &catalog, &model, &selected, findings),
            forceable,
        });
    }

    let jobs = plan_layers(opts, &catalog, &images)?;
    let (written, extra) = write_layers(opts, &mut catalog, &staging, &jobs)?;
    // The full checks, now that every layer has been read.
    let mut findings = checks::all_findings(&catalog, &model, &selected);
    findings.extend(extra);
    if !passes(&findings) && !opts.force {
        return Ok(Outcome::Refused {
            report: selected_input(&name, &catalog, &model, &selected, findings),
            forceable: true,
        });
    }

    // The artifacts that can go along, copied and hashed before the documents are planned.
    let staged = if emit::index_from_input(&catalog, opts.format, &images, tags.as_deref()) {
        artifacts::stage_all(&catalog, &staging, opts.format, &model.artifacts, &model.images, &images)
            .map_err(|e| Error::output("cannot write the output", e))?
    } else {
        HashMap::new()
    };
    let out = Emit {
        opts,
        catalog: &catalog,
        written: &written,
        notes: Default::default(),
        artifacts: &model.artifacts,
        staged: &staged,
        unchanged: Default::default(),
        carried: Default::default(),
        failed: Default::default(),
        plan: std::cell::RefCell::new(plan::Documents::new(opts.format)),
    };
    let summary = out.documents(&images, tags.as_deref())?;
    out.plan.into_inner().write(&staging).map_err(|e| Error::output("cannot write the output", e))?;
    let _ = fs::remove_dir_all(staging.dir.join(".partial"));
    reread::remove_spools(&staging);
    let commit = match &opts.output {
        Destination::Path(p) if !opts.format.is_tar() => staging.commit_dir(p, opts.force),
        dest => staging.commit_tar(dest, opts.force),
    };
    let output_bytes = commit.map_err(|e| Error::output("cannot write the output", e))?;
    Ok(Outcome::Written(Summary { findings, output_bytes, ..summary }))
}

/// Checks where the output goes and opens its staging area next to it.
fn prepare_output(opts: &Options) -> Result<Staging, Error> {
    if let Destination::Path(p) = &opts.output {
        crate::output::paths::check_output(&opts.input, p)?;
        // A tar output is a file: a directory standing at -o is never deleted to put it
        // there, --force or not.
        if opts.format.is_tar() && p.is_dir() {
            return Err(Error::Usage(format!(
                "{} is a directory and {} writes a file; airlock never deletes a directory to replace it (not even with --force): remove it yourself or choose another -o",
                p.display(),
                opts.format.as_str()
            )));
        }
        if p.exists() && !opts.force {
            return Err(Error::Usage(format!("{} exists; give --force to replace it", p.display())));
        }
    } else if !opts.format.is_tar() {
        return Err(Error::Usage("-o - (stdout) needs a tar target: oci-archive, docker or crane".into()));
    }
    let staging = Staging::new(&opts.output).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => Error::output("cannot create the output", e),
    })?;
    for n in &staging.notes {
        eprintln!("airlock: {n}");
    }
    Ok(staging)
}

/// The layer blobs to write: each (member, compression) once, however many images share it,
/// largest first.
fn plan_layers(opts: &Options, catalog: &Catalog, images: &[&Image]) -> Result<Vec<Job>, Error> {
    // Keyed by the resolved member: its plan follows from its compression, so one member has
    // one plan however many images share it.
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    for image in images {
        for l in &image.layers {
            let Ok((real, m)) = catalog.resolve(&l.member) else {
                continue;
            };
            let now = match m.scan.as_ref().map(|s| &s.content) {
                Some(Content::Sniffed(c)) => *c,
                _ => continue, // not a layer blob: the checks have reported it
            };
            let want = opts.format.layer_compression(opts.compression, now);
            let recompress = (want != now).then_some(want);
            if recompress.is_some() && matches!(now, Compression::Bzip2 | Compression::Xz) {
                return Err(Error::Usage(format!(
                    "layer {} is {}-compressed; airlock cannot re-compress it (use --compression keep and a target that keeps it)",
                    l.member,
                    now.as_str()
                )));
            }
            jobs.entry(real.to_string()).or_insert(Job { member: real.to_string(), size: m.size, recompress });
        }
    }
    let mut jobs: Vec<Job> = jobs.into_values().collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.size));
    Ok(jobs)
}

/// Writes every planned layer blob, verifying it in the same read (its scan goes into
/// `catalog`); an input that cannot be read is a finding, an output that cannot be written
/// the error.
fn write_layers(
    opts: &Options,
    catalog: &mut Catalog,
    staging: &Staging,
    jobs: &[Job],
) -> Result<(HashMap<String, Written>, Vec<Finding>), Error> {
    let (progress, handle) = Progress::start(format!("convert to {}", opts.format.as_str()), opts.progress);
    progress.set_total(jobs.iter().map(|j| j.size).sum());
    let writer = Writer {
        catalog,
        staging,
        format: opts.format,
        level: opts.level,
        progress: &progress,
        counter: Default::default(),
    };
    let results: Vec<(Job, Result<Written, JobError>)> =
        jobs.par_iter().map(|j| (j.clone(), writer.write(j))).collect();
    progress.finish(handle);

    let mut written: HashMap<String, Written> = HashMap::new();
    let mut extra = Vec::new();
    for (job, r) in results {
        match r {
            Ok(w) => {
                if let Some(m) = catalog.members.get_mut(&job.member) {
                    m.scan = Some(w.input.clone());
                }
                written.insert(job.member, w);
            }
            Err(JobError::Output(e)) => {
                return Err(Error::output(format!("cannot write layer {}", job.member), e));
            }
            Err(JobError::Input(e)) => extra.push(
                Finding::new(Code::ArchiveCorrupt, format!("cannot read {}: {e}", job.member)).member(job.member),
            ),
        }
    }
    Ok((written, extra))
}

/// docker and crane hold one platform per tag: refuse a multi-platform selection there.
fn check_platforms(opts: &Options, model: &crate::model::Model, images: &[&Image]) -> Result<(), Error> {
    if !opts.format.one_platform_per_tag() || images.len() < 2 {
        return Ok(());
    }
    let mut by_tag: HashMap<String, Vec<String>> = HashMap::new();
    for im in images {
        let p = select::platform_of(im).map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
        let tags: Vec<String> = if !opts.tags.is_empty() {
            opts.tags.clone()
        } else if im.tags.is_empty() {
            vec![String::new()]
        } else {
            im.tags.iter().map(|t| select::normalize(t)).collect()
        };
        for t in tags {
            let v = by_tag.entry(t).or_default();
            if !v.contains(&p) {
                v.push(p.clone());
            }
        }
    }
    if by_tag.values().any(|ps| ps.len() > 1) {
        return Err(Error::Usage(format!(
            "the {} format holds one platform per tag, and the selection has several: {}. Pick one with --platform",
            opts.format.as_str(),
            select::describe(model)
        )));
    }
    Ok(())
}

fn explicit_tags(opts: &Options, selected: usize) -> Result<Option<Vec<String>>, Error> {
    if opts.tags.is_empty() {
        return Ok(None);
    }
    if selected != 1 {
        return Err(Error::Usage(format!(
            "--tag sets the tags of one image; {selected} are selected (use --image or --platform)"
        )));
    }
    for t in &opts.tags {
        if !reference::is_valid(t, false) {
            return Err(Error::Usage(format!("--tag {t:?} is not a valid image reference")));
        }
    }
    Ok(Some(opts.tags.clone()))
}
