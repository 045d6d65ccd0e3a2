//! Signatures, attestations and SBOMs travel with their image (the output formats that
//! carry them: `oci` and `oci-archive`). An artifact is carried when the manifest (or index) it is about is written with
//! its bytes unchanged, so its digest, which the signature names, still holds; its manifest
//! and blobs are copied byte for byte, each hashed as it is copied. One about an image whose
//! manifest changed (re-compressed layers, a rewritten index) is not carried: it would vouch
//! for a digest that is no longer there. Which image an artifact is about comes from the model
//! (`formats::artifacts::subject`).

use crate::digest::{Digest, HashWriter};
use crate::formats::output::{BlobKind, OutputFormat};
use crate::model::Artifact;
use crate::open::Catalog;
use crate::output::Staging;
use std::fs::{self, File};
use std::io::{self, BufWriter};

/// Copies the artifact's manifest and blobs into the output. `Ok(Err(why))`: a blob is not
/// what its digest says (reported by verify; carried by nothing), so the artifact is left out.
pub fn copy(
    catalog: &Catalog,
    staging: &Staging,
    format: OutputFormat,
    a: &Artifact,
) -> io::Result<Result<(), String>> {
    let Some(digest) = a.digest else { return Ok(Err(format!("{} has no digest", a.member))) };
    let members = std::iter::once((a.member.as_str(), Some(digest), BlobKind::Document))
        .chain(a.blobs.iter().map(|b| (b.member.as_str(), b.digest, BlobKind::Layer)));
    for (member, want, role) in members {
        let Some(want) = want else { return Ok(Err(format!("{member} has no digest"))) };
        let tmp = staging.file(&format!(".partial/artifact-{}", want.hex()))?;
        let mut input = match catalog.open_member(member) {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("{member} cannot be read: {e}"))),
        };
        let mut out = HashWriter::new(BufWriter::new(File::create(&tmp)?));
        io::copy(&mut input, &mut out)?;
        let (got, _) = out.finish()?;
        if got != want {
            let _ = fs::remove_file(&tmp);
            return Ok(Err(format!("{member} hashes to {got}, not {want}")));
        }
        fs::rename(&tmp, staging.file(&format.blob_path(role, &got))?)?;
    }
    Ok(Ok(()))
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
