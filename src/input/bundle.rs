//! Bundles: an input that is not an image archive itself but carries some, the way images
//! cross an air gap — a Harbor offline installer (a .tgz holding `harbor/harbor.vX.tar.gz`, a
//! docker-save, beside install scripts), a Zarf package (an OCI layout under `images/`), a
//! tar of several archives.
//!
//! Found by content, never by name: a directory that holds `index.json` or `manifest.json`
//! (a layout, at any depth), or a member whose bytes start with a tar header or a compression
//! magic (an archive, opened whether or not a scan of it succeeded). A member that is an
//! archive is opened the same way, [`MAX_DEPTH`] archives deep; every member, nested ones
//! included, ends with one verdict (`coverage`). Each image archive or layout found is
//! verified as an input of its own, named `BUNDLE!MEMBER` (`BUNDLE!MEMBER!MEMBER` deeper).
//! Everything is read as a stream, one more pass per nesting level (`pass`): a member of a
//! seekable input is read in place, anything else by decompressing what holds it once more;
//! nothing is copied to disk.

use super::coverage::{Coverage, Verdict};
use super::{Loaded, coverage, pass};
use crate::finding::{Code, Finding};
use crate::formats::zarf;
use crate::open::{self, Catalog, DataSource};
use crate::scan::{Compression, Depth};
use coverage::Decision;
use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// How deep archives nest inside an input before airlock stops opening them (a tar of Zarf
/// packages whose component tar holds a `.tar.gz` of images is four).
pub const MAX_DEPTH: usize = 6;
/// Archives opened per input: more than any real bundle holds.
pub const MAX_NESTED: usize = 1024;
/// Bytes an input's search may decompress again to reach and read its nested archives: a
/// backstop (the passes are linear: each nesting level reads what holds it once more).
pub const MAX_REREAD: u64 = 1 << 40;

/// The search's bounds; past any of them an archive is not opened, and that is an error
/// (`bundle-not-searched`) naming it.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub depth: usize,
    pub archives: usize,
    pub bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { depth: MAX_DEPTH, archives: MAX_NESTED, bytes: MAX_REREAD }
    }
}

/// One step into a bundle (defined with the pass that reads through the steps).
pub use super::pass::Step;

/// One image archive found in a bundle.
pub struct Part {
    /// `bundle.tgz!harbor/harbor.v2.tar.gz`, or `pkg.tar.zst!images/` for a layout inside.
    pub name: String,
    pub loaded: Loaded,
    pub origin: Origin,
}

/// Where a part's bytes are, which decides how its blobs are read again (`super::reread`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A layout in directory `root` of the archive `within` leads to (the input itself when
    /// empty: its catalog then reads from the input).
    Layout { within: Vec<Step>, root: String },
    /// An archive member, reached through `chain` (its last step is the archive itself).
    Member { chain: Vec<Step> },
}

/// What searching an input found.
#[derive(Default)]
pub struct Expansion {
    /// The image archives and layouts in it, in path order.
    pub parts: Vec<Part>,
    /// About the input as a whole: archives in it that cannot be read or were not opened,
    /// and what is wrong inside archives that hold no image of their own.
    pub findings: Vec<Finding>,
    /// Every member but directories, nested archives' included, counted by verdict.
    pub coverage: Coverage,
    /// The input's own files that hold no image (scripts, package metadata, components): the
    /// first [`MAX_OTHER`] in path order, and how many in all.
    others: Vec<(String, u64)>,
    others_total: usize,
}

impl Expansion {
    /// Whether the input holds anything beside being an image archive: archives or layouts
    /// found, or archives that could not be read or opened.
    pub fn is_bundle(&self) -> bool {
        !self.parts.is_empty() || !self.findings.is_empty()
    }
}

/// Searches `loaded` (read from `path`, shown as `display`) for everything a runtime could
/// load: layouts in its directories at any depth, and every member that is an archive, read
/// from its bytes (a tar header or a compression magic), opened level by level, one pass per
/// level, within `Bounds::default`. Every member ends with one verdict
/// (`coverage::decide`).
pub fn expand(path: &Path, display: &str, loaded: &Loaded, depth: Depth) -> Expansion {
    expand_within(path, display, loaded, depth, Bounds::default())
}

pub fn expand_within(path: &Path, display: &str, loaded: &Loaded, depth: Depth, bounds: Bounds) -> Expansion {
    let mut s = Search {
        display,
        depth,
        bounds,
        opened: 0,
        budget: pass::Budget::new(bounds.bytes),
        out: Expansion::default(),
        top_archives: Vec::new(),
    };
    let mut wants = s.look("", &[], loaded);
    let mut level = 1;
    while !wants.is_empty() {
        let now = s.bound(std::mem::take(&mut wants), level);
        let chains: Vec<Vec<Step>> = now.iter().map(|w| w.chain.clone()).collect();
        let results = pass::read_all(path, &loaded.catalog, &chains, depth, &s.budget);
        for (w, r) in now.into_iter().zip(results) {
            wants.extend(s.opened(w, r));
        }
        level += 1;
    }
    s.finish()
}

/// An archive to open: the names that lead to its bytes (the member, then links to it), and
/// the path to them.
struct Want {
    names: Vec<(String, u64)>,
    chain: Vec<Step>,
}

struct Search<'a> {
    display: &'a str,
    depth: Depth,
    bounds: Bounds,
    opened: usize,
    budget: pass::Budget,
    out: Expansion,
    /// The input's own members that are archives holding no image of their own: listed
    /// among its other files unless an image was found deeper in them.
    top_archives: Vec<(String, u64)>,
}

impl Search<'_> {
    /// Gives every member of `loaded` (the archive `node` names, reached through `chain`; the
    /// input itself when `node` is empty) its verdict, and returns the archives to open.
    fn look(&mut self, node: &str, chain: &[Step], loaded: &Loaded) -> Vec<Want> {
        let catalog = &loaded.catalog;
        let mut used = coverage::Used::default();
        if loaded.model.format.is_some() {
            used.add(catalog, &loaded.model, "");
        }
        for root in coverage::layout_roots(catalog) {
            let sub = catalog.subtree(&root);
            let model = crate::formats::build(&sub);
            if model.format.is_none() {
                continue;
            }
            used.add(&sub, &model, &root);
            let name = format!("{}!{}/", self.full(node), root);
            let origin = Origin::Layout { within: chain.to_vec(), root };
            self.out.parts.push(Part { name, loaded: Loaded { catalog: sub, model }, origin });
        }
        let mut wants: Vec<Want> = Vec::new();
        let mut by_data: HashMap<String, usize> = HashMap::new();
        for (key, m) in &catalog.members {
            let name = || if node.is_empty() { key.clone() } else { format!("{node}!{key}") };
            match coverage::decide(catalog, key, m, &used, self.depth) {
                None => {}
                // A tar of plain files only: nothing deeper can lead to an image.
                Some(Decision::Searched) if node.is_empty() => self.other(name, m.size, Verdict::Archive),
                Some(Decision::Verdict(Verdict::Other)) if node.is_empty() => self.other(name, m.size, Verdict::Other),
                Some(Decision::Verdict(v)) => self.out.coverage.add(v, m.size, name),
                Some(Decision::Searched) => self.out.coverage.add(Verdict::Archive, m.size, name),
                Some(Decision::Open { data, compression }) => {
                    let (name, size) = (name(), catalog.members.get(&data).map_or(m.size, |t| t.size));
                    if let Some(&i) = by_data.get(&data) {
                        wants[i].names.push((name, size));
                        continue;
                    }
                    by_data.insert(data.clone(), wants.len());
                    let mut chain = chain.to_vec();
                    chain.push(Step { member: data, compression });
                    wants.push(Want { names: vec![(name, size)], chain });
                }
            }
        }
        wants
    }

    /// The archives within the bounds; the others are errors naming them.
    fn bound(&mut self, wants: Vec<Want>, level: usize) -> Vec<Want> {
        let mut keep = Vec::new();
        for w in wants {
            let why = if level > self.bounds.depth {
                format!("archives nest more than {} deep here", self.bounds.depth)
            } else if self.opened >= self.bounds.archives {
                format!("the input holds more than {} archives", self.bounds.archives)
            } else {
                self.opened += 1;
                keep.push(w);
                continue;
            };
            self.not_opened(w, &why);
        }
        keep
    }

    fn not_opened(&mut self, w: Want, why: &str) {
        let node = &w.names[0].0;
        self.out.findings.push(
            Finding::new(
                Code::BundleNotSearched,
                format!(
                    "{node} is an archive inside {} that is not opened ({why}): a runtime could load it, or what it holds, and it is not verified",
                    self.display
                ),
            )
            .member(node.clone()),
        );
        self.cover_all(w, Verdict::Error);
    }

    /// What opening the archive `w` gave: its verdict, and the archives to open inside it.
    fn opened(&mut self, w: Want, result: pass::Opened) -> Vec<Want> {
        let node = w.names[0].0.clone();
        let compression = w.chain.last().map_or(Compression::None, |s| s.compression);
        let (verdict, wants) = match result {
            pass::Opened::Archive(catalog) => {
                let loaded = Loaded { model: crate::formats::build(&catalog), catalog };
                let wants = self.look(&node, &w.chain, &loaded);
                let verdict = if loaded.model.format.is_some() {
                    let origin = Origin::Member { chain: w.chain.clone() };
                    self.out.parts.push(Part { name: self.full(&node), loaded, origin });
                    Verdict::Image
                } else {
                    self.adopt(&node, &loaded)
                };
                (verdict, wants)
            }
            pass::Opened::NotTar => (Verdict::Other, Vec::new()),
            pass::Opened::Unreadable(why) => {
                let what = match compression {
                    Compression::None => "a tar".to_string(),
                    c => format!("{}-compressed", c.as_str()),
                };
                self.out.findings.push(
                    Finding::new(
                        Code::ArchiveCorrupt,
                        format!(
                            "{node} is {what} and cannot be read ({why}); a runtime may load it all the same, and it is not verified"
                        ),
                    )
                    .member(node.clone()),
                );
                (Verdict::Error, Vec::new())
            }
            pass::Opened::PastBytes => {
                let why =
                    format!("more than {} bytes were read again to reach this input's archives", self.bounds.bytes);
                self.not_opened(w, &why);
                return Vec::new();
            }
        };
        self.cover_all(w, verdict);
        wants
    }

    /// An archive opened that is no image archive itself: what is wrong in it is the input's
    /// (named `node!member`), and so is a Zarf package's integrity inside it.
    fn adopt(&mut self, node: &str, loaded: &Loaded) -> Verdict {
        let c = &loaded.catalog;
        let broken = c.findings.iter().any(Finding::is_error) || c.has("repositories");
        let mut found = c.findings.clone();
        // docker 20.10 loads a tar with `repositories` and no manifest.json as a legacy (v1)
        // image (moby image/tarexport `legacyLoad`); airlock does not read that format.
        if c.has("repositories") {
            found.push(
                Finding::new(
                    Code::ManifestInvalid,
                    "it holds `repositories` and no manifest.json: docker load reads that as a legacy (v1) image archive, which airlock does not verify",
                )
                .member("repositories"),
            );
        }
        if zarf::is_package(c) && self.depth == Depth::Full {
            found.extend(zarf::check(c));
        }
        for mut f in found {
            f.member = Some(match f.member.take() {
                Some(m) => format!("{node}!{m}"),
                None => node.to_string(),
            });
            f.message = format!("{node}: {}", f.message);
            self.out.findings.push(f);
        }
        if broken { Verdict::Error } else { Verdict::Archive }
    }

    /// The name of archive `node` of the input ("" for the input itself).
    fn full(&self, node: &str) -> String {
        if node.is_empty() { self.display.to_string() } else { format!("{}!{node}", self.display) }
    }

    /// One of the input's own files that holds no image: counted, and listed among its
    /// other files.
    /// (Its name is made only while it is listed.)
    fn other(&mut self, name: impl Fn() -> String, size: u64, verdict: Verdict) {
        self.out.others_total += 1;
        if self.out.others.len() < MAX_OTHER {
            self.out.others.push((name(), size));
        }
        self.out.coverage.add(verdict, size, name);
    }

    /// The verdict of an archive opened (or not) for all the names that lead to it; a
    /// first-level one is the input's own member.
    fn cover_all(&mut self, w: Want, verdict: Verdict) {
        let top = w.chain.len() == 1;
        for (name, size) in w.names {
            match verdict {
                Verdict::Other if top => self.other(|| name.clone(), size, verdict),
                Verdict::Archive if top => {
                    self.top_archives.push((name.clone(), size));
                    self.out.coverage.add(verdict, size, || name);
                }
                _ => self.out.coverage.add(verdict, size, || name),
            }
        }
    }

    fn finish(mut self) -> Expansion {
        let parts = &self.out.parts;
        let leads_to_image = |name: &str| {
            let prefix = format!("{}!{name}!", self.display);
            parts.iter().any(|p| p.name.starts_with(&prefix))
        };
        let archives: Vec<(String, u64)> = self.top_archives.into_iter().filter(|(n, _)| !leads_to_image(n)).collect();
        self.out.others_total += archives.len();
        self.out.others.extend(archives);
        self.out.others.sort();
        self.out.others.truncate(MAX_OTHER);
        self.out.parts.sort_by(|a, b| a.name.cmp(&b.name));
        self.out
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
        DataSource::Stream => {
            let (src, compression) = open::reopen_input(path)?;
            open::member_of_stream(src, compression, &first.member)?
        }
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

impl Expansion {
    /// What else the input holds: its own files that are not read by an image, nor archives
    /// leading to one (install scripts, `zarf.yaml`, components, charts), with their sizes, in
    /// path order; at most [`MAX_OTHER`], and how many there are in all.
    pub fn others(&self) -> (Vec<(String, u64)>, usize) {
        (self.others.clone(), self.others_total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)).unwrap()
    }

    fn tar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    /// Searches `bytes` (written to a file) within `bounds`: the parts' names, and the
    /// findings as (code, member).
    fn search(bytes: &[u8], bounds: Bounds) -> (Vec<String>, Vec<(String, String)>, Coverage) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("in");
        std::fs::write(&p, bytes).unwrap();
        let loaded = crate::input::load(&p, Depth::Full, false).unwrap();
        let e = expand_within(&p, "in", &loaded, Depth::Full, bounds);
        let findings = e.findings.iter().map(|f| (f.code.to_string(), f.member.clone().unwrap_or_default())).collect();
        (e.parts.iter().map(|p| p.name.clone()).collect(), findings, e.coverage)
    }

    fn not_searched(members: &[&str]) -> Vec<(String, String)> {
        members.iter().map(|m| ("bundle-not-searched".to_string(), m.to_string())).collect()
    }

    #[test]
    fn past_the_count_bound_the_rest_are_errors() {
        let crane = fixture("crane-tarball.tar");
        let t = tar(&[("a.tar", crane.clone()), ("b.tar", crane.clone()), ("c.tar", crane)]);
        let (parts, findings, c) = search(&t, Bounds { archives: 2, ..Bounds::default() });
        assert_eq!(parts, ["in!a.tar", "in!b.tar"]);
        assert_eq!(findings, not_searched(&["c.tar"]));
        // The two archives opened, and the eight members of each (crane: config, layers, manifest).
        assert_eq!((c.image, c.error), (2 + 2 * 8, 1), "{c:?}");
    }

    #[test]
    fn past_the_depth_bound_the_rest_are_errors() {
        let inner = tar(&[("img.tar", fixture("crane-tarball.tar"))]);
        let t = tar(&[("level1.tar", inner)]);
        let (parts, findings, _) = search(&t, Bounds { depth: 1, ..Bounds::default() });
        assert!(parts.is_empty(), "{parts:?}");
        assert_eq!(findings, not_searched(&["level1.tar!img.tar"]));
        let (parts, findings, _) = search(&t, Bounds { depth: 2, ..Bounds::default() });
        assert_eq!((parts, findings), (vec!["in!level1.tar!img.tar".to_string()], vec![]));
    }

    #[test]
    fn past_the_bytes_read_again_the_rest_are_errors() {
        // 2 MiB of filler first: reaching the archives means decompressing it again.
        let crane = fixture("crane-tarball.tar");
        let t = gzip(&tar(&[("filler.bin", vec![7u8; 2 << 20]), ("a.tar", crane.clone()), ("b.tar", crane)]));
        let (parts, findings, c) = search(&t, Bounds { bytes: 1 << 20, ..Bounds::default() });
        assert!(parts.is_empty(), "{parts:?}");
        assert_eq!(findings, not_searched(&["a.tar", "b.tar"]));
        assert_eq!((c.members, c.other, c.error), (3, 1, 2), "{c:?}");
        let (parts, findings, _) = search(&t, Bounds { bytes: 4 << 20, ..Bounds::default() });
        assert_eq!((parts, findings), (vec!["in!a.tar".to_string(), "in!b.tar".to_string()], vec![]));
    }

    /// An archive in an archive in a compressed archive, beside an image archive and files
    /// that are not: every member of every level gets exactly one verdict.
    #[test]
    fn every_member_of_every_level_is_accounted_for() {
        let crane = fixture("crane-tarball.tar");
        let files = tar(&[("etc/motd", b"hello".to_vec())]);
        let inner = tar(&[("img.tar", crane.clone()), ("notes.txt", b"read me".to_vec()), ("files.tar", files)]);
        let t = gzip(&tar(&[
            ("readme.txt", b"not an archive".to_vec()),
            ("nested/inner.tar", inner),
            ("app.tar.gz", gzip(&crane)),
        ]));
        let (parts, findings, c) = search(&t, Bounds::default());
        assert_eq!(parts, ["in!app.tar.gz", "in!nested/inner.tar!img.tar"]);
        assert_eq!(findings, []);
        let listed: Vec<(&str, Verdict)> = c.listed.iter().map(|m| (m.member.as_str(), m.verdict)).collect();
        // The input's own first; an archive opened gets its verdict once its members have theirs.
        assert_eq!(
            listed,
            [
                ("readme.txt", Verdict::Other),
                ("nested/inner.tar!files.tar", Verdict::Archive),
                ("nested/inner.tar!notes.txt", Verdict::Other),
                ("nested/inner.tar", Verdict::Archive),
            ]
        );
        // Each image archive counts as one member and its eight members each.
        assert_eq!((c.members, c.image, c.artifact, c.archive, c.other, c.error), (22, 18, 0, 2, 2, 0), "{c:?}");
        assert_eq!(c.members, c.image + c.artifact + c.archive + c.other + c.error);
    }
}
