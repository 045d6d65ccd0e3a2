//! The catalog: every member of an input, by normalised path, with its scan result.

use crate::finding::{Code, Finding};
use crate::scan::{BlobScan, Compression};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum MemberKind {
    File,
    Dir,
    /// Target as written in the archive (relative to the link's directory).
    Symlink(String),
    /// Target as written: an archive path.
    Hardlink(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub kind: MemberKind,
    pub size: u64,
    /// Where the data starts in a plain tar input (0 otherwise).
    pub offset: u64,
    pub scan: Option<BlobScan>,
}

/// Where members' bytes can be read again (`convert` reads each blob once, after the model
/// is built from the documents).
#[derive(Debug, Clone, Default)]
pub enum DataSource {
    /// A stream: members cannot be reopened.
    #[default]
    Stream,
    Dir(std::path::PathBuf),
    Tar(std::sync::Arc<std::fs::File>),
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub members: BTreeMap<String, Member>,
    /// Container-level findings: archive-corrupt, duplicate-entry, unsafe-path.
    pub findings: Vec<Finding>,
    pub outer: Option<Compression>,
    pub is_dir: bool,
    pub source: DataSource,
    /// The bytes of small text members a bundle's integrity check needs (`KEPT_NAMES`),
    /// kept from the one pass over a stream that cannot be read again.
    pub kept: BTreeMap<String, Vec<u8>>,
    /// The archive has more members than `super::MAX_MEMBERS`: the rest were not recorded
    /// (a finding says so, once).
    pub members_capped: bool,
    /// The tar ends early, inside a member's data or a header (a finding says where): the
    /// members before the cut were read whole (`crate::report::salvage`).
    pub cut: bool,
    /// The input file's size, and its sha256 where the one pass that read it read it front to
    /// back (a compressed file, a pipe), not for a plain tar on disk (read at its members'
    /// offsets, in parallel); `None` for a directory and a split input.
    pub whole: Option<crate::digest::Whole>,
}

/// File names whose bytes are kept when read from a stream (Zarf's integrity data and
/// signatures, checked by `verify --key`).
pub const KEPT_NAMES: &[&str] = &["zarf.yaml", "checksums.txt", "zarf.yaml.sig", "zarf.bundle.sig"];

/// How a reference failed to resolve to a regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    Missing(String),
    Escapes(String),
    NotAFile(String),
    LinkLoop,
}

const MAX_LINK_HOPS: usize = 16;

impl Catalog {
    /// Adds a member; a second member of the same path is a `duplicate-entry` (the later one
    /// wins, as it would when a loader extracts the archive).
    pub fn insert(&mut self, path: String, member: Member) {
        let is_dir = matches!(member.kind, MemberKind::Dir);
        if let Some(old) = self.members.insert(path.clone(), member)
            && !(is_dir && matches!(old.kind, MemberKind::Dir))
        {
            self.findings.push(
                Finding::new(
                    Code::DuplicateEntry,
                    format!("the archive holds {path:?} more than once; loaders disagree on which copy they use"),
                )
                .member(path),
            );
        }
    }

    /// Stores a member's scan, or records why it could not be read (the archive itself broke).
    pub fn record_scan(&mut self, path: &str, result: std::io::Result<BlobScan>) {
        match result {
            Ok(s) => {
                if let Some(m) = self.members.get_mut(path) {
                    m.scan = Some(s);
                }
            }
            Err(e) => self
                .findings
                .push(Finding::new(Code::ArchiveCorrupt, format!("cannot read member {path}: {e}")).member(path)),
        }
    }

    /// Follows symlinks and hard links to the regular file a path names.
    pub fn resolve(&self, path: &str) -> Result<(&str, &Member), Unresolved> {
        let mut current = path.to_string();
        for _ in 0..MAX_LINK_HOPS {
            let Some((key, m)) = self.members.get_key_value(current.as_str()) else {
                return Err(Unresolved::Missing(current));
            };
            current = match &m.kind {
                MemberKind::File => return Ok((key.as_str(), m)),
                MemberKind::Symlink(t) => super::path::join_within(super::path::parent(key), t)
                    .map_err(|why| Unresolved::Escapes(format!("{key} -> {t}: {why}")))?,
                MemberKind::Hardlink(t) => {
                    super::path::normalize(t).map_err(|why| Unresolved::Escapes(format!("{key} => {t}: {why}")))?
                }
                MemberKind::Dir | MemberKind::Other => return Err(Unresolved::NotAFile(current)),
            };
        }
        Err(Unresolved::LinkLoop)
    }

    /// The scan of the file a path resolves to.
    pub fn scan_of(&self, path: &str) -> Option<&BlobScan> {
        self.resolve(path).ok().and_then(|(_, m)| m.scan.as_ref())
    }

    /// The kept bytes of a JSON document.
    pub fn document(&self, path: &str) -> Option<&[u8]> {
        match &self.scan_of(path)?.content {
            crate::scan::Content::Document(d) => Some(&d[..]),
            _ => None,
        }
    }

    /// Opens the data of the file a path resolves to.
    pub fn open_member(&self, path: &str) -> std::io::Result<Box<dyn std::io::Read + Send + '_>> {
        use std::io::{Error, ErrorKind};
        let (real, m) = self.resolve(path).map_err(|e| Error::new(ErrorKind::NotFound, format!("{path}: {e:?}")))?;
        match &self.source {
            DataSource::Dir(root) => Ok(Box::new(std::fs::File::open(root.join(real))?)),
            DataSource::Tar(f) => Ok(Box::new(super::tar_file::At::new(f, m.offset, m.size))),
            DataSource::Stream => Err(Error::new(ErrorKind::Unsupported, "a streamed input cannot be reopened")),
        }
    }

    /// The members under directory `prefix`, as a catalog of their own (keys relative to it):
    /// an image layout inside a bundle (a Zarf package's `images/`). Container-level findings
    /// stay with the whole input. Scans are kept, so nothing is read again.
    pub fn subtree(&self, prefix: &str) -> Catalog {
        let start = format!("{prefix}/");
        let members = self
            .members
            .range(start.clone()..)
            .take_while(|(k, _)| k.starts_with(&start))
            .map(|(k, m)| (k[start.len()..].to_string(), m.clone()))
            .collect();
        let source = match &self.source {
            DataSource::Dir(root) => DataSource::Dir(root.join(prefix)),
            other => other.clone(),
        };
        let kept =
            self.kept.iter().filter_map(|(k, v)| Some((k.strip_prefix(&start)?.to_string(), v.clone()))).collect();
        Catalog {
            members,
            findings: Vec::new(),
            outer: self.outer,
            is_dir: self.is_dir,
            source,
            kept,
            members_capped: self.members_capped,
            cut: self.cut,
            whole: None,
        }
    }

    pub fn has(&self, path: &str) -> bool {
        self.members.contains_key(path)
    }

    /// The first directory on `path`'s way (outermost first) that the archive holds as
    /// something else than a directory: a symlink (an extractor writes the member through
    /// it, `unsafe-path`) or a file (extraction fails, `archive-corrupt`); `check_links`
    /// reports the member. Such a member is not at its own path once extracted.
    pub fn not_a_dir_above(&self, path: &str) -> Option<(&str, &MemberKind)> {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i];
            if let Some((key, m)) = self.members.get_key_value(dir)
                && !matches!(m.kind, MemberKind::Dir)
            {
                return Some((key.as_str(), &m.kind));
            }
            at += i + 1;
        }
        None
    }

    /// Every link must stay inside the archive, whether or not anything uses it.
    pub fn check_links(&mut self) {
        let mut found = Vec::new();
        for (path, m) in &self.members {
            let bad = match &m.kind {
                MemberKind::Symlink(t) => super::path::join_within(super::path::parent(path), t).err(),
                MemberKind::Hardlink(t) => super::path::normalize(t).err(),
                _ => None,
            };
            if let Some(why) = bad {
                let target = match &m.kind {
                    MemberKind::Symlink(t) | MemberKind::Hardlink(t) => t.as_str(),
                    _ => "",
                };
                found.push(
                    Finding::new(
                        Code::UnsafePath,
                        format!("link {path:?} points to {target:?} outside the archive ({why})"),
                    )
                    .member(path.clone()),
                );
            }
        }
        // An extractor writes `x/manifest.json` through an earlier (or replaces a directory
        // by a later) symlink `x -> .`: the file lands, or is read from, somewhere else than
        // the member's own path. docker load extracts the archive and reads from disk.
        for (path, m) in &self.members {
            if matches!(m.kind, MemberKind::Dir) {
                continue;
            }
            match self.not_a_dir_above(path) {
                // Extraction fails: a directory is needed where a file is.
                Some((dir, MemberKind::File | MemberKind::Hardlink(_) | MemberKind::Other)) => found.push(
                    Finding::new(
                        Code::ArchiveCorrupt,
                        format!("member {path:?} is under {dir:?}, which is a file: extraction fails"),
                    )
                    .member(path.clone()),
                ),
                Some((dir, MemberKind::Symlink(t))) => found.push(
                    Finding::new(
                        Code::UnsafePath,
                        format!(
                            "member {path:?} is written through symlink {dir:?} -> {t:?}: an extractor puts it elsewhere than airlock reads it"
                        ),
                    )
                    .member(path.clone()),
                ),
                Some((_, MemberKind::Dir)) | None => {}
            }
        }
        self.findings.extend(found);
    }
}
