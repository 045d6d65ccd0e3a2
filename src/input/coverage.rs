//! Coverage, decided in one place: every member of an input, and of every archive opened in
//! it, gets exactly one [`Verdict`]. A runtime may load any file it is handed (`tar x`, then
//! `docker load -i`, `ctr images import`, `podman load`, `skopeo copy oci:DIR`), so what a
//! member *is* is read from its bytes, never from its name or from whether a scan of it
//! succeeded:
//!
//! | the member | verdict |
//! |---|---|
//! | read by an image model (its documents, configs, layers, the format's own files) | image |
//! | a manifest or blob of a signature, attestation or other artifact | artifact |
//! | a directory (not counted) | — |
//! | a file (or a link to one) that starts with a tar header or a compression magic | opened: image, archive or error (`super::bundle`) |
//! | a tar whose scan read every entry and found no image document and no archive in it | archive (nothing in it loads) |
//! | any other file, device or FIFO; a link to nothing | other |
//! | a file the archive broke before, a link out of the archive | error (the archive's finding names it) |

use crate::model::{Format, Model};
use crate::open::{Catalog, Member, MemberKind, Unresolved};
use crate::scan::{Compression, Content, Depth};
use serde::Serialize;
use std::collections::HashSet;

/// The one verdict each member of an input gets (`decide` decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Read as part of an image in the report: a document, config or layer of an image
    /// archive or layout, or an archive reported as an image input of its own.
    Image,
    /// A signature, attestation, SBOM or other artifact's manifest or blob, checked as blobs.
    Artifact,
    /// An archive holding no image of its own, opened: each member in it has its own verdict.
    Archive,
    /// A file no runtime loads as an image: not archive-shaped, or compressed around
    /// something that is not a tar.
    Other,
    /// Archive-shaped and not verified: it cannot be read, or lies past a search bound; a
    /// finding names it.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Image => "image",
            Verdict::Artifact => "artifact",
            Verdict::Archive => "archive",
            Verdict::Other => "other",
            Verdict::Error => "error",
        }
    }
}

/// How many members got each verdict, and the ones that are not part of an image or artifact.
#[derive(Debug, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Every member but directories, of the input and of every archive opened in it.
    pub members: usize,
    pub image: usize,
    pub artifact: usize,
    pub archive: usize,
    pub other: usize,
    pub error: usize,
    /// The members whose verdict is archive, other or error, at most [`MAX_LISTED`] (the
    /// counts above are complete): the input's own in path order, then each archive's.
    pub listed: Vec<CoveredMember>,
}

/// Members listed in a coverage, at most this many.
pub const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CoveredMember {
    /// The member's path, `ARCHIVE!MEMBER` inside an archive of the input.
    pub member: String,
    pub verdict: Verdict,
    pub size: u64,
}

impl Coverage {
    /// Counts one member's verdict, and lists it if it is not part of an image or artifact
    /// (its name is made only then).
    pub fn add(&mut self, verdict: Verdict, size: u64, member: impl FnOnce() -> String) {
        self.members += 1;
        match verdict {
            Verdict::Image => self.image += 1,
            Verdict::Artifact => self.artifact += 1,
            Verdict::Archive => self.archive += 1,
            Verdict::Other => self.other += 1,
            Verdict::Error => self.error += 1,
        }
        if matches!(verdict, Verdict::Archive | Verdict::Other | Verdict::Error) && self.listed.len() < MAX_LISTED {
            self.listed.push(CoveredMember { member: member(), verdict, size });
        }
    }
}

/// What a member's bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Starts with a tar header (`None`) or a compression magic.
    Archive(Compression),
    NotArchive,
    /// Not read: the archive holding it broke before it (a finding says so).
    Unread,
}

pub fn shape(m: &Member) -> Shape {
    let Some(s) = &m.scan else { return Shape::Unread };
    if s.tar_head {
        return Shape::Archive(Compression::None);
    }
    match &s.content {
        Content::Layer(ls) if ls.compression != Compression::None => Shape::Archive(ls.compression),
        Content::Sniffed(c) if *c != Compression::None => Shape::Archive(*c),
        _ => Shape::NotArchive,
    }
}

/// Whether the scan read a tar to its end and found nothing a runtime could load in it: no
/// `manifest.json`, `index.json` or `repositories`, and no entry that is an archive itself.
/// Such a tar (a layer nothing refers to, a Zarf component of plain files) is not opened.
pub fn holds_nothing_loadable(m: &Member) -> bool {
    match m.scan.as_ref().map(|s| &s.content) {
        Some(Content::Layer(ls)) => ls.tar.as_ref().is_ok_and(|t| !t.image_like && !t.has_archives),
        _ => false,
    }
}

/// The members image models read, and those of artifacts, by path in the catalog.
#[derive(Default)]
pub struct Used {
    image: HashSet<String>,
    artifact: HashSet<String>,
    /// Directories holding a layout that was verified.
    pub roots: HashSet<String>,
}

impl Used {
    /// Adds what `model` reads of `sub`, the layout in directory `root` ("" for the whole).
    pub fn add(&mut self, sub: &Catalog, model: &Model, root: &str) {
        let at = |k: &str| if root.is_empty() { k.to_string() } else { format!("{root}/{k}") };
        self.roots.insert(root.to_string());
        for a in &model.artifacts {
            self.artifact.insert(at(&a.member));
            for b in &a.blobs {
                self.artifact.insert(at(&b.member));
                if let Ok((real, _)) = sub.resolve(&b.member) {
                    self.artifact.insert(at(real));
                }
            }
        }
        self.image.extend(model.referenced.iter().map(|r| at(r)));
        for f in ["manifest.json", "index.json", "oci-layout", "repositories"] {
            if sub.has(f) {
                self.image.insert(at(f));
            }
        }
        // docker save's per-layer directory (`<id>/layer.tar`, `json`, `VERSION`) of a layer
        // it reads, by that path or, as skopeo and podman write it, through `layer.tar`, a
        // symlink to `<hex>.tar`.
        let reads = |k: &str| {
            model.referenced.contains(k) || sub.resolve(k).is_ok_and(|(real, _)| model.referenced.contains(real))
        };
        for (k, m) in &sub.members {
            let legacy_layer_file = ["/layer.tar", "/json", "/VERSION"]
                .iter()
                .any(|f| k.strip_suffix(f).is_some_and(|dir| reads(&format!("{dir}/layer.tar"))));
            // Docker 25+'s legacy v1 json blobs, which nothing refers to.
            let legacy_blob = model.format == Some(Format::DockerOci)
                && k.starts_with("blobs/")
                && crate::formats::is_docker_legacy_json(model, m.scan.as_ref().map(|s| &s.content));
            if legacy_layer_file || legacy_blob {
                self.image.insert(at(k));
            }
        }
    }
}

/// What to do with one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Verdict(Verdict),
    /// Open the file at `data` (the member itself, or what its link resolves to) as an archive.
    Open {
        data: String,
        compression: Compression,
    },
    /// Archive-shaped, and its scan found nothing loadable in it: searched, not opened.
    Searched,
}

/// The decision for member `key` of `catalog`; `None` for a directory.
pub fn decide(catalog: &Catalog, key: &str, m: &Member, used: &Used, depth: Depth) -> Option<Decision> {
    if used.artifact.contains(key) {
        return Some(Decision::Verdict(Verdict::Artifact));
    }
    if used.image.contains(key) {
        return Some(Decision::Verdict(Verdict::Image));
    }
    if !matches!(m.kind, MemberKind::Dir) && catalog.not_a_dir_above(key).is_some() {
        // Not at its own path once extracted: `check_links` reported it (unsafe-path,
        // archive-corrupt), and nothing is opened through it.
        return Some(Decision::Verdict(Verdict::Error));
    }
    let (data, target) = match &m.kind {
        MemberKind::Dir => return None,
        MemberKind::Other => return Some(Decision::Verdict(Verdict::Other)),
        MemberKind::File => (key.to_string(), m),
        MemberKind::Symlink(_) | MemberKind::Hardlink(_) => match catalog.resolve(key) {
            Ok((real, target)) => (real.to_string(), target),
            // `check_links` reported it (unsafe-path).
            Err(Unresolved::Escapes(_)) => return Some(Decision::Verdict(Verdict::Error)),
            // A link to a verified layout's directory is that layout.
            Err(Unresolved::NotAFile(dir)) if used.roots.contains(&dir) => {
                return Some(Decision::Verdict(Verdict::Image));
            }
            // Nothing a runtime can load is at its end.
            Err(Unresolved::Missing(_) | Unresolved::NotAFile(_) | Unresolved::LinkLoop) => {
                return Some(Decision::Verdict(Verdict::Other));
            }
        },
    };
    Some(match shape(target) {
        Shape::NotArchive => Decision::Verdict(Verdict::Other),
        Shape::Unread => Decision::Verdict(Verdict::Error),
        Shape::Archive(_) if depth == Depth::Full && holds_nothing_loadable(target) => Decision::Searched,
        Shape::Archive(compression) => Decision::Open { data, compression },
    })
}

/// The directories of `catalog` that may hold a layout (an `index.json` or `manifest.json`
/// in them), at any depth; the catalog's own root is not one of them, nor is a directory
/// reached through a symlink or a file (`x -> .` and `x/manifest.json`): an extractor writes
/// that member elsewhere (or fails), so no runtime finds a layout there; the member is
/// `check_links`'s (unsafe-path, archive-corrupt), reported once.
pub fn layout_roots(catalog: &Catalog) -> Vec<String> {
    let mut roots: Vec<String> = catalog
        .members
        .keys()
        .filter_map(|k| {
            let (dir, file) = k.rsplit_once('/')?;
            let marker = matches!(file, "index.json" | "manifest.json");
            (marker && catalog.not_a_dir_above(k).is_none()).then(|| dir.to_string())
        })
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{DocumentBudget, blob::scan};

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn file(c: &mut Catalog, path: &str, bytes: &[u8], depth: Depth) {
        let s = scan(bytes, bytes.len() as u64, depth, &DocumentBudget::new()).unwrap();
        c.insert(path.into(), Member { kind: MemberKind::File, size: bytes.len() as u64, offset: 0, scan: Some(s) });
    }

    fn other(c: &mut Catalog, path: &str, kind: MemberKind) {
        c.insert(path.into(), Member { kind, size: 0, offset: 0, scan: None });
    }

    /// An input holding one of each kind of member.
    fn input(depth: Depth) -> Catalog {
        let mut c = Catalog::default();
        let image_like = tar(&[("manifest.json", b"[]")]);
        file(&mut c, "notes.txt", b"not an archive", depth);
        file(&mut c, "files.tar", &tar(&[("etc/motd", b"hello")]), depth);
        file(&mut c, "image.tar", &image_like, depth);
        file(&mut c, "image.tar.gz", &gzip(&image_like), depth);
        file(&mut c, "layout/index.json", b"{}", depth);
        file(&mut c, "sig.json", b"{}", depth);
        other(&mut c, "unread.tar", MemberKind::File);
        other(&mut c, "dir", MemberKind::Dir);
        other(&mut c, "layout", MemberKind::Dir);
        other(&mut c, "fifo", MemberKind::Other);
        other(&mut c, "to-image", MemberKind::Symlink("image.tar.gz".into()));
        other(&mut c, "to-layout", MemberKind::Symlink("layout".into()));
        other(&mut c, "to-dir", MemberKind::Symlink("dir".into()));
        other(&mut c, "dangling", MemberKind::Symlink("nothing".into()));
        other(&mut c, "out", MemberKind::Symlink("../../etc/passwd".into()));
        c
    }

    fn used() -> Used {
        Used {
            image: ["layout/index.json".to_string()].into(),
            artifact: ["sig.json".to_string()].into(),
            roots: ["layout".to_string()].into(),
        }
    }

    fn decisions(depth: Depth) -> Vec<(String, Option<Decision>)> {
        let c = input(depth);
        let used = used();
        c.members.iter().map(|(k, m)| (k.clone(), decide(&c, k, m, &used, depth))).collect()
    }

    fn verdict(v: Verdict) -> Option<Decision> {
        Some(Decision::Verdict(v))
    }

    fn open(data: &str, compression: Compression) -> Option<Decision> {
        Some(Decision::Open { data: data.into(), compression })
    }

    #[test]
    fn every_member_gets_one_decision_from_its_bytes() {
        let want = [
            ("dangling", verdict(Verdict::Other)),
            ("dir", None),
            ("fifo", verdict(Verdict::Other)),
            ("files.tar", Some(Decision::Searched)),
            ("image.tar", open("image.tar", Compression::None)),
            ("image.tar.gz", open("image.tar.gz", Compression::Gzip)),
            ("layout", None),
            ("layout/index.json", verdict(Verdict::Image)),
            ("notes.txt", verdict(Verdict::Other)),
            ("out", verdict(Verdict::Error)),
            ("sig.json", verdict(Verdict::Artifact)),
            ("to-dir", verdict(Verdict::Other)),
            ("to-image", open("image.tar.gz", Compression::Gzip)),
            ("to-layout", verdict(Verdict::Image)),
            ("unread.tar", verdict(Verdict::Error)),
        ];
        let want: Vec<(String, Option<Decision>)> = want.into_iter().map(|(k, d)| (k.to_string(), d)).collect();
        assert_eq!(decisions(Depth::Full), want);
    }

    #[test]
    fn reading_documents_only_every_archive_is_opened() {
        // Layer data is not read, so nothing is known to hold nothing loadable.
        let got: Vec<(String, Option<Decision>)> =
            decisions(Depth::Documents).into_iter().filter(|(k, _)| k.contains(".tar")).collect();
        assert_eq!(
            got,
            [
                ("files.tar".to_string(), open("files.tar", Compression::None)),
                ("image.tar".to_string(), open("image.tar", Compression::None)),
                ("image.tar.gz".to_string(), open("image.tar.gz", Compression::Gzip)),
                ("unread.tar".to_string(), verdict(Verdict::Error)),
            ]
        );
    }

    #[test]
    fn coverage_counts_every_verdict_and_lists_those_outside_images() {
        let mut c = Coverage::default();
        for (v, name) in [
            (Verdict::Image, "a"),
            (Verdict::Artifact, "b"),
            (Verdict::Archive, "c"),
            (Verdict::Other, "d"),
            (Verdict::Error, "e"),
            (Verdict::Image, "f"),
        ] {
            c.add(v, 1, || name.to_string());
        }
        assert_eq!((c.members, c.image, c.artifact, c.archive, c.other, c.error), (6, 2, 1, 1, 1, 1));
        let listed: Vec<(&str, Verdict)> = c.listed.iter().map(|m| (m.member.as_str(), m.verdict)).collect();
        assert_eq!(listed, [("c", Verdict::Archive), ("d", Verdict::Other), ("e", Verdict::Error)]);
        for _ in 0..MAX_LISTED {
            c.add(Verdict::Other, 0, || "more".into());
        }
        assert_eq!((c.members, c.other, c.listed.len()), (6 + MAX_LISTED, 1 + MAX_LISTED, MAX_LISTED));
    }

    #[test]
    fn layout_roots_are_directories_with_an_index_or_manifest() {
        let mut c = Catalog::default();
        for p in ["index.json", "a/index.json", "a/b/manifest.json", "a/manifest.json", "c/oci-layout", "d/x.json"] {
            other(&mut c, p, MemberKind::File);
        }
        assert_eq!(layout_roots(&c), ["a", "a/b"]);
    }

    #[test]
    fn no_layout_is_found_through_a_symlink_or_a_file() {
        let mut c = Catalog::default();
        let image_like = tar(&[("manifest.json", b"[]")]);
        other(&mut c, "x", MemberKind::Symlink(".".into()));
        other(&mut c, "d", MemberKind::Dir);
        for p in
            ["index.json", "f", "x/index.json", "x/manifest.json", "x/y/index.json", "f/manifest.json", "d/index.json"]
        {
            file(&mut c, p, b"{}", Depth::Full);
        }
        // An archive is not opened through the link either.
        file(&mut c, "x/image.tar", &image_like, Depth::Full);
        file(&mut c, "image.tar", &image_like, Depth::Full);
        assert_eq!(layout_roots(&c), ["d"]);
        // Each of those members is an error (the archive's finding names it), nothing opened.
        let used = Used::default();
        let got: Vec<(&str, Option<Decision>)> =
            c.members.iter().map(|(k, m)| (k.as_str(), decide(&c, k, m, &used, Depth::Full))).collect();
        let error = verdict(Verdict::Error);
        assert_eq!(
            got,
            [
                ("d", None),
                ("d/index.json", verdict(Verdict::Other)),
                ("f", verdict(Verdict::Other)),
                ("f/manifest.json", error.clone()),
                ("image.tar", open("image.tar", Compression::None)),
                ("index.json", verdict(Verdict::Other)),
                ("x", verdict(Verdict::Other)),
                ("x/image.tar", error.clone()),
                ("x/index.json", error.clone()),
                ("x/manifest.json", error.clone()),
                ("x/y/index.json", error),
            ]
        );
    }
}
