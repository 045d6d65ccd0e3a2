//! Reading the archives of one nesting level in one pass. The archives to open are given as
//! paths from the input (`Step`s); they are gathered into a tree, and the input is read
//! once, front to back: a member on the way to deeper archives is decompressed as a stream
//! and walked in turn, a member that is one of the archives is read into a catalog there and
//! then. So a compressed bundle is decompressed once more per nesting level, however many
//! archives it holds (it used to be once more per archive). A seekable input (a plain tar,
//! a directory) has its first-level members read in place instead.

use crate::open::{self, Catalog, DataSource};
use crate::progress::Progress;
use crate::scan::compression::outer_decoder;
use crate::scan::{Compression, Depth};
use crate::tarstream::{EntryKind, Stream, TarReader};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One step into a bundle: a member that is an archive, and its compression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub member: String,
    pub compression: Compression,
}

/// What reading one archive gave.
pub enum Opened {
    Archive(Catalog),
    /// Compressed, and what it decompresses to does not start like a tar: no runtime loads it.
    NotTar,
    /// It cannot be read, and why.
    Unreadable(String),
    /// Not read: the bytes the search may read again ran out before it.
    PastBytes,
}

/// The bytes an input's search may read again (decompressed, on the way to nested
/// archives), shared by its passes.
pub struct Budget {
    left: AtomicU64,
    refused: AtomicBool,
}

impl Budget {
    pub fn new(bytes: u64) -> Budget {
        Budget { left: AtomicU64::new(bytes), refused: AtomicBool::new(false) }
    }
    fn take(&self, n: u64) -> bool {
        let ok = self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n)).is_ok();
        if !ok {
            self.refused.store(true, Ordering::Relaxed);
        }
        ok
    }
    /// A read was refused: what was being read when it happened is past the bound.
    pub fn exhausted(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }
}

/// Counts what is read against the budget, and fails once it is spent.
struct Counted<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.budget.take(n as u64) {
            return Err(io::Error::other("the bound on bytes read again is reached"));
        }
        Ok(n)
    }
}

/// Members to reach inside one archive, by path.
#[derive(Default)]
struct Tree<'a> {
    children: BTreeMap<&'a str, Node<'a>>,
}

struct Node<'a> {
    compression: Compression,
    /// The archive to read, as the index of its chain.
    job: Option<usize>,
    /// Or the members to reach inside this one.
    inner: Tree<'a>,
}

impl<'a> Tree<'a> {
    fn insert(&mut self, chain: &'a [Step], job: usize) {
        let Some((first, rest)) = chain.split_first() else { return };
        let node = self.children.entry(first.member.as_str()).or_insert_with(|| Node {
            compression: first.compression,
            job: None,
            inner: Tree::default(),
        });
        if rest.is_empty() {
            node.job = Some(job);
        } else {
            node.inner.insert(rest, job);
        }
    }

    fn jobs(&self, out: &mut Vec<usize>) {
        for n in self.children.values() {
            out.extend(n.job);
            n.inner.jobs(out);
        }
    }
}

/// Reads the archives `chains` lead to (each a path from the input `path`, whose catalog is
/// `root`), in one pass; the results are in the order of `chains`.
pub fn read_all(path: &Path, root: &Catalog, chains: &[Vec<Step>], depth: Depth, budget: &Budget) -> Vec<Opened> {
    let mut tree = Tree::default();
    for (i, chain) in chains.iter().enumerate() {
        tree.insert(chain, i);
    }
    let mut pass = Pass { depth, budget, out: (0..chains.len()).map(|_| None).collect() };
    match &root.source {
        DataSource::Stream => match open::reopen_input(path) {
            Ok((src, compression)) => pass.walk(src, compression, &tree),
            Err(e) => pass.fail(&tree, &format!("the input cannot be read again: {e}")),
        },
        // A plain tar or a directory: each first-level member is read in place.
        _ => {
            for (member, node) in &tree.children {
                match root.open_member(member) {
                    Ok(r) => pass.process(node, Box::new(Counted { inner: r, budget })),
                    Err(e) => pass.fail_node(node, &format!("it cannot be read again ({e})")),
                }
            }
        }
    }
    pass.out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Opened::Unreadable("it was not there when the input was read again".into())))
        .collect()
}

struct Pass<'b> {
    depth: Depth,
    budget: &'b Budget,
    out: Vec<Option<Opened>>,
}

impl Pass<'_> {
    /// Walks the tar that `src` holds (compressed as `compression`) for the members of `tree`.
    /// Every copy of a member is read, the last one counting, as the catalog recorded it.
    fn walk<'s>(&mut self, src: Box<dyn Read + Send + 's>, compression: Compression, tree: &Tree) {
        let decoder = match outer_decoder(BufReader::new(src), compression) {
            Ok(d) => d,
            Err(e) => {
                return self
                    .fail(tree, &format!("the {} stream holding it cannot be read ({e})", compression.as_str()));
            }
        };
        let mut tar = TarReader::new(Stream(Counted { inner: decoder, budget: self.budget }));
        loop {
            match tar.next_entry() {
                Ok(Some(e)) => {
                    if !matches!(e.kind, EntryKind::File | EntryKind::Other(_)) {
                        continue;
                    }
                    if let Ok(p) = open::path::normalize(&e.path)
                        && let Some(node) = tree.children.get(p.as_str())
                    {
                        self.process(node, Box::new(tar.data()));
                    }
                }
                Ok(None) => return,
                Err(e) => return self.fail(tree, &format!("the archive holding it breaks before it ({e})")),
            }
        }
    }

    fn process<'s>(&mut self, node: &Node, src: Box<dyn Read + Send + 's>) {
        match node.job {
            Some(i) => self.out[i] = Some(self.open(src, node.compression)),
            None => self.walk(src, node.compression, &node.inner),
        }
    }

    /// Reads one archive into a catalog.
    fn open<'s>(&self, src: Box<dyn Read + Send + 's>, compression: Compression) -> Opened {
        if self.budget.exhausted() {
            return Opened::PastBytes;
        }
        let progress = Progress::default();
        let opened = match peek(src, compression) {
            Peeked::Tar(src) => Opened::Archive(open::read_stream(src, compression, self.depth, &progress)),
            Peeked::NotTar => Opened::NotTar,
            Peeked::Broken(e) => Opened::Unreadable(format!("its {} stream cannot be read: {e}", compression.as_str())),
        };
        if self.budget.exhausted() { Opened::PastBytes } else { opened }
    }

    /// Every archive under `tree` not read yet cannot be: `why`.
    fn fail(&mut self, tree: &Tree, why: &str) {
        let mut jobs = Vec::new();
        tree.jobs(&mut jobs);
        for i in jobs {
            self.set_failed(i, why);
        }
    }

    fn fail_node(&mut self, node: &Node, why: &str) {
        node.job.into_iter().for_each(|i| self.set_failed(i, why));
        self.fail(&node.inner, why);
    }

    fn set_failed(&mut self, i: usize, why: &str) {
        if self.out[i].is_none() {
            self.out[i] =
                Some(if self.budget.exhausted() { Opened::PastBytes } else { Opened::Unreadable(why.to_string()) });
        }
    }
}

/// Compressed input read to find what its stream starts with, at most this much.
const PEEK_MAX: usize = 4 << 20;

enum Peeked<'s> {
    /// A tar (or not known within `PEEK_MAX`): read it, from its first byte.
    Tar(Box<dyn Read + Send + 's>),
    NotTar,
    Broken(io::Error),
}

/// What a member's stream decompresses to begins with: a tar header (or the zero block of an
/// empty tar), anything else (no runtime loads it), or nothing (the stream breaks first:
/// it cannot be verified, and a runtime's decoder may read it all the same). The compressed
/// bytes read to tell are kept and replayed.
fn peek<'s>(src: Box<dyn Read + Send + 's>, compression: Compression) -> Peeked<'s> {
    if compression == Compression::None {
        return Peeked::Tar(src);
    }
    let mut rec = Recorder { inner: src, kept: Vec::new(), overflow: false };
    let head = outer_decoder(BufReader::new(&mut rec), compression).and_then(|mut d| {
        let mut head = [0u8; 512];
        let n = crate::digest::read_full(&mut d, &mut head)?;
        Ok((head, n))
    });
    let is_tar = |h: &[u8; 512]| h.iter().all(|&b| b == 0) || crate::tarstream::parse_header_block(h).is_ok();
    match head {
        // Past `PEEK_MAX` without 512 bytes out: read it whole, and see.
        Err(_) if rec.overflow => {}
        Err(e) => return Peeked::Broken(e),
        Ok((h, n)) if n < 512 || !is_tar(&h) => return Peeked::NotTar,
        Ok(_) => {}
    }
    Peeked::Tar(Box::new(io::Cursor::new(rec.kept).chain(rec.inner)))
}

/// Keeps what it reads (up to `PEEK_MAX`), so it can be read again.
struct Recorder<R> {
    inner: R,
    kept: Vec<u8>,
    overflow: bool,
}

impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.kept.len() >= PEEK_MAX {
            self.overflow = true;
            return Err(io::Error::other("read whole"));
        }
        let room = buf.len().min(PEEK_MAX - self.kept.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}
