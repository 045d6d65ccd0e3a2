//! The base inputs of `apply`: what the far side already holds, read with the usual openers
//! (archives, layouts, wrapped archives, bundles), indexed by blob digest and by diffID, and
//! each needed blob copied out of them, verified by digest in the same read.

use super::format::{Match, Need};
use crate::digest::{Digest, HashWriter};
use crate::error::Error;
use crate::input::bundle::{self, Origin};
use crate::input::{Loaded, load};
use crate::open::MemberKind;
use crate::scan::{self, Compression, Content, Depth, DocumentBudget};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// One image archive or layout of the base inputs.
struct Base {
    /// As named in messages: the input, or `BUNDLE!MEMBER`.
    name: String,
    loaded: Loaded,
}

/// Where a blob can come from: a base, one of its members, and whether it is decompressed
/// (a diffID match) or copied.
#[derive(Clone)]
struct Candidate {
    base: usize,
    member: String,
    decompress: bool,
}

pub struct Bases {
    list: Vec<Base>,
    by_digest: HashMap<Digest, Vec<Candidate>>,
    by_diff_id: HashMap<Digest, Vec<Candidate>>,
}

/// What became of one needed blob.
pub enum Fetched {
    /// Written and verified; taken from `BASE!MEMBER`.
    Ok(String),
    /// No base holds it.
    Missing,
    /// Every base copy was wrong: why, per copy.
    Corrupt(Vec<String>),
}

impl Bases {
    /// Opens every base. A wrapped archive, or one inside a bundle, is unwrapped into `spool`
    /// (a directory of the staging area, removed before the commit): its blobs are read after
    /// its documents.
    pub fn open(paths: &[PathBuf], spool: &Path, progress: bool) -> Result<Bases, Error> {
        let mut bases = Bases { list: Vec::new(), by_digest: HashMap::new(), by_diff_id: HashMap::new() };
        for (i, path) in paths.iter().enumerate() {
            let usage =
                |e: &dyn std::fmt::Display| Error::Usage(format!("cannot read the base {}: {e}", path.display()));
            let meta = std::fs::metadata(path).map_err(|e| usage(&e))?;
            if !(meta.is_dir() || meta.is_file()) {
                return Err(usage(&"a pipe or device; apply reads a base twice: save it to a file first"));
            }
            let sniffed = crate::open::Sniffed::open(path).map_err(|e| usage(&e))?;
            let reread = match sniffed.compression() {
                None | Some(Compression::None) => path.clone(),
                Some(_) => {
                    let to = spool.join(format!("{i}.tar"));
                    crate::open::unwrap_to(sniffed, &to).map_err(|e| usage(&e))?;
                    to
                }
            };
            let loaded = load(&reread, Depth::Documents, progress).map_err(|e| usage(&e))?;
            let shown = path.display().to_string();
            if loaded.model.format.is_some() {
                bases.add(Base { name: shown, loaded });
                continue;
            }
            let parts = bundle::expand(&reread, &shown, &loaded, Depth::Documents).parts;
            if parts.is_empty() {
                return Err(usage(&"it is not an image archive, and holds none"));
            }
            for (j, part) in parts.into_iter().enumerate() {
                let unwrap = |chain: &[bundle::Step]| -> Result<Loaded, Error> {
                    let to = spool.join(format!("{i}-{j}.tar"));
                    let copy = || -> io::Result<()> {
                        let mut archive = bundle::open_archive(&reread, &loaded.catalog, chain)?;
                        io::copy(&mut archive, &mut File::create(&to)?)?;
                        Ok(())
                    };
                    copy().map_err(|e| Error::output(format!("cannot unwrap {}", part.name), e))?;
                    load(&to, Depth::Documents, progress)
                };
                let taken = match &part.origin {
                    Origin::Layout { within, .. } if within.is_empty() => part.loaded,
                    Origin::Layout { within, root } => {
                        let catalog = unwrap(within)?.catalog.subtree(root);
                        let model = crate::formats::build(&catalog);
                        Loaded { catalog, model }
                    }
                    Origin::Member { chain } => unwrap(chain)?,
                };
                bases.add(Base { name: part.name.clone(), loaded: taken });
            }
        }
        Ok(bases)
    }

    /// Indexes a base: every layer by its declared digest and its config's diffID, and every
    /// member whose name is a digest (`blobs/sha256/<hex>`).
    fn add(&mut self, base: Base) {
        let at = self.list.len();
        let cand = |member: &str, decompress: bool| Candidate { base: at, member: member.to_string(), decompress };
        for image in &base.loaded.model.images {
            let diff_ids = match &image.config_doc {
                Some(Ok(c)) => c.diff_ids.clone(),
                _ => Vec::new(),
            };
            for (i, l) in image.layers.iter().enumerate() {
                if let Some(d) = l.digest {
                    self.by_digest.entry(d).or_default().push(cand(&l.member, false));
                }
                if let Some(d) = diff_ids.get(i) {
                    self.by_diff_id.entry(*d).or_default().push(cand(&l.member, true));
                }
            }
        }
        for (path, m) in &base.loaded.catalog.members {
            if matches!(m.kind, MemberKind::File)
                && let Some(d) = crate::formats::named_digest(path)
            {
                self.by_digest.entry(d).or_default().push(cand(path, false));
            }
        }
        self.list.push(base);
    }

    /// Writes the blob `need` asks for to `dest`, from the first base copy that hashes to
    /// its digest and size. `Err` only when the output cannot be written.
    pub fn fetch(&self, need: &Need, dest: &Path) -> io::Result<Fetched> {
        let mut tried: Vec<Candidate> = self.by_digest.get(&need.digest).cloned().unwrap_or_default();
        if need.how == Match::DiffId {
            tried.extend(self.by_diff_id.get(&need.digest).cloned().unwrap_or_default());
        }
        let mut seen = std::collections::HashSet::new();
        tried.retain(|c| seen.insert((c.base, c.member.clone(), c.decompress)));
        if tried.is_empty() {
            return Ok(Fetched::Missing);
        }
        let mut wrong = Vec::new();
        for c in &tried {
            let base = &self.list[c.base];
            let at = format!("{}!{}", base.name, c.member);
            match copy_one(&base.loaded, c, dest)? {
                Ok((d, n)) if d == need.digest && n == need.size => return Ok(Fetched::Ok(at)),
                Ok((d, n)) => wrong.push(if c.decompress {
                    format!("{at} decompresses to {d} ({n} bytes)")
                } else {
                    format!("{at} hashes to {d} ({n} bytes)")
                }),
                Err(why) => wrong.push(format!("{at} cannot be read: {why}")),
            }
        }
        Ok(Fetched::Corrupt(wrong))
    }
}

/// Copies one candidate into `dest`: the outer `Err` is the output's, the inner the input's.
fn copy_one(loaded: &Loaded, c: &Candidate, dest: &Path) -> io::Result<Result<(Digest, u64), String>> {
    let src = match loaded.catalog.open_member(&c.member) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut out = HashWriter::new(BufWriter::with_capacity(256 * 1024, File::create(dest)?));
    if !c.decompress {
        let mut src = src;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Ok(Err(e.to_string())),
            };
            out.write_all(&buf[..n])?;
        }
        return Ok(Ok(out.finish()?));
    }
    let size = loaded.catalog.resolve(&c.member).map(|(_, m)| m.size).unwrap_or(0);
    let budget = DocumentBudget::new();
    let mut sink = Sink { out: &mut out, failed: None };
    let scanned = scan::blob::scan_into(src, size, Depth::Full, &budget, Some(&mut sink));
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    let why = match scanned {
        Err(e) => Some(e.to_string()),
        Ok(s) => match s.content {
            Content::Layer(l) => l.tar.err().map(|e| e.to_string()),
            _ => Some("it is not a layer".into()),
        },
    };
    let written = out.finish()?;
    Ok(match why {
        Some(why) => Err(why),
        None => Ok(written),
    })
}

use std::io::{Read, Write};

/// The output of a decompressing copy, keeping its own write error: the scan reports any
/// error as the layer's, and an output that cannot be written is not the base's fault.
struct Sink<'a, W: Write> {
    out: &'a mut W,
    failed: Option<io::Error>,
}

impl<W: Write> Write for Sink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf).inspect_err(|e| self.failed = Some(io::Error::new(e.kind(), e.to_string())))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().inspect_err(|e| self.failed = Some(io::Error::new(e.kind(), e.to_string())))
    }
}
