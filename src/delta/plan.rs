//! What each NEW archive needs: verify it fully, then match its layer blobs against the
//! locks of what the far side holds. The result says, member by member, what is shipped and
//! what is taken from the far side.

use super::format::{self, HaveLock, HaveRef, Link, Match, Need};
use crate::digest::Digest;
use crate::error::Error;
use crate::finding::{Code, Finding};
use crate::input::{Loaded, load};
use crate::lock::Lock;
use crate::model::select::{self, Selection};
use crate::open::MemberKind;
use crate::report::InputReport;
use crate::scan::{Compression, Content, Depth};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The blobs the far side holds, from the locks given with `--have`.
pub struct Have {
    pub locks: Vec<HaveLock>,
    by_digest: HashMap<Digest, (u64, HaveRef)>,
    by_diff_id: HashMap<Digest, HaveRef>,
    /// The chainIDs of every locked image's layers (`--thin-docker`: what its docker holds).
    pub chains: std::collections::HashSet<Digest>,
}

impl Have {
    /// Reads the locks (a bad lock is a usage error, as for `verify --lock`).
    pub fn read(paths: &[std::path::PathBuf]) -> Result<Have, Error> {
        let mut have = Have {
            locks: Vec::new(),
            by_digest: HashMap::new(),
            by_diff_id: HashMap::new(),
            chains: Default::default(),
        };
        for p in paths {
            let lock = crate::lock::read(p).map_err(|e| Error::Usage(e.to_string()))?;
            let bytes = std::fs::read(p).map_err(|e| Error::Usage(format!("cannot read {}: {e}", p.display())))?;
            let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
            have.add(&name, &lock);
            let inputs = lock.inputs.iter().map(|i| i.name.clone()).collect();
            have.locks.push(HaveLock { name, sha256: Digest::of(&bytes), inputs });
        }
        Ok(have)
    }

    fn add(&mut self, name: &str, lock: &Lock) {
        for image in &lock.images {
            let at = HaveRef {
                lock: name.to_string(),
                input: image.input.clone(),
                image_id: image.image_id,
                tags: image.tags.clone(),
            };
            for l in &image.layers {
                self.by_digest.entry(l.digest).or_insert((l.size, at.clone()));
                self.by_diff_id.entry(l.diff_id).or_insert(at.clone());
            }
            let diff_ids: Vec<Digest> = image.layers.iter().map(|l| l.diff_id).collect();
            self.chains.extend(Digest::chain_ids(&diff_ids));
        }
    }

    /// How the far side can give a layer stored as `digest` (`size` bytes), whose
    /// decompressed stream is `diff_id`: by the same blob, or, for an uncompressed layer, by
    /// any blob of that diffID.
    fn find(&self, digest: Digest, size: u64, plain: bool) -> Option<(Match, &HaveRef)> {
        if let Some((s, at)) = self.by_digest.get(&digest)
            && *s == size
        {
            return Some((if plain { Match::DiffId } else { Match::Digest }, at));
        }
        // An uncompressed layer's digest is its diffID.
        plain.then(|| self.by_diff_id.get(&digest).map(|at| (Match::DiffId, at))).flatten()
    }
}

/// One NEW archive, verified and planned.
pub struct Planned {
    pub loaded: Loaded,
    pub archive: format::Archive,
    pub report: ArchivePlan,
}

/// `delta --plan` (and the summary after writing): bytes to ship against the full archive.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ArchivePlan {
    pub name: String,
    pub format: String,
    /// Every file member of NEW together.
    pub full_bytes: u64,
    /// Those the delta carries.
    pub shipped_bytes: u64,
    pub needed_blobs: usize,
    pub needed_bytes: u64,
    pub images: Vec<ImagePlan>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImagePlan {
    pub tags: Vec<String>,
    pub image_id: Digest,
    pub platform: Option<String>,
    pub layers: usize,
    pub layer_bytes: u64,
    pub shipped_layers: usize,
    pub shipped_layer_bytes: u64,
}

/// Why NEW is not planned.
pub enum Refusal {
    Usage(Error),
    /// NEW has error findings: nothing is written (a delta of a broken archive would carry it).
    Failed(Box<InputReport>),
}

/// Verifies NEW (read from `read`, named `name`) and plans it against `have`.
pub fn plan(
    read: &Path,
    name: &str,
    outer: Option<Compression>,
    have: &Have,
    progress: bool,
) -> Result<Planned, Refusal> {
    let usage = |m: String| Refusal::Usage(Error::Usage(m));
    let loaded = load(read, Depth::Full, progress).map_err(Refusal::Usage)?;
    let Some(fmt) = loaded.model.format else {
        return Err(usage(format!(
            "{name} is not an image archive (a bundle, or not an archive): take the archive out of it first (airlock convert BUNDLE --image … -o ARCHIVE)"
        )));
    };
    let all = Selection { images: Vec::new(), platform: None };
    let mut input =
        crate::report::build::report_input(Path::new(name), &loaded, &all, crate::report::build::recomputed)
            .map_err(Refusal::Usage)?;
    input.compression = outer.unwrap_or_default();
    if !input.ok {
        return Err(Refusal::Failed(Box::new(input)));
    }
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    let mut images = Vec::new();
    let mut image_plans = Vec::new();
    for (i, image) in loaded.model.images.iter().enumerate() {
        let id = input.images[i].image_id.ok_or_else(|| usage(format!("{name}: image @{i} has no config")))?;
        let mut ip = ImagePlan {
            tags: input.images[i].tags.iter().map(|t| crate::model::reference::normalize(t)).collect(),
            image_id: id,
            platform: select::platform_of(image).map(|p| p.to_string()),
            layers: image.layers.len(),
            layer_bytes: 0,
            shipped_layers: 0,
            shipped_layer_bytes: 0,
        };
        match_layers(&loaded, name, image, have, &mut needs, &mut ip).map_err(|e| Refusal::Usage(Error::Usage(e)))?;
        images.push(format::Image {
            image_id: id,
            platform: ip.platform.clone(),
            tags: ip.tags.clone(),
            manifest_digest: image.manifest_digest,
        });
        image_plans.push(ip);
    }
    let (members, links, needs) = match split_members(&loaded, name, needs) {
        Ok(s) => s,
        Err(f) => {
            input.findings.push(f);
            input.ok = false;
            return Err(Refusal::Failed(Box::new(input)));
        }
    };
    let full_bytes: u64 = members.iter().map(|m| m.size).sum::<u64>() + needs.iter().map(|n| n.size).sum::<u64>();
    let needed_bytes: u64 = needs.iter().map(|n| n.size).sum();
    let report = ArchivePlan {
        name: name.to_string(),
        format: fmt.as_str().to_string(),
        full_bytes,
        shipped_bytes: full_bytes - needed_bytes,
        needed_blobs: needs.len(),
        needed_bytes,
        images: image_plans,
    };
    let archive = format::Archive {
        name: name.to_string(),
        format: fmt.as_str().to_string(),
        directory: loaded.catalog.is_dir,
        compression: outer.filter(|c| *c != Compression::None).map(|c| c.as_str().to_string()),
        images,
        members,
        links,
        needs,
    };
    Ok(Planned { loaded, archive, report })
}

/// Matches each layer of one image against what the far side has: a match becomes a need
/// (one per member, however many images share it), the rest is shipped.
fn match_layers(
    loaded: &Loaded,
    name: &str,
    image: &crate::model::Image,
    have: &Have,
    needs: &mut BTreeMap<String, Need>,
    ip: &mut ImagePlan,
) -> Result<(), String> {
    let id = ip.image_id;
    for l in &image.layers {
        let (real, m) = loaded.catalog.resolve(&l.member).map_err(|e| format!("{name}: layer {}: {e:?}", l.member))?;
        let scan = m.scan.as_ref().ok_or_else(|| format!("{name}: layer {real} was not read"))?;
        let (Some(digest), Content::Layer(ls)) = (scan.digest, &scan.content) else {
            return Err(format!("{name}: layer {real} was not read as a layer"));
        };
        ip.layer_bytes += scan.size;
        match have.find(digest, scan.size, ls.compression == Compression::None) {
            Some((how, at)) => {
                let need = needs.entry(real.to_string()).or_insert_with(|| Need {
                    path: real.to_string(),
                    digest,
                    size: scan.size,
                    how,
                    images: Vec::new(),
                    have: at.clone(),
                });
                if !need.images.contains(&id) {
                    need.images.push(id);
                }
            }
            None => {
                ip.shipped_layers += 1;
                ip.shipped_layer_bytes += scan.size;
            }
        }
    }
    Ok(())
}

type Split = (Vec<format::Member>, Vec<Link>, Vec<Need>);

/// Every member of NEW: shipped (a file, with the digest verify computed), a symlink, or
/// needed (a layer the far side has; a hard link to one is needed too, under its own path).
fn split_members(loaded: &Loaded, name: &str, mut needs: BTreeMap<String, Need>) -> Result<Split, Finding> {
    let mut members = Vec::new();
    let mut links = Vec::new();
    let mut extra = Vec::new();
    for (path, m) in &loaded.catalog.members {
        match &m.kind {
            MemberKind::Dir => {}
            MemberKind::Symlink(t) => links.push(Link { path: path.clone(), target: t.clone() }),
            MemberKind::File | MemberKind::Hardlink(_) => {
                if needs.contains_key(path) {
                    continue;
                }
                let (real, file) =
                    loaded.catalog.resolve(path).map_err(|e| unreadable(name, path, &format!("{e:?}")))?;
                if let Some(n) = needs.get(real) {
                    extra.push(Need { path: path.clone(), ..n.clone() });
                    continue;
                }
                let digest = file.scan.as_ref().and_then(|s| s.digest);
                let digest = digest.ok_or_else(|| unreadable(name, path, "it was not read"))?;
                members.push(format::Member { path: path.clone(), digest, size: file.size });
            }
            MemberKind::Other => {
                return Err(unreadable(
                    name,
                    path,
                    "it is neither a file, a directory nor a link; a delta does not carry it",
                ));
            }
        }
    }
    for n in extra {
        needs.insert(n.path.clone(), n);
    }
    Ok((members, links, needs.into_values().collect()))
}

fn unreadable(name: &str, path: &str, why: &str) -> Finding {
    Finding::new(Code::ArchiveCorrupt, format!("{name}: member {path} cannot be carried: {why}")).member(path)
}
