//! Writing a lock: from verify's report of the inputs, sorted so that the same inputs give
//! the same bytes, pretty-printed so that a change shows as a readable diff.

use super::{Lock, LockImage, LockInput, LockLayer, LockSignature, VERSION, VERSION_SIGNED};
use crate::digest::Digest;
use crate::model::reference;
use crate::report::Report;
use std::path::Path;

/// The lock of a verified report. `file_digests` holds, per input path, the sha256 and size
/// of the file as carried (`None` for a directory). Images whose values could not be
/// recomputed (only with `--force`) are left out, and named in the returned notes.
pub fn build(report: &Report, file_digests: &[(String, Option<(Digest, u64)>)]) -> (Lock, Vec<String>) {
    let mut inputs = Vec::new();
    let mut images = Vec::new();
    let mut notes = Vec::new();
    for input in &report.inputs {
        let name = base_name(&input.path);
        let file = file_digests.iter().find(|(p, _)| p == &input.path).and_then(|(_, d)| *d);
        inputs.push(LockInput {
            name: name.clone(),
            format: input.format.map(|f| f.as_str().to_string()),
            size: file.map(|(_, n)| n),
            sha256: file.map(|(d, _)| d),
        });
        for im in &input.images {
            let layers: Option<Vec<LockLayer>> = im
                .layers
                .iter()
                .map(|l| {
                    Some(LockLayer {
                        diff_id: l.diff_id?,
                        digest: l.digest?,
                        size: l.size?,
                        media_type: l.media_type.clone(),
                    })
                })
                .collect();
            let (Some(image_id), Some(layers)) = (im.image_id, layers) else {
                notes.push(format!(
                    "{}: image @{} is not locked: its config or a layer could not be read",
                    input.path, im.index
                ));
                continue;
            };
            let mut tags: Vec<String> = im.tags.iter().map(|t| reference::normalize(t)).collect();
            tags.sort();
            tags.dedup();
            images.push(LockImage {
                image_id,
                platform: im.platform.clone(),
                tags,
                manifest_digest: im.manifest_digest,
                input: name.clone(),
                layers,
                signatures: signatures(im),
            });
        }
    }
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    inputs.dedup();
    images.sort_by(|a, b| (&a.image_id, &a.platform, &a.input).cmp(&(&b.image_id, &b.platform, &b.input)));
    let version = if images.iter().any(|i| !i.signatures.is_empty()) { VERSION_SIGNED } else { VERSION };
    (Lock { version, inputs, images }, notes)
}

/// The signatures an image carried (those with a blob digest), sorted, each once.
fn signatures(im: &crate::report::ImageReport) -> Vec<LockSignature> {
    let mut out: Vec<LockSignature> = im
        .signatures
        .iter()
        .flatten()
        .filter_map(|s| {
            Some(LockSignature {
                manifest: s.manifest,
                layer: s.layer,
                blob: s.blob?,
                key: s.verified_with.as_deref().and_then(Digest::parse),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The lock as written: pretty JSON (two-space indent) and a final newline.
pub fn to_bytes(lock: &Lock) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(lock).expect("a lock serializes");
    b.push(b'\n');
    b
}

fn base_name(path: &str) -> String {
    let p = Path::new(path.trim_end_matches('/'));
    p.file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}
