//! Signatures, attestations and SBOMs travel with their image (the output formats that
//! carry them: `oci` and `oci-archive`). An artifact is carried when the manifest (or index) it is about is written with
//! its bytes unchanged, so its digest, which the signature names, still holds; its manifest
//! and blobs are copied byte for byte, each hashed as it is copied, before the documents are
//! planned (`stage_all`), and placed by the plan if it goes along. One about an image whose
//! manifest changed (re-compressed layers, a rewritten index) is not carried: it would vouch
//! for a digest that is no longer there. Which image an artifact is about comes from the model
//! (`formats::artifacts::subject`).

use crate::digest::{Digest, HashWriter};
use crate::formats::output::{BlobKind, OutputFormat};
use crate::model::{Artifact, Image};
use crate::open::Catalog;
use crate::output::Staging;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// An artifact's manifest and blobs copied into the staging area, each hashed as it was
/// copied, waiting for the plan to place them (`plan::Documents::staged`) if the artifact
/// goes along; or why it cannot: an artifact goes along whole or not at all.
pub enum Staged {
    /// Where each goes in the output, and the copy waiting for it, in the order copied.
    Copied(Vec<(String, PathBuf)>),
    /// Why the copy stopped, naming the artifact, the image it is about and the member: one
    /// with no digest, that cannot be read, or that is not what its digest says (reported by
    /// verify). The copies made before it are removed: none of them reaches the output,
    /// where nothing would reference them.
    Failed(String),
}

/// Copies, before the documents are planned, every artifact that can go along with the
/// selected images (one about an image left out of the selection cannot), by digest (the
/// first of a digest, as an index entry finds it: [`find`]).
pub fn stage_all(
    catalog: &Catalog,
    staging: &Staging,
    format: OutputFormat,
    artifacts: &[Artifact],
    all: &[Image],
    selected: &[&Image],
) -> io::Result<HashMap<Digest, Staged>> {
    let chosen: HashSet<Digest> = selected.iter().filter_map(|i| i.manifest_digest).collect();
    let left_out: HashSet<Digest> =
        all.iter().filter_map(|i| i.manifest_digest).filter(|d| !chosen.contains(d)).collect();
    let mut out = HashMap::new();
    for a in artifacts {
        let Some(d) = a.digest else { continue };
        // Without a subject, or about an image left out, it cannot go along.
        let can_go = a.subject.is_some_and(|s| !left_out.contains(&s));
        if !can_go || out.contains_key(&d) {
            continue;
        }
        let n = out.len();
        let staged = match stage(catalog, staging, format, a, d, n)? {
            Ok(files) => Staged::Copied(files),
            Err(why) => Staged::Failed(format!("{} {why}", named(a, d, all))),
        };
        out.insert(d, staged);
    }
    Ok(out)
}

/// "signature sha256:c4dd… (blobs/sha256/c4dd…) about image @0 docker.io/a/b:1 (manifest
/// sha256:aadb…)": the artifact, its manifest member and the image it is about.
fn named(a: &Artifact, d: Digest, all: &[Image]) -> String {
    let about = match a.subject {
        Some(s) => match all.iter().position(|i| i.manifest_digest == Some(s)) {
            Some(i) => {
                let tag = all[i].tags.first().map_or("<untagged>", String::as_str);
                format!(" about image @{i} {tag} (manifest {s})")
            }
            None => format!(" about {s}"),
        },
        None => String::new(),
    };
    format!("{} {d} ({}){about}", a.kind, a.member)
}

/// Copies the artifact's manifest (of digest `digest`) and blobs into `.partial/` (artifact
/// `n`), each hashed as it is copied. At the first that is not what its digest says, the
/// copies made are removed and why is the error.
fn stage(
    catalog: &Catalog,
    staging: &Staging,
    format: OutputFormat,
    a: &Artifact,
    digest: Digest,
    n: usize,
) -> io::Result<Result<Vec<(String, PathBuf)>, String>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let members = std::iter::once((a.member.as_str(), Some(digest), BlobKind::Document))
        .chain(a.blobs.iter().map(|b| (b.member.as_str(), b.digest, BlobKind::Layer)));
    for (i, (member, want, role)) in members.enumerate() {
        let tmp = staging.file(&format!(".partial/artifact-{n}-{i}"))?;
        match copy_checked(catalog, member, want, &tmp)? {
            Ok(got) => files.push((format.blob_path(role, &got), tmp)),
            Err(why) => {
                for (_, copy) in files {
                    fs::remove_file(copy)?;
                }
                return Ok(Err(why));
            }
        }
    }
    Ok(Ok(files))
}

/// Copies `member` to `tmp`, hashing it: its digest if it is `want`, else why not (`tmp`
/// removed). An output that cannot be written is the `io::Error`.
fn copy_checked(
    catalog: &Catalog,
    member: &str,
    want: Option<Digest>,
    tmp: &Path,
) -> io::Result<Result<Digest, String>> {
    let Some(want) = want else {
        return Ok(Err(format!("is not carried: its member {member} has no digest")));
    };
    let mut input = match catalog.open_member(member) {
        Ok(r) => r,
        Err(e) => return Ok(Err(format!("is not carried: its member {member} cannot be read: {e}"))),
    };
    let mut out = HashWriter::new(BufWriter::new(File::create(tmp)?));
    io::copy(&mut input, &mut out)?;
    let (got, _) = out.finish()?;
    if got != want {
        fs::remove_file(tmp)?;
        return Ok(Err(format!("is not carried: its member {member} hashes to {got}, not {want}")));
    }
    Ok(Ok(got))
}

/// The artifact an index entry of digest `d` is, if any.
pub fn find(artifacts: &[Artifact], d: Digest) -> Option<&Artifact> {
    artifacts.iter().find(|a| a.digest == Some(d))
}

/// "2 artifacts (attestation, signature)".
fn counted(list: &[&Artifact]) -> String {
    let mut kinds: Vec<&str> = list.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let n = list.len();
    format!("{n} artifact{} ({})", if n == 1 { "" } else { "s" }, kinds.join(", "))
}

/// What to tell the user about the artifacts written.
pub fn carried_note(kept: &[&Artifact]) -> Option<String> {
    (!kept.is_empty()).then(|| format!("{} carried with the image, byte for byte", counted(kept)))
}

/// What to tell the user about artifacts of the selected images that are not in the output.
pub fn dropped_note(dropped: &[&Artifact], why: &str) -> Option<String> {
    (!dropped.is_empty()).then(|| format!("{} of the selected images not carried: {why}", counted(dropped)))
}
