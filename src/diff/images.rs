//! Which image of A is which image of B, and what changed between the two: status, layers
//! (by diffID, and whether the blob is the same), config.

use super::side::{Img, Layer};
use crate::formats::runtime::RunConfig;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The same image ID, manifest and layer blobs, under the same tags.
    Same,
    /// The same image ID, manifest and layer blobs, under other tags.
    Retagged,
    /// Another image ID, or the same one stored otherwise (another manifest, layer blobs).
    Changed,
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
}

/// Whether two images are the same one, by one pass's rule.
type Same = dyn Fn(&Img, &Img) -> bool;

/// Pairs images: by tag and platform; then by image ID; then by repository and platform
/// where that names one image on each side; then the one image left on each side, if each
/// side has one left of the same platform. Returns (A index, B index) pairs, unpaired ones
/// with `None` on the other side.
pub fn pair(a: &[Img], b: &[Img]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut to_b: Vec<Option<usize>> = vec![None; a.len()];
    let mut taken = vec![false; b.len()];
    let passes: [&Same; 2] =
        [&|x, y| x.platform == y.platform && x.tags.iter().any(|t| y.tags.contains(t)), &|x, y| {
            x.platform == y.platform && x.image_id.is_some() && x.image_id == y.image_id
        }];
    for same in passes {
        for (i, x) in a.iter().enumerate() {
            if to_b[i].is_some() {
                continue;
            }
            if let Some(j) = (0..b.len()).find(|&j| !taken[j] && same(x, &b[j])) {
                to_b[i] = Some(j);
                taken[j] = true;
            }
        }
    }
    // By repository: only where it is one image on each side.
    let repo =
        |x: &Img, y: &Img| x.platform == y.platform && repositories(x).iter().any(|r| repositories(y).contains(r));
    for i in 0..a.len() {
        if to_b[i].is_some() {
            continue;
        }
        let bs: Vec<usize> = (0..b.len()).filter(|&j| !taken[j] && repo(&a[i], &b[j])).collect();
        let [j] = bs[..] else { continue };
        if (0..a.len()).filter(|&k| to_b[k].is_none() && repo(&a[k], &b[j])).count() == 1 {
            to_b[i] = Some(j);
            taken[j] = true;
        }
    }
    let left_a: Vec<usize> = (0..a.len()).filter(|&i| to_b[i].is_none()).collect();
    let left_b: Vec<usize> = (0..b.len()).filter(|&j| !taken[j]).collect();
    if let ([i], [j]) = (&left_a[..], &left_b[..])
        && a[*i].platform == b[*j].platform
    {
        to_b[*i] = Some(*j);
        taken[*j] = true;
    }
    let mut out: Vec<(Option<usize>, Option<usize>)> = to_b.iter().enumerate().map(|(i, j)| (Some(i), *j)).collect();
    out.extend((0..b.len()).filter(|&j| !taken[j]).map(|j| (None, Some(j))));
    out
}

/// The repositories an image is tagged in (`docker.io/library/nginx` of `…nginx:1`).
fn repositories(x: &Img) -> Vec<&str> {
    x.tags
        .iter()
        .map(|t| {
            let t = t.split_once('@').map_or(t.as_str(), |(n, _)| n);
            match t.rfind(':') {
                Some(c) if !t[c..].contains('/') => &t[..c],
                _ => t,
            }
        })
        .collect()
}

pub fn status(a: Option<&Img>, b: Option<&Img>) -> Status {
    match (a, b) {
        (Some(a), Some(b)) if same_image(a, b) && a.tags == b.tags => Status::Same,
        (Some(a), Some(b)) if same_image(a, b) => Status::Retagged,
        (Some(_), Some(_)) => Status::Changed,
        (None, _) => Status::Added,
        (Some(_), None) => Status::Removed,
    }
}

/// The same image ID, manifest and layer blobs.
fn same_image(a: &Img, b: &Img) -> bool {
    a.image_id.is_some() && a.image_id == b.image_id && a.manifest == b.manifest && a.layers == b.layers
}

/// One layer in a diff.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LayerEntry {
    pub diff_id: Option<crate::digest::Digest>,
    pub digest: Option<crate::digest::Digest>,
    pub size: Option<u64>,
    /// Shared layers: whether B stores it in the same blob as A (a delta ships nothing for
    /// it); absent where a blob digest is not declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_blob: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Layers {
    /// B's layers whose content A has (by diffID; by blob digest where a diffID is unknown).
    pub shared: Vec<LayerEntry>,
    /// B's layers A does not have.
    pub added: Vec<LayerEntry>,
    /// A's layers B does not have.
    pub removed: Vec<LayerEntry>,
    pub shared_bytes: u64,
    pub added_bytes: u64,
    pub removed_bytes: u64,
}

fn key(l: &Layer) -> Option<crate::digest::Digest> {
    l.diff_id.or(l.digest)
}

fn entry(l: &Layer, same_blob: Option<bool>) -> LayerEntry {
    LayerEntry { diff_id: l.diff_id, digest: l.digest, size: l.size, same_blob }
}

pub fn layers(a: &Img, b: &Img) -> Layers {
    let a_keys: HashSet<_> = a.layers.iter().filter_map(key).collect();
    let b_keys: HashSet<_> = b.layers.iter().filter_map(key).collect();
    let mut out = Layers::default();
    for l in &b.layers {
        let size = l.size.unwrap_or(0);
        match key(l).filter(|k| a_keys.contains(k)) {
            Some(k) => {
                let theirs: Vec<_> = a.layers.iter().filter(|x| key(x) == Some(k)).map(|x| x.digest).collect();
                let same = match l.digest {
                    Some(_) if theirs.contains(&l.digest) => Some(true),
                    Some(_) if theirs.iter().all(Option::is_some) => Some(false),
                    _ => None, // a blob digest not declared: unknown
                };
                out.shared.push(entry(l, same));
                out.shared_bytes += size;
            }
            None => {
                out.added.push(entry(l, None));
                out.added_bytes += size;
            }
        }
    }
    for l in a.layers.iter().filter(|l| key(l).is_none_or(|k| !b_keys.contains(&k))) {
        out.removed.push(entry(l, None));
        out.removed_bytes += l.size.unwrap_or(0);
    }
    out
}

/// One config field that differs: its name and both values.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigChange {
    pub field: &'static str,
    pub a: Value,
    pub b: Value,
}

/// The fields of what an image runs with that differ, in a fixed order.
pub fn config(a: &RunConfig, b: &RunConfig) -> Vec<ConfigChange> {
    let fields: [(&'static str, Value, Value); 8] = [
        ("user", json!(a.user), json!(b.user)),
        ("working_dir", json!(a.working_dir), json!(b.working_dir)),
        ("entrypoint", json!(a.entrypoint), json!(b.entrypoint)),
        ("cmd", json!(a.cmd), json!(b.cmd)),
        ("env", json!(a.env), json!(b.env)),
        ("labels", json!(a.labels), json!(b.labels)),
        ("exposed_ports", json!(a.exposed_ports), json!(b.exposed_ports)),
        ("volumes", json!(a.volumes), json!(b.volumes)),
    ];
    fields.into_iter().filter(|(_, x, y)| x != y).map(|(field, a, b)| ConfigChange { field, a, b }).collect()
}
