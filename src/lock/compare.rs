//! `verify --lock`: the inputs, together, against the lock.
//!
//! | rule | code | severity |
//! |---|---|---|
//! | every locked image is present, by image ID and platform | `lock-image-missing` | error |
//! | every locked tag is present, names the locked image, and every image holding it is one the lock pins under it | `lock-tag-mismatch` | error |
//! | an image the lock does not list | `lock-image-unlisted` | warning |
//! | same image, other manifest digest or layer blobs (where both sides have them) | `lock-manifest-changed` | warning |
//! | an image locked with signatures arrives with none of the locked signature blobs; with `--key`, a locked key fingerprint among the keys given verifies none of its signatures | `lock-signature-missing` | error |
//!
//! The format may differ: an image ID is the sha256 of the config, which carries the
//! diffIDs, so a docker-save archive and its OCI conversion hold the same images. What a
//! conversion does change (manifest digest, compressed blobs) is a warning, never silent.
//! A platform absent from a partial multi-platform archive is not present: a lock that pins
//! it fails.

use super::{Lock, LockImage};
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::reference;
use crate::report::{ImageReport, Report};
use std::collections::HashMap;

/// Where a finding belongs: an input's (by index in the report; the finding names the
/// image), or the set's.
pub enum Place {
    Input(usize),
    Set,
}

/// `keys`: the fingerprints of the `--key` keys given (empty without).
pub fn compare(lock: &Lock, report: &Report, keys: &[Digest]) -> Vec<(Place, Finding)> {
    let mut out = Vec::new();
    // Every image of the inputs, and by normalized tag.
    let all: Vec<(usize, &ImageReport)> =
        report.inputs.iter().enumerate().flat_map(|(n, input)| input.images.iter().map(move |im| (n, im))).collect();
    let mut by_tag: HashMap<String, Vec<(usize, &ImageReport)>> = HashMap::new();
    for (n, im) in &all {
        for t in &im.tags {
            by_tag.entry(reference::normalize(t)).or_default().push((*n, im));
        }
    }
    let same = |l: &LockImage, im: &ImageReport| {
        im.image_id == Some(l.image_id) && (l.platform.is_none() || im.platform.is_none() || im.platform == l.platform)
    };
    for l in &lock.images {
        let what = describe(l);
        let Some(&(n, im)) = all.iter().find(|(_, im)| same(l, im)) else {
            out.push((Place::Set, Finding::new(Code::LockImageMissing, format!("{what} is in none of the inputs"))));
            continue;
        };
        let here = |f: Finding| (Place::Input(n), f.image(im.index));
        for t in &l.tags {
            let holders = by_tag.get(t).map(Vec::as_slice).unwrap_or_default();
            if holders.is_empty() {
                out.push(here(Finding::new(Code::LockTagMismatch, format!("{what}: tag {t} is not in the inputs"))));
            } else if !holders.iter().any(|(_, h)| same(l, h)) {
                let ids: Vec<String> = holders.iter().filter_map(|(_, h)| h.image_id.map(|d| d.to_string())).collect();
                out.push(here(Finding::new(
                    Code::LockTagMismatch,
                    format!("{what}: tag {t} names {} instead", ids.join(", ")),
                )));
            }
        }
        if let (Some(want), Some(got)) = (l.manifest_digest, im.manifest_digest)
            && want != got
        {
            out.push(here(Finding::new(
                Code::LockManifestChanged,
                format!("{what}: the manifest digest is {got}, the lock says {want} (the image is the same)"),
            )));
        }
        let blobs: Vec<_> = im.layers.iter().map(|x| x.digest).collect();
        let locked: Vec<_> = l.layers.iter().map(|x| Some(x.digest)).collect();
        if blobs.len() == locked.len() && blobs.iter().all(Option::is_some) && blobs != locked {
            let changed = blobs.iter().zip(&locked).filter(|(a, b)| a != b).count();
            out.push(here(Finding::new(
                Code::LockManifestChanged,
                format!(
                    "{what}: {changed} of {} layer blobs differ from the lock's (re-compressed; the diffIDs are the same)",
                    blobs.len()
                ),
            )));
        }
        for f in left_behind(l, im, &what, keys) {
            out.push(here(f));
        }
    }
    out.extend(unpinned_holders(lock, &by_tag, same));
    // Images the lock does not list.
    for (n, im) in &all {
        let Some(id) = im.image_id else { continue };
        if !lock.images.iter().any(|l| same(l, im)) {
            let plat = im.platform.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
            out.push((
                Place::Input(*n),
                Finding::new(Code::LockImageUnlisted, format!("image {id}{plat} is not in the lock")).image(im.index),
            ));
        }
    }
    out
}

/// Every image holding a locked tag must be one the lock pins under that tag: a runtime
/// leaves the tag on the last image loaded, which need not be the locked one.
fn unpinned_holders(
    lock: &Lock,
    by_tag: &HashMap<String, Vec<(usize, &ImageReport)>>,
    same: impl Fn(&LockImage, &ImageReport) -> bool,
) -> Vec<(Place, Finding)> {
    let mut out = Vec::new();
    let mut tags: Vec<(&String, &Vec<(usize, &ImageReport)>)> = by_tag.iter().collect();
    tags.sort_by(|a, b| a.0.cmp(b.0));
    for (t, holders) in tags {
        let pinned: Vec<&LockImage> = lock.images.iter().filter(|l| l.tags.contains(t)).collect();
        if pinned.is_empty() {
            continue;
        }
        for (n, h) in holders.iter().filter(|(_, h)| !pinned.iter().any(|l| same(l, h))) {
            let id = h.image_id.map_or_else(|| "an image of unknown ID".to_string(), |d| d.to_string());
            let plat = h.platform.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
            let f = Finding::new(
                Code::LockTagMismatch,
                format!(
                    "tag {t}, which the lock pins, also names image {id}{plat}, which the lock does not pin under it"
                ),
            );
            out.push((Place::Input(*n), f.image(h.index)));
        }
    }
    out
}

/// `lock-signature-missing`: the locked signatures, matched by blob digest (a copy that
/// rewrites the signature manifest keeps its payload), and with `--key` the locked keys.
fn left_behind(l: &LockImage, im: &ImageReport, what: &str, keys: &[Digest]) -> Vec<Finding> {
    if l.signatures.is_empty() {
        return Vec::new();
    }
    let here = im.signatures.as_deref().unwrap_or_default();
    if !l.signatures.iter().any(|s| here.iter().any(|h| h.blob == Some(s.blob))) {
        let blobs: Vec<String> = l.signatures.iter().map(|s| s.blob.short()).collect();
        return vec![Finding::new(
            Code::LockSignatureMissing,
            format!(
                "{what} was locked with {} signature(s) ({}); none arrived: copied by a tool that leaves signatures behind (docker save, skopeo copy of the image alone, oras copy without -r, or without cosign's .sig tag)",
                l.signatures.len(),
                blobs.join(", ")
            ),
        )];
    }
    let mut locked: Vec<Digest> = l.signatures.iter().filter_map(|s| s.key).filter(|k| keys.contains(k)).collect();
    locked.sort();
    locked.dedup();
    locked
        .into_iter()
        .filter(|k| !here.iter().any(|h| h.verified_with.as_deref().and_then(Digest::parse) == Some(*k)))
        .map(|k| {
            Finding::new(
                Code::LockSignatureMissing,
                format!(
                    "{what} was locked with a signature verified by key {k}, which verifies none of its signatures now"
                ),
            )
        })
        .collect()
}

fn describe(l: &LockImage) -> String {
    let tag = l.tags.first().map(|t| format!(" {t}")).unwrap_or_default();
    let plat = l.platform.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
    format!("locked image{tag} {}{plat}", l.image_id.short())
}

/// The rule table above, rule by rule, on reports and locks written out as their JSON.
#[cfg(test)]
mod tests {
    use super::{Lock, Place, compare};
    use crate::finding::{Code, Severity};
    use crate::report::Report;
    use serde_json::{Value, json};

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn image(id: char, tags: &[&str], manifest: char, layer: char) -> Value {
        json!({"index": 0, "tags": tags, "platform": "linux/amd64", "image_id": d(id), "config_digest": d(id),
            "manifest_digest": d(manifest), "config_member": "c",
            "layers": [{"digest": d(layer), "size": 1, "media_type": null, "compression": "none",
                "diff_id": d('f'), "chain_id": d('f'), "uncompressed_size": 1, "member": "l"}]})
    }

    fn report(images: Vec<Value>) -> Report {
        let input = json!({"path": "app.tar", "format": "docker-archive", "compression": "none", "ok": true,
            "images": images, "findings": []});
        serde_json::from_value(json!({"ok": true, "inputs": [input]})).unwrap()
    }

    fn lock(id: char, tags: &[&str], manifest: char, layer: char) -> Lock {
        serde_json::from_value(json!({"version": 1, "inputs": [{"name": "app.tar", "format": "docker-archive",
            "size": null, "sha256": null}],
            "images": [{"image_id": d(id), "platform": "linux/amd64", "tags": tags, "manifest_digest": d(manifest),
                "input": "app.tar", "layers": [{"diff_id": d('f'), "digest": d(layer), "size": 1, "media_type": null}]}]}))
        .unwrap()
    }

    /// (code, severity, for the set rather than an input) of each finding.
    fn found(lock: &Lock, report: &Report) -> Vec<(Code, Severity, bool)> {
        compare(lock, report, &[]).into_iter().map(|(p, f)| (f.code, f.severity, matches!(p, Place::Set))).collect()
    }

    const TAG: &str = "docker.io/airlock/app:1";

    #[test]
    fn the_same_images_compare_equal_whatever_the_tag_spelling() {
        let l = lock('a', &[TAG], 'b', 'c');
        assert_eq!(found(&l, &report(vec![image('a', &[TAG], 'b', 'c')])), []);
        // A report of an older airlock spelled the tag as the archive did: still equal.
        assert_eq!(found(&l, &report(vec![image('a', &["airlock/app:1"], 'b', 'c')])), []);
    }

    #[test]
    fn a_missing_image_is_an_error_of_the_set() {
        let l = lock('a', &[TAG], 'b', 'c');
        let got = found(&l, &report(vec![image('e', &["other:1"], 'b', 'c')]));
        assert_eq!(
            got,
            [(Code::LockImageMissing, Severity::Error, true), (Code::LockImageUnlisted, Severity::Warning, false)]
        );
    }

    #[test]
    fn a_locked_tag_absent_or_on_another_image_is_an_error() {
        let l = lock('a', &[TAG], 'b', 'c');
        assert_eq!(
            found(&l, &report(vec![image('a', &[], 'b', 'c')])),
            [(Code::LockTagMismatch, Severity::Error, false)]
        );
        let got = found(&l, &report(vec![image('a', &[], 'b', 'c'), image('e', &[TAG], 'b', 'c')]));
        assert_eq!(
            got,
            [
                (Code::LockTagMismatch, Severity::Error, false),
                (Code::LockTagMismatch, Severity::Error, false),
                (Code::LockImageUnlisted, Severity::Warning, false),
            ]
        );
    }

    #[test]
    fn a_converted_image_is_the_same_image_with_a_warning() {
        let l = lock('a', &[TAG], 'b', 'c');
        let got = found(&l, &report(vec![image('a', &[TAG], '9', '8')]));
        assert_eq!(
            got,
            [
                (Code::LockManifestChanged, Severity::Warning, false),
                (Code::LockManifestChanged, Severity::Warning, false)
            ]
        );
    }
}
