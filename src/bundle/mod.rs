//! Bundles: an input that is not an image archive itself but carries some, the way images
//! cross an air gap — a Harbor offline installer (a .tgz holding `harbor/harbor.vX.tar.gz`, a
//! docker-save, beside install scripts), a Zarf package (an OCI layout under `images/`), a
//! tar of several archives.
//!
//! Found by content, never by name: a directory that holds `index.json` or `manifest.json`
//! (a layout inside the bundle), or a member that is itself a tar (plain or compressed)
//! holding an image archive; a member that is a bundle itself is looked into the same way,
//! [`MAX_DEPTH`] archives deep. Each is verified as an input of its own, named
//! `BUNDLE!MEMBER` (`BUNDLE!MEMBER!MEMBER` deeper). Everything is read as a stream: a member
//! of a seekable input is read in place, anything else by decompressing what holds it once
//! more up to it; nothing is copied to disk.

pub mod zarf;

use crate::commands::Loaded;
use crate::finding::{Code, Finding};
use crate::model;
use crate::open::{self, Catalog, DataSource, MemberKind};
use crate::progress::Progress;
use crate::scan::{Compression, Content, Depth};
use std::io::{self, BufReader, Read};
use std::path::Path;

/// How deep archives nest inside a bundle before airlock stops looking (a tar of installers
/// whose `.tgz` holds a `.tar.gz` is three).
pub const MAX_DEPTH: usize = 3;
/// Nested archives opened per bundle: more than any real bundle holds.
pub const MAX_NESTED: usize = 256;

/// One image archive found in a bundle.
pub struct Part {
    /// `bundle.tgz!harbor/harbor.v2.tar.gz`, or `pkg.tar.zst!images/` for a layout inside.
    pub name: String,
    pub loaded: Loaded,
    pub origin: Origin,
}

/// One step into a bundle: a member that is an archive, and its compression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub member: String,
    pub compression: Compression,
}

/// Where a part's bytes are, which decides how its blobs are read again (`convert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A layout in directory `root` of the archive `within` leads to (the input itself when
    /// empty: its catalog then reads from the input).
    Layout { within: Vec<Step>, root: String },
    /// An archive member, reached through `chain` (its last step is the archive itself).
    Member { chain: Vec<Step> },
}

/// The image archives inside `loaded` (read from `path`), if it is not one itself, and a
/// `bundle-not-searched` warning for each archive in it left unopened (deeper than
/// [`MAX_DEPTH`], or past [`MAX_NESTED`]): those are not verified, and the report says so.
pub fn expand(path: &Path, display: &str, loaded: &Loaded, depth: Depth) -> (Vec<Part>, Vec<Finding>) {
    let mut search = Search { path, root: &loaded.catalog, depth, opened: 0, parts: Vec::new(), unopened: Vec::new() };
    search.look(display, loaded, &[]);
    let findings = search
        .unopened
        .into_iter()
        .map(|(name, why)| {
            Finding::new(
                Code::BundleNotSearched,
                format!(
                    "{name} is an archive inside the bundle that is not opened ({why}); what it holds is not verified"
                ),
            )
            // The member, as the other findings name theirs: inside the input.
            .member(name.strip_prefix(&format!("{display}!")).unwrap_or(&name).to_string())
        })
        .collect();
    (search.parts, findings)
}

struct Search<'a> {
    path: &'a Path,
    /// The input's own catalog: where every path into the bundle starts.
    root: &'a Catalog,
    depth: Depth,
    opened: usize,
    parts: Vec<Part>,
    /// Archives left unopened, and why.
    unopened: Vec<(String, String)>,
}

impl Search<'_> {
    /// Looks into `loaded` (reached through `within`) for layouts and archives.
    fn look(&mut self, display: &str, loaded: &Loaded, within: &[Step]) {
        if loaded.model.format.is_some() {
            return;
        }
        let catalog = &loaded.catalog;
        // Layouts in a directory of the bundle, each as its directory and `dir/`.
        let mut roots: Vec<(String, String)> = Vec::new();
        for key in catalog.members.keys() {
            let Some((dir, file)) = key.rsplit_once('/') else { continue };
            if matches!(file, "index.json" | "manifest.json")
                && dir.split('/').count() <= 4
                && !roots.iter().any(|(r, prefix)| dir == r || dir.starts_with(prefix.as_str()))
            {
                roots.push((dir.to_string(), format!("{dir}/")));
            }
        }
        for (r, _) in &roots {
            let sub = catalog.subtree(r);
            let model = model::build(&sub);
            if model.format.is_some() {
                self.parts.push(Part {
                    name: format!("{display}!{r}/"),
                    loaded: Loaded { catalog: sub, model },
                    origin: Origin::Layout { within: within.to_vec(), root: r.clone() },
                });
            }
        }
        // Members that are archives themselves, read again as streams (in place in a plain
        // tar, else by decompressing what holds them once more).
        for (key, m) in &catalog.members {
            if !matches!(m.kind, MemberKind::File) || roots.iter().any(|(_, prefix)| key.starts_with(prefix.as_str())) {
                continue;
            }
            // verify scanned every member as a possible tar; inspect only sniffed its magic.
            let compression = match m.scan.as_ref().map(|s| &s.content) {
                Some(Content::Layer(ls)) if ls.tar.as_ref().is_ok_and(|t| t.entries > 0) => ls.compression,
                Some(Content::Sniffed(c)) if self.depth == Depth::Documents && m.size >= 512 => *c,
                _ => continue,
            };
            let name = format!("{display}!{key}");
            if within.len() >= MAX_DEPTH {
                self.unopened.push((name, format!("archives nest more than {MAX_DEPTH} deep here")));
                continue;
            }
            if self.opened >= MAX_NESTED {
                self.unopened.push((name, format!("the bundle holds more than {MAX_NESTED} archives")));
                continue;
            }
            self.opened += 1;
            let mut chain = within.to_vec();
            chain.push(Step { member: key.clone(), compression });
            let Ok(reader) = open_raw(self.path, self.root, &chain) else { continue };
            let inner_catalog = open::read_stream(reader, compression, self.depth, &Progress::default());
            let inner = Loaded { model: model::build(&inner_catalog), catalog: inner_catalog };
            if inner.model.format.is_some() {
                self.parts.push(Part { name, loaded: inner, origin: Origin::Member { chain } });
            } else {
                self.look(&name, &inner, &chain);
            }
        }
    }
}

/// The bytes, as stored, of the member `chain` leads to: the first step is a member of the
/// input (`root`, read from `path`), each next one a member of the archive before it. Each
/// archive on the way is decompressed as a stream up to the member; nothing is copied.
pub fn open_raw<'a>(path: &Path, root: &'a Catalog, chain: &[Step]) -> io::Result<Box<dyn Read + Send + 'a>> {
    let Some((first, rest)) = chain.split_first() else {
        return Err(io::Error::other("an empty path into the bundle"));
    };
    let mut reader: Box<dyn Read + Send + 'a> = match &root.source {
        DataSource::Stream => open::reopen_streamed_member(path, &first.member)?,
        _ => root.open_member(&first.member)?,
    };
    let mut compression = first.compression;
    for step in rest {
        reader = open::member_of_stream(reader, compression, &step.member)?;
        compression = step.compression;
    }
    Ok(reader)
}

/// The archive `chain` leads to, decompressed: what `convert` unwraps into its staging area.
pub fn open_archive<'a>(path: &Path, root: &'a Catalog, chain: &[Step]) -> io::Result<Box<dyn Read + Send + 'a>> {
    let raw = open_raw(path, root, chain)?;
    let compression = chain.last().map_or(Compression::None, |s| s.compression);
    crate::scan::compression::outer_decoder(BufReader::new(raw), compression)
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
            Origin::Layout { within, root } if within.is_empty() => roots.push(format!("{root}/")),
            // An archive member, or something inside one: that member is what the bundle holds.
            Origin::Layout { within: chain, .. } | Origin::Member { chain } => {
                if let Some(first) = chain.first() {
                    taken.push(&first.member);
                }
            }
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
