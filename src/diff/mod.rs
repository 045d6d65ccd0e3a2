//! `airlock diff A B`: what changed between two inputs (archives, layouts, bundles or lock
//! files): images added, removed and retagged; per image pair the layers shared, added and
//! removed with their bytes (what a delta shipment reuses), the config fields that differ,
//! and with `--files` the paths that differ in the two final filesystems.
//!
//! Images and layers are compared as declared (inspect's reading, `side.rs`): nothing is
//! hashed but with `--files`, where each changed pair's filesystems are made as `airlock
//! export` makes them, verified as they are read (`files.rs`).

pub mod files;
pub mod images;
pub mod print;
pub mod side;

use crate::digest::Digest;
use crate::error::Error;
use crate::export::Refused;
use crate::model::select::Selection;
use images::{ConfigChange, Layers, Status};
use serde::Serialize;
use side::{Img, Side};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

pub struct Options {
    pub a: PathBuf,
    pub b: PathBuf,
    pub selection: Selection,
    pub files: bool,
    pub progress: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Diff {
    /// Nothing differs (exit 0).
    pub equal: bool,
    pub a: SideSummary,
    pub b: SideSummary,
    /// Sorted: by B's (else A's) first tag, then platform.
    pub images: Vec<ImageDiff>,
    pub blobs: Blobs,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SideSummary {
    pub path: String,
    pub images: usize,
    /// A lock file: no config, no files.
    pub lock: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImageRef {
    /// The archive it is in (`BUNDLE!MEMBER` in a bundle; a lock names the input it pinned).
    pub input: String,
    /// Its `@N` there.
    pub index: usize,
    pub tags: Vec<String>,
    pub image_id: Option<Digest>,
    pub manifest_digest: Option<Digest>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImageDiff {
    pub status: Status,
    pub platform: Option<String>,
    pub a: Option<ImageRef>,
    pub b: Option<ImageRef>,
    /// A pair's layers; `null` for an image on one side only.
    pub layers: Option<Layers>,
    /// A pair's config fields that differ; `null` when a side is a lock (it records none).
    pub config: Option<Vec<ConfigChange>>,
    /// `--files`, a changed pair: the paths that differ, in walk order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<files::FileChange>>,
}

/// B's layer blobs against A's, by digest: what a delta from A to B reuses and ships.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Blobs {
    pub b_blobs: usize,
    pub b_bytes: u64,
    pub reused_blobs: usize,
    pub reused_bytes: u64,
    pub new_blobs: usize,
    pub new_bytes: u64,
}

pub enum Outcome {
    Compared(Diff),
    /// `--files`: export refuses an image of one side (nothing compared).
    Refused {
        side: String,
        refused: Refused,
    },
}

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    let a = side::open(&opts.a, &opts.selection, opts.progress)?;
    let b = side::open(&opts.b, &opts.selection, opts.progress)?;
    if opts.files
        && let Some(l) = [&a, &b].into_iter().find(|s| s.lock)
    {
        return Err(Error::Usage(format!(
            "--files compares filesystems, and {} is a lock (it records no files): give the archives",
            l.name
        )));
    }
    let mut out = Vec::new();
    for (i, j) in images::pair(&a.images, &b.images) {
        let (x, y) = (i.map(|i| &a.images[i]), j.map(|j| &b.images[j]));
        let mut d = image_diff(x, y);
        if opts.files
            && d.status == Status::Changed
            && let (Some(x), Some(y)) = (x, y)
        {
            match changed_files(opts, x, y)? {
                Ok(f) => d.files = Some(f),
                Err((side, refused)) => return Ok(Outcome::Refused { side, refused }),
            }
        }
        out.push(d);
    }
    out.sort_by_cached_key(|d| {
        let r = d.b.as_ref().or(d.a.as_ref());
        (r.and_then(|r| r.tags.first().cloned()).unwrap_or_default(), d.platform.clone(), r.map(|r| r.index))
    });
    let equal = out.iter().all(|d| d.status == Status::Same);
    let summary = |s: &Side| SideSummary { path: s.name.clone(), images: s.images.len(), lock: s.lock };
    Ok(Outcome::Compared(Diff { equal, a: summary(&a), b: summary(&b), images: out, blobs: blobs(&a, &b) }))
}

fn image_ref(x: &Img) -> ImageRef {
    ImageRef {
        input: x.input.clone(),
        index: x.index,
        tags: x.tags.clone(),
        image_id: x.image_id,
        manifest_digest: x.manifest,
    }
}

fn image_diff(x: Option<&Img>, y: Option<&Img>) -> ImageDiff {
    let layers = x.zip(y).map(|(x, y)| images::layers(x, y));
    let config = x.zip(y).and_then(|(x, y)| Some(images::config(x.config.as_ref()?, y.config.as_ref()?)));
    ImageDiff {
        status: images::status(x, y),
        platform: y.or(x).and_then(|i| i.platform.clone()),
        a: x.map(image_ref),
        b: y.map(image_ref),
        layers,
        config,
        files: None,
    }
}

/// The paths that differ between the final filesystems of a pair, or which side's image
/// export refused.
fn changed_files(opts: &Options, x: &Img, y: &Img) -> Result<Result<Vec<files::FileChange>, (String, Refused)>, Error> {
    let fa = match files::of(&opts.a, x, opts.progress)? {
        Ok(f) => f,
        Err(r) => return Ok(Err((opts.a.display().to_string(), r))),
    };
    let fb = match files::of(&opts.b, y, opts.progress)? {
        Ok(f) => f,
        Err(r) => return Ok(Err((opts.b.display().to_string(), r))),
    };
    Ok(Ok(files::compare(&fa, &fb)))
}

/// B's distinct layer blobs, and which of them A holds.
fn blobs(a: &Side, b: &Side) -> Blobs {
    let have: HashSet<Digest> = a.images.iter().flat_map(|i| i.layers.iter().filter_map(|l| l.digest)).collect();
    let mut mine: BTreeMap<Digest, u64> = BTreeMap::new();
    for l in b.images.iter().flat_map(|i| &i.layers) {
        if let Some(d) = l.digest {
            mine.insert(d, l.size.unwrap_or(0));
        }
    }
    let mut out = Blobs::default();
    for (d, size) in mine {
        out.b_blobs += 1;
        out.b_bytes += size;
        if have.contains(&d) {
            out.reused_blobs += 1;
            out.reused_bytes += size;
        } else {
            out.new_blobs += 1;
            out.new_bytes += size;
        }
    }
    out
}
