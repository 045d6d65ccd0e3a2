//! `airlock apply DELTA --from BASE... -o OUT [--to FORMAT]`: rebuild each archive of a delta
//! from the blobs the base inputs hold, verifying every member by digest as it is copied, and
//! commit it atomically (or hand it to `convert` with `--to`). Anything missing or wrong:
//! the findings, and nothing written.

use super::base::{Bases, Fetched};
use super::format::{self, Archive, DeltaDoc, MANIFEST, ROOT};
use crate::digest::{Digest, HashWriter};
use crate::error::Error;
use crate::finding::{Code, Finding};
use crate::formats::output::OutputFormat;
use crate::open::{Catalog, MemberKind};
use crate::output::{Destination, Staging, StagingError};
use crate::progress::Progress;
use crate::scan::Depth;
use rayon::prelude::*;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};

/// Where bases are unwrapped, and where several archives are rebuilt, in the staging area:
/// names no archive member may take (`check_delta`).
const SPOOL: &str = ".airlock-base";
const BUILD: &str = ".airlock-build";

pub struct Options {
    pub delta: PathBuf,
    pub bases: Vec<PathBuf>,
    pub output: PathBuf,
    pub to: Option<OutputFormat>,
    pub force: bool,
    pub progress: bool,
}

/// What was rebuilt (`apply --json`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Applied {
    pub output: String,
    pub bytes: u64,
    pub archives: Vec<AppliedArchive>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AppliedArchive {
    pub name: String,
    pub format: String,
    pub images: Vec<format::Image>,
    /// Members copied from the delta.
    pub shipped: usize,
    pub shipped_bytes: u64,
    /// Blobs taken from the base inputs.
    pub fetched: Vec<FetchedBlob>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FetchedBlob {
    pub path: String,
    pub digest: Digest,
    pub size: u64,
    /// `BASE!MEMBER`.
    pub from: String,
}

/// `apply --json`: what was rebuilt (`ok`), or why nothing was (`findings`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ApplyReport<'a> {
    pub ok: bool,
    #[serde(flatten)]
    pub applied: Option<&'a Applied>,
    pub findings: &'a [Finding],
}

pub enum Outcome {
    Written(Applied),
    /// A needed blob is missing or wrong, or the delta is: nothing was written.
    Failed(Vec<Finding>),
}

fn out_err(e: std::io::Error) -> Error {
    Error::output("cannot write the output", e)
}

pub fn run(opts: &Options) -> Result<Outcome, Error> {
    check_paths(opts)?;
    let (delta, doc) = read_delta(&opts.delta, opts.progress)?;
    let delta = match delta {
        Ok(c) => c,
        Err(findings) => return Ok(Outcome::Failed(findings)),
    };
    let structural = check_delta(&delta, &doc);
    if !structural.is_empty() {
        return Ok(Outcome::Failed(structural));
    }
    if opts.to.is_some() && doc.archives.len() != 1 {
        return Err(Error::Usage(format!(
            "--to converts one archive, and {} holds {}; apply without --to, then convert each",
            opts.delta.display(),
            doc.archives.len()
        )));
    }
    let single = doc.archives.len() == 1;
    // With --to, the rebuilt archive goes next to the output first, and convert writes it.
    let (dest, aside) = match opts.to {
        Some(_) => {
            let a = aside_path(&opts.output);
            (a.clone(), Some(Aside(a)))
        }
        None => (opts.output.clone(), None),
    };
    let staging = Staging::new(&Destination::Path(dest.clone())).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => out_err(e),
    })?;
    let spool = staging.dir.join(SPOOL);
    fs::create_dir(&spool).map_err(out_err)?;
    let bases = Bases::open(&opts.bases, &spool, opts.progress)?;
    let (archives, findings) = rebuild_all(opts, &doc, &delta, &bases, &staging.dir)?;
    if !findings.is_empty() {
        return Ok(Outcome::Failed(findings));
    }
    fs::remove_dir_all(&spool).map_err(out_err)?;
    drop(bases);
    let mut notes = Vec::new();
    for a in doc.archives.iter().filter(|a| a.compression.is_some()) {
        notes.push(format!(
            "{} was {}-compressed; it is written as the plain tar (the images are the same)",
            a.name,
            a.compression.as_deref().unwrap_or_default()
        ));
    }
    let bytes = commit(staging, &doc, &dest, single, opts.force || aside.is_some()).map_err(out_err)?;
    let applied = Applied { output: opts.output.display().to_string(), bytes, archives, notes };
    match opts.to {
        Some(to) => convert_aside(opts, to, &dest, applied, aside),
        None => Ok(Outcome::Written(applied)),
    }
}

/// Rebuilds every archive of the delta under `dir` (one archive: `dir` itself), with one
/// progress bar over the members the delta carries and the blobs taken from the bases.
fn rebuild_all(
    opts: &Options,
    doc: &DeltaDoc,
    delta: &Catalog,
    bases: &Bases,
    dir: &Path,
) -> Result<(Vec<AppliedArchive>, Vec<Finding>), Error> {
    let label = opts.output.file_name().map_or_else(|| "apply".into(), |n| format!("apply → {}", n.to_string_lossy()));
    let (progress, handle) = Progress::start(label, opts.progress);
    let bytes =
        |a: &Archive| a.members.iter().map(|m| m.size).sum::<u64>() + a.needs.iter().map(|n| n.size).sum::<u64>();
    progress.set_total(doc.archives.iter().map(bytes).sum());
    let single = doc.archives.len() == 1;
    let rebuilt: Result<Vec<_>, Error> = doc
        .archives
        .iter()
        .map(|a| {
            let root = if single { dir.to_path_buf() } else { dir.join(BUILD).join(&a.name) };
            rebuild(a, delta, bases, &root, &progress)
        })
        .collect();
    progress.finish(handle);
    let mut archives = Vec::new();
    let mut findings = Vec::new();
    for (done, found) in rebuilt? {
        archives.push(done);
        findings.extend(found);
    }
    Ok((archives, findings))
}

/// The output is a plain file or directory, is not the delta or a base, and contains none.
fn check_paths(opts: &Options) -> Result<(), Error> {
    for input in std::iter::once(&opts.delta).chain(&opts.bases) {
        crate::output::paths::check_output(input, &opts.output)?;
        let same = crate::output::paths::resolved(input)
            .is_some_and(|i| Some(i) == crate::output::paths::resolved(&opts.output));
        if same {
            return Err(Error::Usage(format!("the output {} is an input; write it elsewhere", opts.output.display())));
        }
    }
    if opts.output.exists() && !opts.force {
        return Err(Error::Usage(format!("{} exists; give --force to replace it", opts.output.display())));
    }
    Ok(())
}

/// Reads the delta's catalog and `airlock-delta.json`. A delta that cannot be read as a tar
/// is refused with its findings; one without a readable document of this version is a usage
/// error.
fn read_delta(path: &Path, progress: bool) -> Result<(Result<Catalog, Vec<Finding>>, DeltaDoc), Error> {
    let shown = path.display();
    let usage = |m: String| Error::Usage(format!("{shown} {m}"));
    if !fs::metadata(path).map_err(|e| Error::Usage(format!("cannot open {shown}: {e}")))?.is_file() {
        return Err(usage("is not a file; a delta is a tar written by airlock delta".into()));
    }
    let (p, handle) = crate::progress::Progress::start(format!("{shown}"), progress);
    let catalog = crate::open::read_input(path, Depth::Documents, &p);
    p.finish(handle);
    let catalog = catalog?;
    if !matches!(catalog.source, crate::open::DataSource::Tar(_)) {
        return Err(usage(
            "is not a plain tar; a delta is a tar written by airlock delta (decompress it first)".into(),
        ));
    }
    let size = match catalog.members.get(MANIFEST) {
        Some(m) if matches!(m.kind, MemberKind::File) && m.size <= format::MAX_MANIFEST => m.size,
        _ => return Err(usage(format!("is not an airlock delta: it holds no {MANIFEST}"))),
    };
    let mut bytes = Vec::with_capacity(size as usize);
    catalog
        .open_member(MANIFEST)
        .and_then(|r| r.take(size).read_to_end(&mut bytes))
        .map_err(|e| usage(format!("cannot be read: {MANIFEST}: {e}")))?;
    let doc = format::parse(&bytes).map_err(usage)?;
    let broken: Vec<Finding> = catalog.findings.iter().filter(|f| f.is_error()).cloned().collect();
    if !broken.is_empty() {
        let findings = broken
            .into_iter()
            .map(|f| Finding { code: Code::DeltaCorrupt, message: format!("{shown}: {}", f.message), ..f })
            .collect();
        return Ok((Err(findings), doc));
    }
    Ok((Ok(catalog), doc))
}

/// Holds the delta's members to its document: every path a plain relative one, each archive
/// name a plain file name used once, every member of the tar recorded (a file with its size,
/// a symlink with its target, staying inside its archive), nothing recorded absent, and no
/// needed blob shipped too.
pub fn check_delta(delta: &Catalog, doc: &DeltaDoc) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut bad = |m: String, member: Option<&str>| {
        let f = Finding::new(Code::DeltaCorrupt, m);
        found.push(match member {
            Some(p) => f.member(p),
            None => f,
        });
    };
    let mut expected: std::collections::BTreeMap<String, Option<&str>> = std::collections::BTreeMap::new();
    let mut names = std::collections::HashSet::new();
    for a in &doc.archives {
        if a.name.is_empty() || a.name.contains('/') || a.name == "." || a.name == ".." || !names.insert(&a.name) {
            bad(format!("{MANIFEST} names an archive {:?}: not a file name, or twice", a.name), None);
            continue;
        }
        let mut paths = std::collections::BTreeSet::new();
        let all = a.members.iter().map(|m| m.path.as_str());
        let all = all.chain(a.links.iter().map(|l| l.path.as_str())).chain(a.needs.iter().map(|n| n.path.as_str()));
        for p in all {
            let plain = crate::open::path::normalize(p).ok().as_deref() == Some(p) && !p.is_empty();
            // The staging area's own names (`.airlock-owner`, the spool) are never members.
            if !plain || p.starts_with(".airlock-") || !paths.insert(p) {
                bad(
                    format!(
                        "{MANIFEST}: archive {}: member path {p:?} is not a plain relative path, is airlock's own, or is listed twice",
                        a.name
                    ),
                    None,
                );
            }
        }
        for m in &a.members {
            expected.insert(format!("{ROOT}/{}/{}", a.name, m.path), None);
        }
        // Every recorded path is a file or a link: nothing may be written under one (a link
        // chain could lead outside the output, a file in the way fails the write).
        for p in &paths {
            let mut at = 0;
            while let Some(i) = p[at..].find('/') {
                let dir = &p[..at + i];
                if paths.contains(dir) {
                    bad(format!("{MANIFEST}: archive {}: member {p} is under {dir}, a file or link", a.name), None);
                    break;
                }
                at += i + 1;
            }
        }
        for l in &a.links {
            if crate::open::path::join_within(crate::open::path::parent(&l.path), &l.target).is_err() {
                bad(format!("archive {}: link {} -> {} leaves the archive", a.name, l.path, l.target), None);
            }
            expected.insert(format!("{ROOT}/{}/{}", a.name, l.path), Some(l.target.as_str()));
        }
    }
    for (path, m) in &delta.members {
        if path == MANIFEST || matches!(m.kind, MemberKind::Dir) {
            continue;
        }
        match (expected.remove(path), &m.kind) {
            (Some(None), MemberKind::File) => {}
            (Some(Some(t)), MemberKind::Symlink(have)) if have == t => {}
            (Some(_), _) => {
                bad(format!("delta member {path} is not what {MANIFEST} records (a file or that link)"), Some(path))
            }
            (None, _) => bad(format!("delta member {path} is not recorded in {MANIFEST}"), Some(path)),
        }
    }
    for path in expected.keys() {
        bad(format!("{MANIFEST} records {path}, which is not in the delta"), Some(path));
    }
    found
}

/// Rebuilds one archive under `root`: shipped members from the delta, links, and needed
/// blobs from the bases, all verified by digest. Returns the findings instead of failing.
fn rebuild(
    a: &Archive,
    delta: &Catalog,
    bases: &Bases,
    root: &Path,
    progress: &Progress,
) -> Result<(AppliedArchive, Vec<Finding>), Error> {
    let mut findings = Vec::new();
    let file = |rel: &str| -> io::Result<PathBuf> {
        let p = root.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d)?;
        }
        Ok(p)
    };
    let copied: Vec<Result<Option<Finding>, io::Error>> = a
        .members
        .par_iter()
        .map(|m| {
            let at = format!("{ROOT}/{}/{}", a.name, m.path);
            let mut out = HashWriter::new(BufWriter::with_capacity(256 * 1024, File::create(file(&m.path)?)?));
            let mut src = progress.reader(delta.open_member(&at)?);
            io::copy(&mut src, &mut out)?;
            let (d, n) = out.finish()?;
            Ok(((d, n) != (m.digest, m.size)).then(|| {
                Finding::new(
                    Code::DeltaCorrupt,
                    format!(
                        "delta member {at} hashes to {d} ({n} bytes), but {MANIFEST} records {} ({} bytes)",
                        m.digest, m.size
                    ),
                )
                .member(at.clone())
            }))
        })
        .collect();
    for r in copied {
        findings.extend(r.map_err(out_err)?);
    }
    let fetched: Vec<io::Result<Fetched>> =
        a.needs.par_iter().map(|n| bases.fetch(n, &file(&n.path)?, progress)).collect();
    // Links last: no file is ever written through one.
    for l in &a.links {
        std::os::unix::fs::symlink(&l.target, file(&l.path).map_err(out_err)?).map_err(out_err)?;
    }
    let mut blobs = Vec::new();
    for (n, r) in a.needs.iter().zip(fetched) {
        match r.map_err(out_err)? {
            Fetched::Ok(from) => blobs.push(FetchedBlob { path: n.path.clone(), digest: n.digest, size: n.size, from }),
            Fetched::Missing => {
                findings.push(need_finding(a, n, Code::DeltaBaseMissing, "is in none of the base inputs".into()))
            }
            Fetched::Corrupt(why) => findings.push(need_finding(
                a,
                n,
                Code::DeltaBaseCorrupt,
                format!("has no good copy in the base inputs: {}", why.join("; ")),
            )),
        }
    }
    let done = AppliedArchive {
        name: a.name.clone(),
        format: a.format.clone(),
        images: a.images.clone(),
        shipped: a.members.len(),
        shipped_bytes: a.members.iter().map(|m| m.size).sum(),
        fetched: blobs,
    };
    Ok((done, findings))
}

/// A finding about a needed blob: which, for which images, and where the delta saw it.
fn need_finding(a: &Archive, n: &format::Need, code: Code, what: String) -> Finding {
    let images: Vec<String> = n.images.iter().map(|id| a.image_name(id)).collect();
    let image = n.images.first().and_then(|id| a.images.iter().position(|i| &i.image_id == id));
    let f = Finding::new(
        code,
        format!(
            "blob {} ({} bytes, {} member {}) needed by {} {what} (the delta found it in {}: {}, image {})",
            n.digest,
            n.size,
            a.name,
            n.path,
            images.join(", "),
            n.have.lock,
            n.have.input,
            n.have.image_id.short()
        ),
    )
    .member(n.path.clone());
    match image {
        Some(i) => f.image(i),
        None => f,
    }
}

/// Puts the rebuilt archives in place: one archive as itself (a tar, or a directory for a
/// layout), several as a directory holding each by its name.
fn commit(staging: Staging, doc: &DeltaDoc, dest: &Path, single: bool, replace: bool) -> io::Result<u64> {
    if single {
        return if doc.archives[0].directory {
            staging.commit_dir(dest, replace)
        } else {
            staging.commit_tar(&Destination::Path(dest.to_path_buf()), replace)
        };
    }
    let build = staging.dir.join(BUILD);
    for a in &doc.archives {
        let from = build.join(&a.name);
        let to = staging.dir.join(&a.name);
        if a.directory {
            fs::rename(&from, &to)?;
        } else {
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&to)?;
            crate::output::write_tar(&from, &mut f)?;
            f.sync_all()?;
        }
    }
    fs::remove_dir_all(&build)?;
    staging.commit_dir(dest, replace)
}

/// The rebuilt archive next to the output, before `--to` converts it; removed afterwards.
struct Aside(PathBuf);

impl Drop for Aside {
    fn drop(&mut self) {
        let _ = if self.0.is_dir() { fs::remove_dir_all(&self.0) } else { fs::remove_file(&self.0) };
    }
}

fn aside_path(output: &Path) -> PathBuf {
    let parent = output.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent.join(format!(".{name}.airlock-apply-{}", std::process::id()))
}

fn convert_aside(
    opts: &Options,
    to: OutputFormat,
    rebuilt: &Path,
    mut applied: Applied,
    aside: Option<Aside>,
) -> Result<Outcome, Error> {
    let copts = crate::convert::Options {
        input: rebuilt.to_path_buf(),
        format: to,
        output: Destination::Path(opts.output.clone()),
        selection: crate::model::select::Selection { images: Vec::new(), platform: None },
        tags: Vec::new(),
        compression: crate::formats::output::CompressionChoice::Keep,
        level: None,
        force: opts.force,
        progress: opts.progress,
    };
    let result = crate::convert::run(&copts);
    drop(aside);
    match result {
        Ok(crate::convert::Outcome::Written(s)) => {
            applied.bytes = s.output_bytes;
            applied.notes.extend(s.notes);
            Ok(Outcome::Written(applied))
        }
        Ok(crate::convert::Outcome::Refused { report, .. }) => Ok(Outcome::Failed(report.findings)),
        Err(e) => Err(e),
    }
}
