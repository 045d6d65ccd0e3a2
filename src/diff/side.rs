//! One side of a diff: the images an input holds, as declared (inspect's reading: nothing is
//! hashed), or as a lock file records them.

use crate::commands::inspect;
use crate::digest::Digest;
use crate::error::Error;
use crate::formats::runtime::RunConfig;
use crate::lock;
use crate::model::select::{self, Selection};
use crate::scan::Compression;
use std::path::Path;

pub struct Side {
    /// The input as given.
    pub name: String,
    pub images: Vec<Img>,
    /// A lock file (it records no config and no files).
    pub lock: bool,
}

#[derive(Debug, Clone)]
pub struct Img {
    /// The archive it is in (`BUNDLE!MEMBER` inside a bundle), as reports name it.
    pub input: String,
    /// Its `@N` in that archive.
    pub index: usize,
    /// Full references, normalised, sorted.
    pub tags: Vec<String>,
    pub platform: Option<String>,
    pub image_id: Option<Digest>,
    pub manifest: Option<Digest>,
    pub layers: Vec<Layer>,
    /// What it runs with; `None` from a lock.
    pub config: Option<RunConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub diff_id: Option<Digest>,
    pub digest: Option<Digest>,
    pub size: Option<u64>,
}

/// Opens one side: a lock file, or anything inspect reads (archive, layout, bundle).
pub fn open(path: &Path, selection: &Selection, progress: bool) -> Result<Side, Error> {
    let name = path.display().to_string();
    if is_lock(path) {
        let l = lock::read(path)?;
        let images = select_locked(&l, selection, &name)?;
        return Ok(Side { name, images, lock: true });
    }
    let opts = inspect::Options { inputs: vec![path.to_path_buf()], selection: selection.clone(), progress };
    let report = inspect::run(&opts)?;
    // inspect reports an input it cannot open as its `input-unreadable` finding; for diff,
    // one side that cannot be opened ends the run (exit 2), saying why.
    if let Some(f) = report.inputs.iter().filter(|i| i.unreadable()).flat_map(|i| &i.findings).next() {
        return Err(Error::Usage(f.message.clone()));
    }
    if report.inputs.iter().all(|i| i.format.is_none()) {
        return Err(Error::Usage(format!(
            "{name} is not an image archive, layout, bundle of them, or airlock lock (airlock verify {name} says why)"
        )));
    }
    let mut images = Vec::new();
    for input in report.inputs.into_iter().filter(|i| i.format.is_some()) {
        for im in input.images {
            let mut tags: Vec<String> = im.tags.iter().map(|t| tag(t)).collect();
            tags.sort();
            tags.dedup();
            // An uncompressed blob (a legacy docker save declares no digest) is its diffID.
            let digest = |l: &crate::report::LayerReport| match l.compression {
                Some(Compression::None) => l.digest.or(l.diff_id),
                _ => l.digest,
            };
            let layers =
                im.layers.iter().map(|l| Layer { diff_id: l.diff_id, digest: digest(l), size: l.size }).collect();
            images.push(Img {
                input: input.path.clone(),
                index: im.index,
                tags,
                platform: im.platform,
                image_id: im.config_digest,
                manifest: im.manifest_digest,
                layers,
                config: im.config,
            });
        }
    }
    Ok(Side { name, images, lock: false })
}

/// A reference normalised (`nginx:1` is `docker.io/library/nginx:1`); an OCI ref name that
/// is only a tag (`1`) stays as it is.
fn tag(t: &str) -> String {
    if crate::model::reference::names_repository(t) { select::normalize(t) } else { t.to_string() }
}

/// A file that is one JSON document: a lock (`lock::read` says what is wrong with it). An
/// archive never is (a tar starts with a member name and ends in zero blocks).
fn is_lock(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    if !meta.is_file() || meta.len() > 32 << 20 {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else { return false };
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok()
}

/// The lock's images `--image` / `--platform` select: by tag, image ID or manifest digest
/// (full or its 12-digit short form), or position `@N`; a selection naming none is a usage
/// error as it is for an archive.
fn select_locked(l: &lock::Lock, selection: &Selection, name: &str) -> Result<Vec<Img>, Error> {
    let all: Vec<Img> = l.images.iter().enumerate().map(|(i, im)| locked(i, im)).collect();
    let picked: Vec<Img> = all
        .into_iter()
        .filter(|im| selection.images.is_empty() || selection.images.iter().any(|s| names(im, s)))
        .filter(|im| match (&selection.platform, &im.platform) {
            (None, _) => true,
            (Some(want), Some(p)) => crate::model::Platform::parse(p).is_some_and(|p| p.matches(want)),
            (Some(_), None) => false,
        })
        .collect();
    if picked.is_empty() && (!selection.images.is_empty() || selection.platform.is_some()) {
        return Err(Error::Selection {
            input: name.to_string(),
            message: "the selection matches no locked image".into(),
        });
    }
    Ok(picked)
}

fn locked(i: usize, im: &lock::LockImage) -> Img {
    let layers = im
        .layers
        .iter()
        .map(|l| Layer { diff_id: Some(l.diff_id), digest: Some(l.digest), size: Some(l.size) })
        .collect();
    let mut tags = im.tags.clone();
    tags.sort();
    Img {
        input: im.input.clone(),
        index: i,
        tags,
        platform: im.platform.clone(),
        image_id: Some(im.image_id),
        manifest: im.manifest_digest,
        layers,
        config: None,
    }
}

fn names(im: &Img, spec: &str) -> bool {
    if let Some(n) = spec.strip_prefix('@') {
        return n.parse::<usize>().is_ok_and(|n| n == im.index);
    }
    let hex = spec.strip_prefix("sha256:").unwrap_or(spec);
    let digest = |d: &Option<Digest>| d.is_some_and(|d| hex.len() >= 12 && d.hex().starts_with(hex));
    if digest(&im.image_id) || digest(&im.manifest) {
        return true;
    }
    let want = select::normalize(spec);
    im.tags.contains(&want)
}
