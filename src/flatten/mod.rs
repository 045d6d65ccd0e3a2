//! `airlock flatten`: the root filesystem `airlock export` makes, as an image of one layer.
//!
//! The flow: export's two passes (`export::produce`: verified, overlay rules, refusals)
//! write the rootfs tar, in one pass, through the diffID's hasher and convert's encoder
//! into the new layer blob in the work area (its digest hashed as it is written): the layer
//! is never held whole, in memory or on disk. The config is the input's with
//! `rootfs.diff_ids` and `history` replaced (`config.rs`); config, manifest and `index.json`
//! (the tags kept) make an OCI layout in the work area (`layout.rs`), and convert writes
//! that in the format asked for: its writers, its atomic commit; the layer, already in the
//! compression asked for, is copied in convert's one read of it, which verifies it again.
//! The work area sits next to the output under a hidden name and is removed whatever
//! happens: nothing is left half-written, on an error or a refusal.

pub mod config;
pub mod layout;

use crate::convert;
use crate::digest::{Digest, HashWriter};
use crate::error::Error;
use crate::export::{self, Produced, Refused, Sink};
use crate::finding::Finding;
use crate::formats::oci::write::OutLayer;
use crate::formats::output::{CompressionChoice, OutputFormat};
use crate::model::select::Selection;
use crate::output::{Destination, Staging, StagingError};
use crate::report::ConvertSummary;
use crate::scan::Compression;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::PathBuf;

pub struct Options {
    pub input: PathBuf,
    pub format: OutputFormat,
    pub output: Destination,
    pub selection: Selection,
    /// gzip, zstd or none (`keep` is refused by the command line: the layer is new); convert
    /// is given the same, so it copies the layer.
    pub compression: CompressionChoice,
    pub level: Option<i32>,
    pub force: bool,
    pub progress: bool,
}

pub struct Summary {
    /// The image, as messages name it.
    pub image: String,
    /// The input image's layers.
    pub layers: usize,
    /// The new layer's diffID, and its blob's size.
    pub diff_id: Digest,
    pub paths: usize,
    pub files: usize,
    /// The input's warnings.
    pub findings: Vec<Finding>,
    /// What convert wrote (sizes, notes).
    pub written: ConvertSummary,
}

pub enum Outcome {
    Written(Summary),
    /// Nothing was written.
    Refused(Refused),
}

/// The new layer: its diffID and its blob, already in the work area's layout.
struct Layer {
    diff_id: Digest,
    blob: OutLayer,
}

/// The layout directory in the work area, and the new layer's name while it is written.
const LAYOUT: &str = "layout";
const PARTIAL: &str = "layout/layer.partial";

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    check_output(opts)?;
    let work = work_area(&opts.output)?;
    let (produced, layer) = match stream_layer(opts, &work)? {
        Ok(x) => x,
        Err(refused) => return Ok(Outcome::Refused(refused)),
    };
    let Some(cfg) = produced.config.as_deref() else {
        return Err(Error::Usage(format!("{}: image {} has no config", produced.input, produced.label)));
    };
    let cfg = config::rewrite(cfg, layer.diff_id, produced.image.layers.len()).map_err(|why| {
        Error::Usage(format!(
            "{}: image {}, config {}: {why}",
            produced.input, produced.label, produced.image.config.member
        ))
    })?;
    let dir = work.dir.join(LAYOUT);
    layout::write(&dir, &produced.image, &cfg, &layer.blob)
        .map_err(|e| Error::output("cannot write the work area", e))?;
    let convert = convert::Options {
        input: dir,
        format: opts.format,
        output: opts.output.clone(),
        selection: Selection::default(),
        tags: Vec::new(),
        compression: opts.compression,
        level: opts.level,
        force: opts.force,
        progress: opts.progress,
    };
    let written = match convert::run(&convert)? {
        convert::Outcome::Written(s) => s,
        // The layout made here failed convert's checks: a bug, and nothing is written.
        convert::Outcome::Refused { report, .. } => return Ok(Outcome::Refused(Refused::Findings(report))),
    };
    Ok(Outcome::Written(Summary {
        image: produced.label,
        layers: produced.image.layers.len(),
        diff_id: layer.diff_id,
        paths: produced.tree.len(),
        files: produced.files,
        findings: produced.findings,
        written,
    }))
}

/// Export's passes with the tar going, in the same write, through the diffID's hasher and
/// the encoder into the layer blob (its digest hashed as it is written).
fn stream_layer(opts: &Options, work: &Staging) -> Result<Result<(Produced, Layer), Refused>, Error> {
    let err = |e| Error::output("cannot write the flattened layer", e);
    let compression = layer_compression(opts);
    let partial = work.file(PARTIAL).map_err(err)?;
    let mut blob = HashWriter::new(BufWriter::with_capacity(256 * 1024, File::create(&partial).map_err(err)?));
    let encoder = convert::Encoder::new(compression, opts.level, &mut blob).map_err(err)?;
    let mut tar = HashWriter::new(encoder);
    let produced = match export::produce(&opts.input, &opts.selection, opts.progress, work, Sink::Writer(&mut tar))? {
        Ok(p) => p,
        Err(refused) => return Ok(Err(refused)),
    };
    let (encoder, diff_id, _) = tar.into_parts();
    encoder.finish().map_err(err)?;
    let (file, digest, size) = blob.into_parts();
    file.into_inner().map_err(|e| err(e.into_error()))?.sync_all().map_err(err)?;
    let path = work.file(&format!("{LAYOUT}/blobs/sha256/{}", digest.hex())).map_err(err)?;
    fs::rename(&partial, &path).map_err(err)?;
    Ok(Ok((produced, Layer { diff_id, blob: OutLayer { digest, size, compression } })))
}

/// The new layer's compression: what the format holds (crane: gzip), as asked.
fn layer_compression(opts: &Options) -> Compression {
    opts.format.layer_compression(opts.compression, Compression::Gzip)
}

/// What convert would refuse about the output, refused before the layers are read.
fn check_output(opts: &Options) -> Result<(), Error> {
    match &opts.output {
        Destination::Stdout if !opts.format.is_tar() => {
            Err(Error::Usage("-o - (stdout) needs a tar format: oci-archive, docker or crane".into()))
        }
        Destination::Stdout => Ok(()),
        Destination::Path(p) => {
            crate::output::paths::check_output(&opts.input, p)?;
            if opts.format.is_tar() && p.is_dir() {
                return Err(Error::Usage(format!(
                    "{} is a directory and {} writes a file; airlock never deletes a directory to replace it",
                    p.display(),
                    opts.format.as_str()
                )));
            }
            if std::fs::symlink_metadata(p).is_ok() && !opts.force {
                return Err(Error::Usage(format!("{} exists; give --force to replace it", p.display())));
            }
            Ok(())
        }
    }
}

/// The work area: a staging area of its own next to the output (`.OUT.flatten.airlock-tmp-…`,
/// in the temp dir for stdout), removed when dropped.
fn work_area(dest: &Destination) -> Result<Staging, Error> {
    let work = match dest {
        Destination::Path(p) => {
            let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                return Err(Error::Usage(format!("-o {}: the output path has no file name", p.display())));
            };
            Destination::Path(p.with_file_name(format!("{name}.flatten")))
        }
        Destination::Stdout => Destination::Stdout,
    };
    let staging = Staging::new(&work).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => Error::output("cannot create the work area", e),
    })?;
    for n in &staging.notes {
        eprintln!("airlock: {n}");
    }
    Ok(staging)
}
