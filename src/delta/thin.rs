//! `delta NEW --have LOCK --thin-docker -o THIN.tar`: a docker-save archive that holds every
//! document of NEW and only the layers whose chain the far side's docker does not hold.
//!
//! The rule is moby's (image/tarexport/load.go, graph-driver store): for layer i of a
//! manifest.json entry, `docker load` looks up the chainID of layers 0..i in its layer store
//! and reads the layer file only when that chain is absent. A layer whose chain some locked
//! image has is left out here; a file another, new layer still needs stays. Measured with
//! docker 20.10, 26.1 and 28.5 (graph driver): the thin archive loads over the locked image,
//! with the same image ID; into a store that lacks a chain, `docker load` fails on the missing
//! file ("no such file or directory") and tags nothing. It does not load into Docker's
//! containerd image store (Docker 29's default), containerd or podman, which read every
//! layer of the archive: they refuse it.
//!
//! NEW is written as convert writes the docker format (it is verified fully on the way; an
//! input with errors is refused), then the held layers are left out of the staged copy, and
//! so are `index.json` and `oci-layout`: with them, Docker 28.5's containerd store exits 0 on
//! the thin archive and tags an image with no layers (measured); without them it refuses it
//! ("failed to resolve layers"), and the graph-driver stores read manifest.json only.

use super::plan::Have;
use crate::convert::{self, Outcome as Converted};
use crate::digest::Digest;
use crate::error::Error;
use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::input;
use crate::model::Model;
use crate::model::select::Selection;
use crate::output::{Destination, Staging};
use crate::report::{InputReport, Report};
use crate::scan::Depth;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path};

/// What a thin archive holds, against the full one.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ThinSummary {
    pub output: String,
    pub bytes: u64,
    pub images: usize,
    /// Layer files in the full docker archive, and those left out (held by the far side).
    pub layer_files: usize,
    pub omitted_files: usize,
    pub omitted_bytes: u64,
}

pub enum ThinOutcome {
    Written(ThinSummary),
    /// NEW has errors: nothing is written (exit 1).
    Refused(Report),
}

/// The OCI files of the docker format left out of a thin archive (see the module's notes).
const OCI_FILES: [&str; 2] = ["index.json", "oci-layout"];

/// Where NEW is written whole first, inside the staging area (removed before the commit).
const FULL: &str = ".airlock-full.tar";

pub fn run(opts: &super::Options, staging: Staging, out: &Path) -> Result<ThinOutcome, Error> {
    let [new] = opts.inputs.as_slice() else {
        return Err(Error::Usage(format!(
            "--thin-docker writes one docker archive from one NEW, and {} are given",
            opts.inputs.len()
        )));
    };
    let held = Have::read(&opts.have)?.chains;
    let full = staging.dir.join(FULL);
    let convert_opts = convert::Options {
        input: new.clone(),
        format: OutputFormat::Docker,
        output: Destination::Path(full.clone()),
        selection: Selection { images: Vec::new(), platform: None },
        tags: Vec::new(),
        compression: CompressionChoice::Keep,
        level: None,
        force: false,
        progress: opts.progress,
    };
    if let Converted::Refused { report, .. } = convert::run(&convert_opts)? {
        return Ok(ThinOutcome::Refused(refused(report)));
    }
    let loaded = input::load(&full, Depth::Documents, false)?;
    let (omitted, layer_files) = omitted(&loaded.model, &held);
    // The OCI manifests only index.json (left out) refers to.
    let manifests: BTreeSet<String> = loaded.model.images.iter().filter_map(|i| i.manifest_member.clone()).collect();
    let images = loaded.model.images.len();
    drop(loaded);
    let fail = |e: io::Error| Error::output(format!("cannot write {}", out.display()), e);
    let omitted_bytes = unpack_except(&full, &staging, &omitted, &manifests).map_err(fail)?;
    fs::remove_file(&full).map_err(fail)?;
    let bytes = staging.commit_tar(&Destination::Path(out.to_path_buf()), opts.force).map_err(fail)?;
    Ok(ThinOutcome::Written(ThinSummary {
        output: out.display().to_string(),
        bytes,
        images,
        layer_files,
        omitted_files: omitted.len(),
        omitted_bytes,
    }))
}

fn refused(report: InputReport) -> Report {
    Report { ok: false, inputs: vec![report], findings: Vec::new() }
}

/// The layer files to leave out: each layer whose chainID (of its image's config diffIDs) is
/// held, unless a layer that is not held uses the same file. Also the number of layer files.
fn omitted(model: &Model, held: &HashSet<Digest>) -> (BTreeSet<String>, usize) {
    let mut candidates = BTreeSet::new();
    let mut needed = BTreeSet::new();
    for image in &model.images {
        let diff_ids = match &image.config_doc {
            Some(Ok(c)) => c.diff_ids.clone(),
            _ => Vec::new(),
        };
        let chains = Digest::chain_ids(&diff_ids);
        for (i, layer) in image.layers.iter().enumerate() {
            // A layer the config does not describe (it cannot be: convert checked) is kept.
            if chains.get(i).is_some_and(|c| held.contains(c)) {
                candidates.insert(layer.member.clone());
            } else {
                needed.insert(layer.member.clone());
            }
        }
    }
    let files = candidates.union(&needed).count();
    (candidates.difference(&needed).cloned().collect(), files)
}

/// Unpacks airlock's own docker archive `full` into the staging area, leaving out the
/// `omitted` layers (returns their bytes), the `manifests` and the OCI files. Only directories
/// and regular files with plain relative names are expected (convert writes nothing else);
/// anything else is an error.
fn unpack_except(
    full: &Path,
    staging: &Staging,
    omitted: &BTreeSet<String>,
    manifests: &BTreeSet<String>,
) -> io::Result<u64> {
    let mut left_out = 0;
    let mut archive = tar::Archive::new(fs::File::open(full)?);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        let name = path.to_string_lossy().trim_end_matches('/').to_string();
        if OCI_FILES.contains(&name.as_str()) || manifests.contains(&name) {
            continue;
        }
        match entry.header().entry_type() {
            tar::EntryType::Directory if plain => {}
            tar::EntryType::Regular if plain && omitted.contains(&name) => left_out += entry.size(),
            tar::EntryType::Regular if plain => {
                let mut f = fs::File::create(staging.file(&name)?)?;
                io::copy(&mut entry, &mut f)?;
            }
            _ => {
                return Err(io::Error::other(format!("unexpected member {name} in the docker archive written")));
            }
        }
    }
    Ok(left_out)
}
