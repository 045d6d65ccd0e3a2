//! `airlock convert`: rewrite an image between archive formats without changing it.
//!
//! The flow: read the documents (cheap) → model → select → structural checks → write every
//! layer once, verifying it in the same read → full checks → write configs (verbatim),
//! manifests (original bytes where nothing changed), indexes and the target's small files →
//! commit atomically. An input with error findings is refused before anything is committed.

mod artifacts;
mod blobs;
mod bundle;
mod documents;
mod emit;
mod pargz;
pub(crate) mod paths;
pub mod target;

use crate::checks::{self, Selected};
use crate::commands::select::{self, Selection};
use crate::commands::{Loaded, load};
use crate::finding::{Code, Finding};
use crate::model::{Image, reference};
use crate::open::split::Naming;
use crate::output::{Destination, Staging, StagingError};
use crate::progress::Progress;
use crate::report::InputReport;
use crate::scan::{Compression, Content, Depth};
use blobs::{Job, JobError, Writer, Written};
use emit::Emit;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use target::{CompressionChoice, Target};

pub struct Options {
    pub input: PathBuf,
    pub target: Target,
    pub output: Destination,
    pub selection: Selection,
    pub tags: Vec<String>,
    pub compression: CompressionChoice,
    pub level: Option<i32>,
    pub force: bool,
    pub progress: bool,
}

pub struct Summary {
    pub images: usize,
    pub layers: usize,
    pub copied: usize,
    pub recompressed: usize,
    pub bytes: u64,
    /// Warnings of the input (the output was written).
    pub findings: Vec<Finding>,
    /// Notes about the output, e.g. an image written untagged.
    pub notes: Vec<String>,
    /// Per image, what was written (`convert --json`).
    pub written: Vec<crate::report::ConvertedImage>,
    /// The output's size (tar bytes, or the layout's files together).
    pub output_bytes: u64,
}

pub enum Outcome {
    Written(Summary),
    /// The input has error findings and `--force` was not given, or it is one `--force`
    /// never writes (`forceable` false: JSON that Go reads differently): nothing was written.
    Refused {
        report: InputReport,
        forceable: bool,
    },
}

#[derive(Debug)]
pub enum ConvertError {
    /// Exit 2: bad options, an existing output, an input that cannot be opened.
    Usage(String),
    /// Exit 2: the output cannot be written.
    Output(String),
}

pub fn run(opts: &Options) -> Result<Outcome, ConvertError> {
    if let Destination::Path(p) = &opts.output {
        paths::check_output(&opts.input, p)?;
        // A tar target is a file: a directory standing at -o is never deleted to put it
        // there, --force or not.
        if opts.target.is_tar() && p.is_dir() {
            return Err(ConvertError::Usage(format!(
                "{} is a directory and {} writes a file; airlock never deletes a directory to replace it (not even with --force): remove it yourself or choose another -o",
                p.display(),
                opts.target.as_str()
            )));
        }
        if p.exists() && !opts.force {
            return Err(ConvertError::Usage(format!("{} exists; give --force to replace it", p.display())));
        }
    } else if !opts.target.is_tar() {
        return Err(ConvertError::Usage("-o - (stdout) needs a tar target: oci-archive, docker or crane".into()));
    }
    let staging = Staging::new(&opts.output).map_err(|e| match e {
        StagingError::Busy(m) => ConvertError::Usage(m),
        StagingError::Io(e) => ConvertError::Output(format!("cannot create the output: {e}")),
    })?;
    for n in &staging.notes {
        eprintln!("airlock: {n}");
    }
    let (loaded, name) = open_input(&opts.input, &staging, &opts.selection, opts.progress)?;
    let Loaded { mut catalog, model } = loaded;

    let chosen = if model.format.is_some() {
        select::select(&model, &opts.selection).map_err(|e| ConvertError::Usage(format!("{name}: {e}")))?
    } else {
        Vec::new()
    };
    let images: Vec<&Image> = chosen.iter().map(|&i| &model.images[i]).collect();
    check_platforms(opts, &model, &images)?;
    let tags = explicit_tags(opts, images.len())?;

    // Structural checks first: a broken input is refused before a byte is copied.
    let selected = Selected { images: images.clone() };
    let findings = checks::all_findings(&catalog, &model, &selected);
    // A document Go reads differently from airlock is never carried, not even with --force:
    // the output would be whatever image the loader picks.
    let refused = !model.ambiguous.is_empty() || (findings.iter().any(Finding::is_error) && !opts.force);
    if model.format.is_none() || refused {
        let forceable = model.format.is_some() && model.ambiguous.is_empty();
        return Ok(Outcome::Refused { report: input_report(&name, &catalog, &model, &images, findings), forceable });
    }

    // Plan the layer blobs: each (member, compression) once, however many images share it.
    // Keyed by the resolved member: its plan follows from its compression, so one member has
    // one plan however many images share it.
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    for image in &images {
        for l in &image.layers {
            let Ok((real, m)) = catalog.resolve(&l.member) else {
                continue;
            };
            let now = match m.scan.as_ref().map(|s| &s.content) {
                Some(Content::Sniffed(c)) => *c,
                _ => continue, // not a layer blob: the checks have reported it
            };
            let want = opts.target.layer_compression(opts.compression, now);
            let recompress = (want != now).then_some(want);
            if recompress.is_some() && matches!(now, Compression::Bzip2 | Compression::Xz) {
                return Err(ConvertError::Usage(format!(
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

    let (progress, handle) = Progress::start(format!("convert to {}", opts.target.as_str()), opts.progress);
    progress.set_total(jobs.iter().map(|j| j.size).sum());
    let writer = Writer {
        catalog: &catalog,
        staging: &staging,
        target: opts.target,
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
                return Err(ConvertError::Output(format!("cannot write layer {}: {e}", job.member)));
            }
            Err(JobError::Input(e)) => extra.push(
                Finding::new(Code::ArchiveCorrupt, format!("cannot read {}: {e}", job.member)).member(job.member),
            ),
        }
    }
    // The full checks, now that every layer has been read.
    let mut findings = checks::all_findings(&catalog, &model, &selected);
    findings.extend(extra);
    if findings.iter().any(Finding::is_error) && !opts.force {
        return Ok(Outcome::Refused {
            report: input_report(&name, &catalog, &model, &images, findings),
            forceable: true,
        });
    }

    let out = Emit {
        opts,
        catalog: &catalog,
        staging: &staging,
        written: &written,
        notes: Default::default(),
        artifacts: &model.artifacts,
        unchanged: Default::default(),
        carried: Default::default(),
    };
    let summary = out.documents(&images, tags.as_deref())?;
    let _ = fs::remove_dir_all(staging.dir.join(".partial"));
    remove_spools(&staging);
    let commit = match &opts.output {
        Destination::Path(p) if !opts.target.is_tar() => staging.commit_dir(p, opts.force),
        dest => staging.commit_tar(dest, opts.force),
    };
    let output_bytes = commit.map_err(|e| ConvertError::Output(format!("cannot write the output: {e}")))?;
    Ok(Outcome::Written(Summary { findings, output_bytes, ..summary }))
}

/// Opens an input whose blobs will be read again (convert, export): its documents, and for
/// a bundle, the archive in it that holds the selection (the input from then on), with the
/// name to report it by. Wrapped inputs and bundle members are unwrapped into `staging`.
pub(crate) fn open_input(
    input: &Path,
    staging: &Staging,
    selection: &Selection,
    progress: bool,
) -> Result<(Loaded, String), ConvertError> {
    let (loaded, reread) = read_input(input, staging, progress)?;
    Ok(match loaded.model.format {
        Some(_) => (loaded, input.display().to_string()),
        None => match bundle::pick(input, &reread, &loaded, staging, selection, progress)? {
            Some(taken) => taken,
            None => (loaded, input.display().to_string()),
        },
    })
}

/// The files `open_input` may leave in the staging area, to remove before a commit.
pub(crate) fn remove_spools(staging: &Staging) {
    let _ = fs::remove_file(staging.dir.join(".input.tar"));
    let _ = fs::remove_file(staging.dir.join(bundle::SPOOL));
}

/// Reads the documents of the input. A gzip- or zstd-wrapped input is first unwrapped into
/// the staging area: the blobs must be read again, and a stream cannot be.
/// Also returns the file to read members from again: the unwrapped copy, or the input.
fn read_input(input: &Path, staging: &Staging, progress: bool) -> Result<(Loaded, PathBuf), ConvertError> {
    let usage = |e: crate::open::OpenError| ConvertError::Usage(e.to_string());
    // A file in parts is read as a stream; convert reads blobs again after the documents.
    let what = match crate::open::split::first_of_several(input) {
        Some(Naming::Zarf) => {
            Some(("the header of a split package", "parts", "cat NAME.part001 NAME.part002 … > NAME"))
        }
        Some(Naming::Numbered) => {
            Some(("the first chunk of a chunked file", "chunks", "cat NAME.001 NAME.002 … > NAME"))
        }
        None => None,
    };
    if let Some((what, parts, join)) = what {
        return Err(ConvertError::Usage(format!(
            "{} is {what}, which airlock reads as a stream; convert needs one file: join the {parts} first ({join})",
            input.display()
        )));
    }
    // convert reads the documents first and the blobs after: a pipe gives its bytes once.
    if !crate::open::is_rereadable(input)
        .map_err(|e| ConvertError::Usage(format!("cannot open {}: {e}", input.display())))?
    {
        return Err(ConvertError::Usage(format!(
            "{} is a pipe or device; convert reads its input twice: save it to a file first",
            input.display()
        )));
    }
    let outer = crate::open::outer_compression(input)
        .map_err(|e| ConvertError::Usage(format!("cannot open {}: {e}", input.display())))?;
    if !matches!(
        outer,
        Some(Compression::Gzip | Compression::Zstd | Compression::Bzip2 | Compression::Lz4 | Compression::Xz)
    ) {
        return Ok((load(input, Depth::Documents, progress).map_err(usage)?, input.to_path_buf()));
    }
    let spool = staging.dir.join(".input.tar");
    match crate::open::unwrap_to(input, &spool) {
        Ok(()) => {
            let mut loaded = load(&spool, Depth::Documents, progress).map_err(usage)?;
            loaded.catalog.outer = outer;
            Ok((loaded, spool))
        }
        // A broken wrapper: read it as verify does, to report exactly what is wrong.
        Err(_) => Ok((load(input, Depth::Full, progress).map_err(usage)?, input.to_path_buf())),
    }
}

pub(crate) fn input_report(
    name: &str,
    catalog: &crate::open::Catalog,
    model: &crate::model::Model,
    images: &[&Image],
    findings: Vec<Finding>,
) -> InputReport {
    InputReport {
        path: name.to_string(),
        format: model.format,
        compression: catalog.outer.unwrap_or(Compression::None),
        ok: !findings.iter().any(Finding::is_error),
        images: images.iter().map(|i| crate::commands::verify::image_report(catalog, i)).collect(),
        findings,
        ..Default::default()
    }
}

/// docker and crane hold one platform per tag: refuse a multi-platform selection there.
fn check_platforms(opts: &Options, model: &crate::model::Model, images: &[&Image]) -> Result<(), ConvertError> {
    if !opts.target.one_platform_per_tag() || images.len() < 2 {
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
        return Err(ConvertError::Usage(format!(
            "the {} format holds one platform per tag, and the selection has several: {}. Pick one with --platform",
            opts.target.as_str(),
            select::describe(model)
        )));
    }
    Ok(())
}

fn explicit_tags(opts: &Options, selected: usize) -> Result<Option<Vec<String>>, ConvertError> {
    if opts.tags.is_empty() {
        return Ok(None);
    }
    if selected != 1 {
        return Err(ConvertError::Usage(format!(
            "--tag sets the tags of one image; {selected} are selected (use --image or --platform)"
        )));
    }
    for t in &opts.tags {
        if !reference::is_valid(t, false) {
            return Err(ConvertError::Usage(format!("--tag {t:?} is not a valid image reference")));
        }
    }
    Ok(Some(opts.tags.clone()))
}
