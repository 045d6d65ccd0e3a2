//! `airlock export`: the root filesystem a container of an image starts with, as a tar (or a
//! directory), made offline from the archive, verified as it is read.
//!
//! Two passes over the layer bytes, each the one-read scan `verify` runs (blob sha256,
//! decompression, diffID):
//! 1. every layer, lowest first: its entries' headers build the final tree (`tree.rs`, by the
//!    rules in `rules.rs`): for each path, which layer's entry wins, for each file which entry
//!    holds its bytes. Nothing is written. The checks then run on what was read; an input
//!    with errors, or an entry the rules refuse, ends the export with nothing written.
//! 2. the output: directories, symlinks and devices first (from the tree), then each layer
//!    that still holds a file's bytes, again lowest first, copying those entries' data. Each
//!    layer's blob digest and diffID must come out as in pass 1, or the export is refused.
//!
//! Why two: whether an entry's bytes end up in the filesystem is known only once every later
//! layer has been read (a whiteout in the last layer removes a file of the first), and keeping
//! the bytes meanwhile would cost memory or disk in proportion to the image. Memory is the
//! tree: about 100 bytes per path plus the names (`tree.rs`), capped (`rules::MAX_PATHS`).
//! The output is staged and committed atomically, like convert's.

pub mod dir_out;
pub mod layers;
pub mod plan;
pub mod provenance;
pub mod rules;
pub mod tar_out;
pub mod tree;

use crate::checks::{self, Selected};
use crate::digest::Digest;
use crate::error::Error;
use crate::finding::Finding;
use crate::input::{Loaded, reread};
use crate::model::select::{self, Selection};
use crate::model::{Image, Model};
use crate::open::Catalog;
use crate::output::paths::check_output;
use crate::output::{Destination, Staging, StagingError};
use crate::progress::Progress;
use crate::report::InputReport;
use crate::report::build::selected_input;
use crate::report::verdict::passes;
use crate::scan::{BlobScan, Content};
use layers::Stop;
use plan::{EmitError, Plan};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tree::Tree;

/// Where the filesystem goes.
#[derive(Debug, Clone)]
pub enum Output {
    Tar(PathBuf),
    /// A directory (`-o DIR/`).
    Dir(PathBuf),
    Stdout,
}

pub struct Options {
    pub input: PathBuf,
    pub output: Output,
    pub selection: Selection,
    pub provenance: Option<PathBuf>,
    pub force: bool,
    pub progress: bool,
}

pub struct Summary {
    /// The image, as messages name it.
    pub image: String,
    pub layers: usize,
    /// Layers read a second time for their files' bytes.
    pub layers_reread: usize,
    pub paths: usize,
    /// Regular files (hard links to one count once).
    pub files: usize,
    pub output_bytes: u64,
    /// The input's warnings.
    pub findings: Vec<Finding>,
    /// What a directory output could not keep (not root: owners, devices).
    pub notes: Vec<String>,
}

pub enum Outcome {
    Written(Summary),
    /// Nothing was written.
    Refused(Refused),
}

pub enum Refused {
    /// The input has error findings (or is no image archive).
    Findings(InputReport),
    /// A layer entry the overlay rules refuse.
    Entry(LayerStop),
    /// A layer read the second time was not what the first read verified.
    Changed(LayerStop),
}

/// A refusal at one layer of one image.
pub struct LayerStop {
    pub input: String,
    pub image: String,
    pub layer: usize,
    pub diff_id: Option<Digest>,
    pub member: String,
    pub why: String,
    /// The rule of `rules::RULES` (an entry refusal).
    pub rule: Option<&'static str>,
}

impl std::fmt::Display for LayerStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let diff = self.diff_id.map(|d| format!(" ({})", d.short())).unwrap_or_default();
        write!(
            f,
            "{}: image {}, layer {}{diff}, member {}: {}",
            self.input, self.image, self.layer, self.member, self.why
        )?;
        if let Some(r) = self.rule {
            write!(f, " [{r}]")?;
        }
        Ok(())
    }
}

fn output_error(what: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |e| Error::output(format!("cannot write {what}"), e)
}

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    let dest = check_paths(opts)?;
    let dir = matches!(opts.output, Output::Dir(_));
    let staging = stage(&dest)?;
    let sink = if dir { Sink::Dir } else { Sink::Tar };
    let p = match produce(&opts.input, &opts.selection, opts.progress, &staging, sink)? {
        Ok(p) => p,
        Err(refused) => return Ok(Outcome::Refused(refused)),
    };
    if let Some(path) = &opts.provenance {
        write_provenance(&p.tree, &p.diff_ids, path, opts.force)?;
    }
    let output_bytes = commit(staging, &dest, dir, opts.force, p.bytes)?;
    Ok(Outcome::Written(Summary {
        image: p.label,
        layers: p.image.layers.len(),
        layers_reread: p.reread,
        paths: p.tree.len(),
        files: p.files,
        output_bytes,
        findings: p.findings,
        notes: p.notes,
    }))
}

/// Where pass 2 writes the filesystem.
pub enum Sink<'a> {
    /// `rootfs.tar` in the staging area.
    Tar,
    /// `rootfs/` in the staging area.
    Dir,
    /// The caller's writer, the tar streamed into it (flatten: its layer's hasher).
    Writer(&'a mut (dyn Write + Send)),
}

/// An export made, before its commit: the image it is of, the tree and what was written.
pub struct Produced {
    /// The input, as messages name it.
    pub input: String,
    /// The image, as messages name it.
    pub label: String,
    pub image: Image,
    /// The image's config, its bytes as stored.
    pub config: Option<Vec<u8>>,
    pub tree: Tree,
    pub diff_ids: Vec<Digest>,
    /// Bytes written (the tar's, or the directory's files').
    pub bytes: u64,
    /// Layers read a second time for their files' bytes.
    pub reread: usize,
    /// Regular files (hard links to one count once).
    pub files: usize,
    pub notes: Vec<String>,
    /// The input's warnings.
    pub findings: Vec<Finding>,
}

/// Opens the input (a bundle's spool goes into `staging`), checks it, picks the one image
/// selected, and writes its filesystem to `sink`: both passes. Nothing is committed.
pub fn produce(
    input: &Path,
    selection: &Selection,
    show_progress: bool,
    staging: &Staging,
    sink: Sink,
) -> Result<Result<Produced, Refused>, Error> {
    let (loaded, name) = reread::open(input, staging, selection, show_progress)?;
    let Loaded { mut catalog, model } = loaded;
    let report = |catalog: &Catalog, selected: &Selected, findings: Vec<Finding>| {
        Refused::Findings(selected_input(&name, catalog, &model, selected, findings))
    };
    if model.format.is_none() || !model.ambiguous.is_empty() {
        let none = Selected { images: Vec::new() };
        let findings = checks::all_findings(&catalog, &model, &none);
        return Ok(Err(report(&catalog, &none, findings)));
    }
    let index = pick(&model, selection, &name)?;
    let image = &model.images[index];
    let selected = Selected::of(&model, &[index]);
    let findings = checks::all_findings(&catalog, &model, &selected);
    if !passes(&findings) {
        return Ok(Err(report(&catalog, &selected, findings)));
    }
    let label = image_label(image, index);
    let (progress, handle) = Progress::start(format!("export {label}"), show_progress);
    progress.set_total(image.layers.iter().filter_map(|l| catalog.resolve(&l.member).ok()).map(|(_, m)| m.size).sum());
    let built = build(&mut catalog, image, &progress);
    let findings = checks::all_findings(&catalog, &model, &selected);
    let stop = |layer: usize, member: String, why: String, rule| LayerStop {
        input: name.clone(),
        image: label.clone(),
        layer,
        diff_id: diff_id_of(&catalog, image, layer),
        member,
        why,
        rule,
    };
    let outcome = match built {
        _ if !passes(&findings) => Err(report(&catalog, &selected, findings.clone())),
        Err((layer, member, s)) => {
            let rule = if let Stop::Refused { why, .. } = &s { Some(why.rule()) } else { None };
            Err(Refused::Entry(stop(layer, member, s.to_string(), rule)))
        }
        Ok((tree, scans)) => match write(&tree, image, &catalog, &scans, staging, &progress, sink)? {
            Ok(w) => Ok((tree, w)),
            Err((layer, member, why)) => Err(Refused::Changed(stop(layer, member, why, None))),
        },
    };
    progress.finish(handle);
    let (tree, wrote) = match outcome {
        Ok(x) => x,
        Err(refused) => return Ok(Err(refused)),
    };
    let diff_ids = (0..image.layers.len()).filter_map(|i| diff_id_of(&catalog, image, i)).collect();
    let config = catalog.document(&image.config.member).map(<[u8]>::to_vec);
    let Wrote { bytes, reread, files, notes } = wrote;
    Ok(Ok(Produced {
        input: name,
        label,
        image: image.clone(),
        config,
        tree,
        diff_ids,
        bytes,
        reread,
        files,
        notes,
        findings,
    }))
}

/// The output (and provenance) paths: never a link or device, never inside the input, not
/// one another, and not replaced without --force.
fn check_paths(opts: &Options) -> Result<Destination, Error> {
    let dest = match &opts.output {
        Output::Stdout => Destination::Stdout,
        Output::Tar(p) => {
            check_output(&opts.input, p)?;
            if p.is_dir() && !opts.force {
                return Err(Error::Usage(format!(
                    "{} is a directory (a directory output is written as DIR/)",
                    p.display()
                )));
            }
            Destination::Path(p.clone())
        }
        Output::Dir(p) => {
            check_output(&opts.input, p)?;
            Destination::Path(p.clone())
        }
    };
    let mut outs: Vec<&PathBuf> = opts.provenance.iter().collect();
    if let Destination::Path(p) = &dest {
        outs.push(p);
    }
    for p in &outs {
        check_output(&opts.input, p)?;
        if std::fs::symlink_metadata(p).is_ok() && !opts.force {
            return Err(Error::Usage(format!("{} exists; give --force to replace it", p.display())));
        }
    }
    if let [a, b] = outs[..]
        && a == b
    {
        return Err(Error::Usage(format!("--provenance and -o are both {}", a.display())));
    }
    Ok(dest)
}

fn stage(dest: &Destination) -> Result<Staging, Error> {
    let staging = Staging::new(dest).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => Error::output("cannot create the output", e),
    })?;
    for n in &staging.notes {
        eprintln!("airlock: {n}");
    }
    Ok(staging)
}

/// The one image to export.
fn pick(model: &Model, selection: &Selection, name: &str) -> Result<usize, Error> {
    let chosen =
        select::select(model, selection).map_err(|message| Error::Selection { input: name.to_string(), message })?;
    match chosen[..] {
        [one] => Ok(one),
        [] => Err(Error::Usage(format!("{name} holds no image"))),
        _ => Err(Error::Usage(format!(
            "{name}: export takes one image, and {} are selected; pick one with --image or --platform ({})",
            chosen.len(),
            select::describe(model)
        ))),
    }
}

fn image_label(image: &Image, index: usize) -> String {
    match (image.tags.first(), image.config.digest) {
        (Some(t), _) => format!("@{index} {t}"),
        (None, Some(d)) => format!("@{index} {}", d.short()),
        (None, None) => format!("@{index}"),
    }
}

fn diff_id_of(catalog: &Catalog, image: &Image, layer: usize) -> Option<Digest> {
    match &catalog.scan_of(&image.layers.get(layer)?.member)?.content {
        Content::Layer(l) => l.tar.as_ref().ok().map(|t| t.diff_id),
        _ => None,
    }
}

type Built = (Tree, Vec<BlobScan>);

/// Pass 1: every layer, verified and applied to the tree. Stops at the first layer whose
/// member cannot be read (recorded as a finding) or whose entries the rules refuse.
fn build(catalog: &mut Catalog, image: &Image, progress: &Progress) -> Result<Built, (usize, String, Stop)> {
    let mut tree = Tree::new();
    let mut scans = Vec::new();
    for (i, l) in image.layers.iter().enumerate() {
        let Ok(layer) = u16::try_from(i) else {
            return Err((i, l.member.clone(), Stop::Tar("more than 65,535 layers".into())));
        };
        let Ok((real, m)) = catalog.resolve(&l.member).map(|(r, m)| (r.to_string(), m.size)) else {
            return Err((i, l.member.clone(), Stop::Tar("the layer is not in the archive".into())));
        };
        match layers::read(catalog, &real, m, progress, |r| layers::apply(r, &mut tree, layer)) {
            Ok((scan, walked)) => {
                catalog.record_scan(&real, Ok(scan.clone()));
                scans.push(scan);
                if let Err(stop) = walked {
                    return Err((i, real, stop));
                }
            }
            Err(e) => {
                catalog.record_scan(&real, Err(e));
                return Err((i, real, Stop::Tar("the layer cannot be read".into())));
            }
        }
    }
    Ok((tree, scans))
}

/// A layer that read differently the second time: its index, member and why.
type Changed = (usize, String, String);

/// What pass 2 wrote: the output's bytes, the layers read again, the files, notes.
struct Wrote {
    bytes: u64,
    reread: usize,
    files: usize,
    notes: Vec<String>,
}

/// Pass 2 into the staging area: the tar (or the directory). The inner error is a layer
/// that read differently.
fn write(
    tree: &Tree,
    image: &Image,
    catalog: &Catalog,
    scans: &[BlobScan],
    staging: &Staging,
    progress: &Progress,
    sink: Sink,
) -> Result<Result<Wrote, Changed>, Error> {
    let plan = Plan::new(tree);
    let needed = plan.layers();
    progress.set_total(
        scans.iter().map(|s| s.size).sum::<u64>() + needed.iter().map(|&l| scans[l as usize].size).sum::<u64>(),
    );
    let oe = output_error("the output");
    let (files, reread) = (plan.file_count(), needed.len());
    if let Sink::Writer(w) = sink {
        let mut out = tar_out::TarOut::new(w);
        if let Err(changed) = copy(&plan, &needed, image, catalog, scans, progress, &mut out)? {
            return Ok(Err(changed));
        }
        let (_, bytes) = out.finish().map_err(&oe)?;
        return Ok(Ok(Wrote { bytes, reread, files, notes: Vec::new() }));
    }
    if matches!(sink, Sink::Dir) {
        let mut out = dir_out::DirOut::new(staging.dir.join(ROOTFS_DIR)).map_err(&oe)?;
        if let Err(changed) = copy(&plan, &needed, image, catalog, scans, progress, &mut out)? {
            return Ok(Err(changed));
        }
        let (bytes, notes) = out.finish(tree).map_err(&oe)?;
        return Ok(Ok(Wrote { bytes, reread, files, notes }));
    }
    let path = staging.file(ROOTFS_TAR).map_err(&oe)?;
    let file = File::create(&path).map_err(&oe)?;
    let mut out = tar_out::TarOut::new(BufWriter::with_capacity(256 * 1024, file));
    if let Err(changed) = copy(&plan, &needed, image, catalog, scans, progress, &mut out)? {
        return Ok(Err(changed));
    }
    let (w, bytes) = out.finish().map_err(&oe)?;
    w.into_inner().map_err(|e| oe(e.into_error()))?.sync_all().map_err(&oe)?;
    Ok(Ok(Wrote { bytes, reread, files, notes: Vec::new() }))
}

/// The entries without data, then each needed layer's files, each layer checked to read as
/// it did in pass 1.
fn copy(
    plan: &Plan,
    needed: &[u16],
    image: &Image,
    catalog: &Catalog,
    scans: &[BlobScan],
    progress: &Progress,
    out: &mut (dyn plan::Out + Send),
) -> Result<Result<(), Changed>, Error> {
    plan.write_first(out).map_err(output_error("the output"))?;
    for &layer in needed {
        let i = layer as usize;
        let member = image.layers[i].member.clone();
        let changed = |why: String| Ok(Err((i, member.clone(), why)));
        let Ok((real, size)) = catalog.resolve(&member).map(|(r, m)| (r.to_string(), m.size)) else {
            return changed("the layer is gone".into());
        };
        let read = layers::read(catalog, &real, size, progress, |r| plan.write_layer(r, layer, &mut *out));
        let (scan, res) = match read {
            Ok(x) => x,
            Err(e) => return changed(format!("the second read failed: {e}")),
        };
        if !same(&scan, &scans[i]) {
            return changed("its bytes differ on the second read (the input changed while being exported)".into());
        }
        match res {
            Ok(()) => {}
            Err(EmitError::Output(e)) => return Err(output_error("the output")(e)),
            Err(EmitError::InputChanged(why)) => return changed(format!("on the second read, {why}")),
        }
    }
    Ok(Ok(()))
}

const ROOTFS_DIR: &str = "rootfs";
const ROOTFS_TAR: &str = "rootfs.tar";

/// The same blob digest and diffID.
fn same(a: &BlobScan, b: &BlobScan) -> bool {
    let diff = |s: &BlobScan| match &s.content {
        Content::Layer(l) => l.tar.as_ref().ok().map(|t| t.diff_id),
        _ => None,
    };
    a.digest.is_some() && a.digest == b.digest && diff(a).is_some() && diff(a) == diff(b)
}

fn write_provenance(tree: &Tree, diff_ids: &[Digest], path: &Path, force: bool) -> Result<(), Error> {
    let staging = stage(&Destination::Path(path.to_path_buf()))?;
    let err = output_error("the provenance file");
    let p = staging.file("provenance.jsonl").map_err(&err)?;
    let mut w = BufWriter::new(File::create(&p).map_err(&err)?);
    provenance::write(tree, diff_ids, &mut w).map_err(&err)?;
    w.into_inner().map_err(|e| err(e.into_error()))?.sync_all().map_err(&err)?;
    staging.commit_member("provenance.jsonl", path, force).map_err(&err)?;
    Ok(())
}

/// Puts the staged tar (or directory) in place, or copies the tar to stdout; returns the
/// bytes written.
fn commit(staging: Staging, dest: &Destination, dir: bool, force: bool, bytes: u64) -> Result<u64, Error> {
    reread::remove_spools(&staging);
    let err = output_error("the output");
    match dest {
        Destination::Path(p) => {
            staging.commit_member(if dir { ROOTFS_DIR } else { ROOTFS_TAR }, p, force).map_err(err)?;
            Ok(bytes)
        }
        Destination::Stdout => {
            let mut f = File::open(staging.dir.join(ROOTFS_TAR)).map_err(&err)?;
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            io::copy(&mut f, &mut lock).and_then(|_| lock.flush()).map_err(&err)?;
            Ok(bytes)
        }
    }
}
