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
mod pargz;
mod paths;
pub mod target;

use crate::checks::{self, Selected};
use crate::commands::select::{self, Selection};
use crate::commands::{Loaded, load};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::{Image, reference};
use crate::output::{Destination, Staging, StagingError};
use crate::progress::Progress;
use crate::report::{ConvertedImage, ConvertedLayer, InputReport};
use crate::scan::{Compression, Content, Depth};
use blobs::{Job, JobError, Writer, Written};
use documents::{Descriptor, OutLayer};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use target::{CompressionChoice, Role, Target};

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
        if p.exists() && !opts.force {
            return Err(ConvertError::Usage(format!("{} exists; give --force to replace it", p.display())));
        }
        if opts.target.is_tar() && p.is_dir() && !opts.force {
            return Err(ConvertError::Usage(format!("{} is a directory", p.display())));
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
    let (loaded, reread) = read_input(&opts.input, &staging, opts.progress)?;
    // A bundle: the archive in it that holds the selection is the input from here on.
    let (loaded, name) = match loaded.model.format {
        Some(_) => (loaded, opts.input.display().to_string()),
        None => match bundle::pick(&opts.input, &reread, &loaded, &staging, &opts.selection, opts.progress)? {
            Some(taken) => taken,
            None => (loaded, opts.input.display().to_string()),
        },
    };
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
    let _ = fs::remove_file(staging.dir.join(".input.tar"));
    let _ = fs::remove_file(staging.dir.join(bundle::SPOOL));
    let commit = match &opts.output {
        Destination::Path(p) if !opts.target.is_tar() => staging.commit_dir(p, opts.force),
        dest => staging.commit_tar(dest, opts.force),
    };
    let output_bytes = commit.map_err(|e| ConvertError::Output(format!("cannot write the output: {e}")))?;
    Ok(Outcome::Written(Summary { findings, output_bytes, ..summary }))
}

/// Reads the documents of the input. A gzip- or zstd-wrapped input is first unwrapped into
/// the staging area: the blobs must be read again, and a stream cannot be.
/// Also returns the file to read members from again: the unwrapped copy, or the input.
fn read_input(input: &Path, staging: &Staging, progress: bool) -> Result<(Loaded, PathBuf), ConvertError> {
    let usage = |e: crate::open::OpenError| ConvertError::Usage(e.to_string());
    if input.to_str().is_some_and(|s| s.ends_with(".part000")) {
        return Err(ConvertError::Usage(format!(
            "{} is the header of a split package, which airlock reads as a stream; convert needs one file: join the parts first (cat NAME.part001 NAME.part002 … > NAME)",
            input.display()
        )));
    }
    if crate::open::split::first_chunk(input).is_some_and(|base| input.with_file_name(format!("{base}.002")).is_file())
    {
        return Err(ConvertError::Usage(format!(
            "{} is the first chunk of a chunked file, which airlock reads as a stream; convert needs one file: join the chunks first (cat NAME.001 NAME.002 … > NAME)",
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
    if !matches!(outer, Some(Compression::Gzip | Compression::Zstd | Compression::Bzip2 | Compression::Lz4)) {
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

fn input_report(
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
        targets: Vec::new(),
        contains: Vec::new(),
        other: Vec::new(),
        other_count: None,
        artifacts: Vec::new(),
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

/// Writes the documents of the output.
struct Emit<'a> {
    opts: &'a Options,
    catalog: &'a crate::open::Catalog,
    staging: &'a Staging,
    /// Layer blobs written, by resolved input member.
    written: &'a HashMap<String, Written>,
    /// Things the user should know about the output (printed on stderr).
    notes: std::cell::RefCell<Vec<String>>,
    /// Signatures, attestations and SBOMs of the input.
    artifacts: &'a [crate::model::Artifact],
    /// Manifests and indexes written with their input bytes: what an artifact can be about.
    unchanged: std::cell::RefCell<std::collections::HashSet<Digest>>,
    /// Artifacts written, by digest.
    carried: std::cell::RefCell<std::collections::HashSet<Digest>>,
}

struct OutImage {
    config: Digest,
    layers: Vec<OutLayer>,
    manifest: Option<(Digest, u64, String)>,
    /// Full references, normalized.
    tags: Vec<String>,
    /// OCI ref names that are only tags.
    ref_names: Vec<String>,
    platform: Option<crate::model::Platform>,
}

impl Emit<'_> {
    fn err(e: std::io::Error) -> ConvertError {
        ConvertError::Output(format!("cannot write the output: {e}"))
    }

    fn documents(&self, images: &[&Image], tags: Option<&[String]>) -> Result<Summary, ConvertError> {
        let t = self.opts.target;
        let mut outs = Vec::new();
        let mut detail = Vec::new();
        let mut manifests_by_member: HashMap<String, (Digest, u64, String)> = HashMap::new();
        for image in images {
            // Only reachable with --force: say what could not be carried.
            let Some(cfg) = self.catalog.document(&image.config.member) else {
                self.notes.borrow_mut().push(format!(
                    "image {} is not written: its config {} is missing or not JSON",
                    image.tags.first().map_or("<untagged>", String::as_str),
                    image.config.member
                ));
                continue;
            };
            let config = blobs::write_bytes(self.staging, t, Role::Config, cfg).map_err(Self::err)?;
            let mut layers = Vec::new();
            let mut detail_layers = Vec::new();
            for l in &image.layers {
                let Some(w) = self.find_written(&l.member) else {
                    self.notes.borrow_mut().push(format!(
                        "layer {} could not be written (missing or unreadable); the image is incomplete",
                        l.member
                    ));
                    continue;
                };
                layers.push(OutLayer { digest: w.digest, size: w.size, compression: w.compression });
                detail_layers.push(ConvertedLayer {
                    action: if w.recompressed { "recompressed" } else { "copied" },
                    member: l.member.clone(),
                    digest_before: w.input.digest,
                    digest_after: w.digest,
                    size_before: w.input.size,
                    size_after: w.size,
                    compression_before: match &w.input.content {
                        Content::Layer(ls) => Some(ls.compression),
                        Content::Sniffed(c) => Some(*c),
                        _ => None,
                    },
                    compression_after: w.compression,
                    media_type_before: l.media_type.clone(),
                    media_type_after: (t != Target::Crane).then(|| target::layer_media_type(w.compression).to_string()),
                });
            }
            let manifest = if t == Target::Crane {
                None
            } else {
                let src = image.manifest_member.as_deref().and_then(|m| self.catalog.document(m));
                let bytes = documents::manifest(src, (&config, cfg.len() as u64), &layers);
                let d = blobs::write_bytes(self.staging, t, Role::Document, &bytes).map_err(Self::err)?;
                let entry = (d, bytes.len() as u64, documents::manifest_media_type(&bytes));
                if let Some(m) = &image.manifest_member {
                    manifests_by_member.insert(m.clone(), entry.clone());
                }
                Some(entry)
            };
            // An OCI ref name that is only a tag ("1", "app-1") names no repository: it stays a
            // ref name, and a docker or crane archive gets the image untagged (as skopeo does).
            let (tags, ref_names): (Vec<String>, Vec<String>) = match tags {
                Some(t) => (t.iter().map(|x| select::normalize(x)).collect(), Vec::new()),
                None => {
                    let (full, bare): (Vec<&String>, Vec<&String>) = image
                        .tags
                        .iter()
                        .filter(|x| reference::is_valid(x, true))
                        .partition(|x| reference::names_repository(x));
                    (full.into_iter().map(|x| select::normalize(x)).collect(), bare.into_iter().cloned().collect())
                }
            };
            if tags.is_empty() && !ref_names.is_empty() && t.one_platform_per_tag() {
                self.notes.borrow_mut().push(format!(
                    "image {} has only the OCI ref name {:?}, which names no repository; it is written untagged (give --tag NAME:TAG)",
                    image.config.digest.map(|d| d.short()).unwrap_or_default(),
                    ref_names[0]
                ));
            }
            detail.push(ConvertedImage {
                tags: tags.clone(),
                ref_names: if t.has_oci_layout() && t != Target::Docker { ref_names.clone() } else { Vec::new() },
                platform: select::platform_of(image).map(|p| p.to_string()),
                config_digest: config,
                manifest_digest_before: image.manifest_digest,
                manifest_digest_after: manifest.as_ref().map(|m| m.0),
                layers: detail_layers,
            });
            outs.push(OutImage { config, layers, manifest, tags, ref_names, platform: select::platform_of(image) });
        }
        match t {
            Target::Oci | Target::OciArchive => {
                let tree = if tags.is_none() && images.iter().all(|i| i.manifest_member.is_some()) {
                    self.catalog
                        .document("index.json")
                        .and_then(|b| self.rewrite_index(b, &manifests_by_member, 0).transpose())
                        .transpose()?
                } else {
                    None
                };
                let index = match tree {
                    Some((bytes, _)) => bytes,
                    None => documents::index(&flat_descriptors(&outs)),
                };
                fs::write(self.staging.file("index.json").map_err(Self::err)?, index).map_err(Self::err)?;
                fs::write(self.staging.file("oci-layout").map_err(Self::err)?, documents::OCI_LAYOUT)
                    .map_err(Self::err)?;
            }
            Target::Docker => {
                fs::write(
                    self.staging.file("index.json").map_err(Self::err)?,
                    documents::index(&flat_descriptors(&outs)),
                )
                .map_err(Self::err)?;
                fs::write(self.staging.file("oci-layout").map_err(Self::err)?, documents::OCI_LAYOUT)
                    .map_err(Self::err)?;
                self.manifest_json(&outs)?;
            }
            Target::Crane => self.manifest_json(&outs)?,
        }
        self.note_dropped_artifacts(images);
        let layers: usize = outs.iter().map(|o| o.layers.len()).sum();
        let recompressed = self.written.values().filter(|w| w.recompressed).count();
        Ok(Summary {
            images: outs.len(),
            layers,
            copied: self.written.len() - recompressed,
            recompressed,
            bytes: self.written.values().map(|w| w.size).sum(),
            findings: Vec::new(),
            notes: self.notes.take(),
            written: detail,
            output_bytes: 0,
        })
    }

    /// The written blob for an input layer member (through any links).
    fn find_written(&self, member: &str) -> Option<&Written> {
        let real = self.catalog.resolve(member).ok()?.0;
        self.written.get(real)
    }

    /// Says which signatures, attestations and SBOMs of the selected images stay behind, and why.
    fn note_dropped_artifacts(&self, images: &[&Image]) {
        let selected: std::collections::HashSet<Digest> = images.iter().filter_map(|i| i.manifest_digest).collect();
        let carried = self.carried.borrow();
        let kept: Vec<&crate::model::Artifact> =
            self.artifacts.iter().filter(|a| a.digest.is_some_and(|d| carried.contains(&d))).collect();
        if let Some(n) = artifacts::carried_note(&kept) {
            self.notes.borrow_mut().push(n);
        }
        let dropped: Vec<&crate::model::Artifact> = self
            .artifacts
            .iter()
            .filter(|a| a.subject.is_some_and(|s| selected.contains(&s)))
            .filter(|a| a.digest.is_none_or(|d| !carried.contains(&d)))
            .collect();
        let why = match self.opts.target {
            Target::Docker | Target::Crane => {
                format!("the {} format holds images only (convert to oci or oci-archive to keep them)", self.opts.target.as_str())
            }
            _ => "the manifest they are about was not written unchanged (re-compressed layers, or new tags), so they would vouch for a digest that is not there".to_string(),
        };
        if let Some(n) = artifacts::dropped_note(&dropped, &why) {
            self.notes.borrow_mut().push(n);
        }
    }

    /// Writes the artifact of digest `d` if what it is about was written unchanged (only
    /// the oci targets reach here: docker and crane list images only).
    fn carry_artifact(&self, d: Digest) -> Result<bool, ConvertError> {
        let Some(a) = artifacts::find(self.artifacts, d) else { return Ok(false) };
        if !a.subject.is_some_and(|s| self.unchanged.borrow().contains(&s)) {
            return Ok(false);
        }
        if self.carried.borrow().contains(&d) {
            return Ok(true);
        }
        match artifacts::copy(self.catalog, self.staging, self.opts.target, a).map_err(Self::err)? {
            Ok(()) => {
                self.carried.borrow_mut().insert(d);
                Ok(true)
            }
            Err(why) => {
                self.notes.borrow_mut().push(format!("{} {} not carried: {why}", a.kind, a.member));
                Ok(false)
            }
        }
    }

    /// Rewrites an index so it lists only what was written, keeping its bytes where nothing
    /// changed. `None` when nothing under it was selected.
    fn rewrite_index(
        &self,
        bytes: &[u8],
        manifests: &HashMap<String, (Digest, u64, String)>,
        depth: usize,
    ) -> Result<Option<(Vec<u8>, bool)>, ConvertError> {
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Ok(None);
        };
        let Some(children) = v["manifests"].as_array().cloned() else {
            return Ok(None);
        };
        // First the images and indexes (which says what was written unchanged), then the
        // artifacts, which go along only with what they are about.
        let mut decided: Vec<Option<serde_json::Value>> = Vec::new();
        let mut changed = false;
        let mut pending = Vec::new();
        for (i, c) in children.iter().enumerate() {
            decided.push(None);
            let Some(d) = c["digest"].as_str().and_then(Digest::parse) else {
                changed = true;
                continue;
            };
            if artifacts::find(self.artifacts, d).is_some() {
                pending.push((i, d));
                continue;
            }
            let member = format!("blobs/sha256/{}", d.hex());
            let replacement = if let Some((nd, size, mt)) = manifests.get(&member) {
                Some((*nd, *size, mt.clone()))
            } else if let Some(doc) = self.catalog.document(&member).filter(|_| depth < 16)
                && serde_json::from_slice::<serde_json::Value>(doc).is_ok_and(|x| x.get("manifests").is_some())
            {
                match self.rewrite_index(doc, manifests, depth + 1)? {
                    Some((nb, _)) => {
                        let nd = blobs::write_bytes(self.staging, self.opts.target, Role::Document, &nb)
                            .map_err(Self::err)?;
                        Some((nd, nb.len() as u64, c["mediaType"].as_str().unwrap_or(target::OCI_INDEX).to_string()))
                    }
                    None => None,
                }
            } else {
                None // an unselected image: not carried
            };
            match replacement {
                Some((nd, size, mt)) => {
                    if nd == d {
                        self.unchanged.borrow_mut().insert(d);
                    }
                    let mut nc = c.clone();
                    nc["digest"] = serde_json::json!(nd);
                    nc["size"] = serde_json::json!(size);
                    if nd != d {
                        nc["mediaType"] = serde_json::json!(mt);
                    }
                    changed |= nc != *c;
                    decided[i] = Some(nc);
                }
                None => changed = true,
            }
        }
        for (i, d) in pending {
            let carried = self.carry_artifact(d)?;
            changed |= !carried;
            if carried {
                decided[i] = Some(children[i].clone());
            }
        }
        let kept: Vec<serde_json::Value> = decided.into_iter().flatten().collect();
        if kept.is_empty() {
            return Ok(None);
        }
        if !changed {
            return Ok(Some((bytes.to_vec(), false)));
        }
        v["manifests"] = serde_json::Value::Array(kept);
        Ok(Some((serde_json::to_vec(&v).expect("serializes"), true)))
    }

    fn manifest_json(&self, outs: &[OutImage]) -> Result<(), ConvertError> {
        let t = self.opts.target;
        let entries: Vec<documents::ManifestJsonEntry> = outs
            .iter()
            .map(|o| documents::ManifestJsonEntry {
                config: t.blob_path(Role::Config, &o.config),
                repo_tags: o.tags.iter().map(|x| documents::familiar(x)).collect(),
                layers: o.layers.iter().map(|l| t.blob_path(Role::Layer, &l.digest)).collect(),
            })
            .collect();
        let bytes = serde_json::to_vec(&entries).expect("serializes");
        fs::write(self.staging.file("manifest.json").map_err(Self::err)?, bytes).map_err(Self::err)?;
        if t == Target::Docker {
            let repos: Vec<(String, Digest)> = outs
                .iter()
                .filter_map(|o| o.layers.last().map(|l| (o, l.digest)))
                .flat_map(|(o, top)| o.tags.iter().map(move |x| (documents::familiar(x), top)))
                .collect();
            if let Some(r) = documents::repositories(&repos) {
                fs::write(self.staging.file("repositories").map_err(Self::err)?, r).map_err(Self::err)?;
            }
        }
        Ok(())
    }
}

/// One descriptor per tag (an untagged image gets one without annotations).
fn flat_descriptors(outs: &[OutImage]) -> Vec<Descriptor> {
    let mut v = Vec::new();
    for o in outs {
        let Some((d, size, mt)) = &o.manifest else {
            continue;
        };
        let base = Descriptor {
            media_type: mt.clone(),
            digest: *d,
            size: *size,
            platform: o.platform.as_ref().map(documents::platform_value),
            annotations: BTreeMap::new(),
        };
        if o.tags.is_empty() && o.ref_names.is_empty() {
            v.push(base.clone());
        }
        for t in &o.tags {
            v.push(Descriptor { annotations: documents::tag_annotations(t), ..base.clone() });
        }
        for r in &o.ref_names {
            let annotations = BTreeMap::from([("org.opencontainers.image.ref.name".to_string(), r.clone())]);
            v.push(Descriptor { annotations, ..base.clone() });
        }
    }
    v
}
