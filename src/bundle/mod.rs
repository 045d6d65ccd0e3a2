//! Bundles: an input that is not an image archive itself but carries some, the way images
//! cross an air gap — a Harbor offline installer (a .tgz holding `harbor/harbor.vX.tar.gz`, a
//! docker-save, beside install scripts), a Zarf package (an OCI layout under `images/`), a
//! tar of several archives.
//!
//! Found by content, never by name: a directory of the input that holds `index.json` or
//! `manifest.json` (a layout inside the bundle), or a member that is itself a tar (plain or
//! compressed) holding an image archive (a bundle member that is itself a bundle contributes
//! the layouts inside it). Each is verified as an input of its own, named `BUNDLE!MEMBER`.
//! Everything is read as a stream: a member of a seekable input is read in place, one of a
//! compressed input by decompressing the input again up to it; nothing is copied to disk.

pub mod zarf;

use crate::commands::Loaded;
use crate::model;
use crate::open::{self, DataSource, MemberKind};
use crate::progress::Progress;
use crate::scan::{Content, Depth};
use std::path::Path;

/// A bundle, and a bundle inside it (whose layouts are taken), and no deeper.
pub const MAX_DEPTH: usize = 2;
/// Nested archives opened per bundle: more than any real bundle holds.
pub const MAX_NESTED: usize = 256;

/// One image archive found in a bundle.
pub struct Part {
    /// `bundle.tgz!harbor/harbor.v2.tar.gz`, or `pkg.tar.zst!images/` for a layout inside.
    pub name: String,
    pub loaded: Loaded,
    pub origin: Origin,
}

/// Where a part's bytes are, which decides whether its blobs can be read again (`convert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A layout in a directory (`root`) of the input: its catalog reads from the input itself.
    Layout { root: String },
    /// A member of the input that is an archive itself (read once, as a stream), compressed
    /// as said.
    Member { key: String, compression: crate::scan::Compression },
    /// A layout inside such a member: a bundle inside the bundle.
    Nested,
}

/// The image archives inside `loaded` (read from `path`), if it is not one itself.
pub fn expand(path: &Path, display: &str, loaded: &Loaded, depth: Depth, level: usize) -> Vec<Part> {
    if loaded.model.format.is_some() || level >= MAX_DEPTH {
        return Vec::new();
    }
    let catalog = &loaded.catalog;
    let mut parts = Vec::new();
    // Layouts in a directory of the bundle.
    let mut roots: Vec<String> = Vec::new();
    for key in catalog.members.keys() {
        let Some((dir, file)) = key.rsplit_once('/') else { continue };
        if matches!(file, "index.json" | "manifest.json")
            && dir.split('/').count() <= 4
            && !roots.iter().any(|r| dir == r || dir.starts_with(&format!("{r}/")))
        {
            roots.push(dir.to_string());
        }
    }
    for root in &roots {
        let sub = catalog.subtree(root);
        let model = model::build(&sub);
        if model.format.is_some() {
            let origin = if level == 0 { Origin::Layout { root: root.clone() } } else { Origin::Nested };
            parts.push(Part { name: format!("{display}!{root}/"), loaded: Loaded { catalog: sub, model }, origin });
        }
    }
    // Members that are archives themselves. Only the input's own members can be read again
    // (in place, or by decompressing the input once more); inside a nested bundle, only its
    // layouts are taken.
    if level > 0 {
        return parts;
    }
    let mut opened = 0;
    for (key, m) in &catalog.members {
        if !matches!(m.kind, MemberKind::File) || roots.iter().any(|r| key.starts_with(&format!("{r}/"))) {
            continue;
        }
        // verify scanned every member as a possible tar; inspect only sniffed its magic.
        let compression = match m.scan.as_ref().map(|s| &s.content) {
            Some(Content::Layer(ls)) if ls.tar.as_ref().is_ok_and(|t| t.entries > 0) => ls.compression,
            Some(Content::Sniffed(c)) if depth == Depth::Documents && m.size >= 512 => *c,
            _ => continue,
        };
        if opened >= MAX_NESTED {
            continue;
        }
        opened += 1;
        let reader = match &catalog.source {
            DataSource::Stream => open::reopen_streamed_member(path, key),
            _ => catalog.open_member(key),
        };
        let Ok(reader) = reader else { continue };
        let inner_catalog = open::read_stream(reader, compression, depth, &Progress::default());
        let inner = Loaded { model: model::build(&inner_catalog), catalog: inner_catalog };
        let name = format!("{display}!{key}");
        if inner.model.format.is_some() {
            parts.push(Part { name, loaded: inner, origin: Origin::Member { key: key.clone(), compression } });
        } else {
            parts.extend(expand(path, &name, &inner, depth, level + 1));
        }
    }
    parts
}

/// Files of a bundle listed beside its image archives, at most this many.
pub const MAX_OTHER: usize = 1000;

/// What else a bundle holds: its files that are neither an image archive found in it nor
/// inside a layout found in it (install scripts, `zarf.yaml`, components, charts), with their
/// sizes, in path order; at most [`MAX_OTHER`], and how many there are in all.
pub fn others(catalog: &crate::open::Catalog, parts: &[Part]) -> (Vec<(String, u64)>, usize) {
    let mut taken: Vec<&str> = Vec::new();
    let mut roots: Vec<String> = Vec::new();
    for p in parts {
        match &p.origin {
            Origin::Layout { root } => roots.push(format!("{root}/")),
            Origin::Member { key, .. } => taken.push(key),
            Origin::Nested => {}
        }
    }
    let mut list = Vec::new();
    let mut total = 0;
    for (key, m) in &catalog.members {
        if !matches!(m.kind, MemberKind::File)
            || taken.contains(&key.as_str())
            || roots.iter().any(|r| key.starts_with(r))
        {
            continue;
        }
        total += 1;
        if list.len() < MAX_OTHER {
            list.push((key.clone(), m.size));
        }
    }
    (list, total)
}
