//! The filesystem the layers make, built from their headers alone: for each path, which
//! layer's entry wins, and for each file, which entry holds its bytes. Paths are keys of one
//! ordered map; memory is per path (about 100 bytes and the name), never per byte of data.
//!
//! Keys are the cleaned path with `/` as a zero byte (names hold no NUL), so the map's order
//! is the order of Go's `filepath.Walk` (a directory, then its entries by name, depth first),
//! and a directory's subtree is one contiguous range.

use super::rules::{self, Base, Refusal};
use crate::tarstream::{Meta, Mtime};
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

/// Where an entry is: its layer (0 = the lowest) and its position in the layer's tar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub layer: u16,
    pub entry: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Char,
    Block,
    Fifo,
}

/// What a layer entry is, as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
    /// A type the runtimes do not unpack (the raw type flag).
    Unsupported(u8),
}

/// One layer entry: its raw name, type, link target (symlinks and hard links), data size and
/// metadata.
pub struct Item<'a> {
    pub name: &'a [u8],
    pub kind: ItemKind,
    pub link: &'a [u8],
    pub size: u64,
    pub meta: &'a Meta,
}

/// A file, directory, symlink, device or FIFO; several paths share one when hard-linked.
#[derive(Debug, Clone)]
pub struct Inode {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: Mtime,
    /// A file's size: the bytes of the entry at `at`.
    pub size: u64,
    pub dev: (u32, u32),
    /// The entry that made it: a file's bytes are that entry's data.
    pub at: Pos,
    pub(super) refs: u32,
    /// A symlink's target, and extended attributes: rare, so boxed.
    pub extra: Option<Box<Extra>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    pub target: Vec<u8>,
    /// Sorted by name.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Inode {
    pub fn target(&self) -> &[u8] {
        self.extra.as_ref().map_or(&[], |e| &e.target)
    }
    pub fn xattrs(&self) -> &[(Vec<u8>, Vec<u8>)] {
        self.extra.as_ref().map_or(&[], |e| &e.xattrs)
    }
}

/// A path: its inode, the layer that last wrote it, and whether that layer only made it
/// as the missing parent of an entry.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub inode: u32,
    pub layer: u16,
    pub implicit: bool,
}

pub struct Tree {
    nodes: BTreeMap<Box<[u8]>, Node>,
    inodes: Vec<Inode>,
    free: Vec<u32>,
    path_bytes: usize,
    layer: u16,
    /// Directories this layer made opaque.
    opaque: HashSet<Box<[u8]>>,
    /// Whether a layer wrote the root itself (`./`).
    pub root_written: bool,
    /// `rules::MAX_PATHS` and `rules::MAX_PATH_BYTES` (smaller in tests).
    max_paths: usize,
    max_path_bytes: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

/// The key of a cleaned path (`/` as 0).
pub fn key_of(path: &[u8]) -> Vec<u8> {
    path.iter().map(|&c| if c == b'/' { 0 } else { c }).collect()
}

/// The path of a key.
pub fn path_of(key: &[u8]) -> Vec<u8> {
    key.iter().map(|&c| if c == 0 { b'/' } else { c }).collect()
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    if dir.is_empty() { name.to_vec() } else { [dir, &[0], name].concat() }
}

/// The keys strictly under `key` (everything but the root for the root).
fn under(key: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    if key.is_empty() {
        return (Bound::Excluded(Vec::new()), Bound::Unbounded);
    }
    (Bound::Included([key, &[0]].concat()), Bound::Excluded([key, &[1]].concat()))
}

fn new_inode(kind: Kind, item: &Item, at: Pos) -> Result<Inode, Refusal> {
    let m = item.meta;
    let id = |v: i64| u32::try_from(v).ok().filter(|&v| v != u32::MAX);
    let (Some(uid), Some(gid)) = (id(m.uid), id(m.gid)) else {
        return Err(Refusal::BadOwner { uid: m.uid, gid: m.gid });
    };
    let dev = if matches!(kind, Kind::Char | Kind::Block) {
        match (u32::try_from(m.devmajor), u32::try_from(m.devminor)) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(Refusal::BadDevice { major: m.devmajor, minor: m.devminor }),
        }
    } else {
        (0, 0)
    };
    let target = if kind == Kind::Symlink { item.link.to_vec() } else { Vec::new() };
    let extra =
        (!target.is_empty() || !m.xattrs.is_empty()).then(|| Box::new(Extra { target, xattrs: m.xattrs.clone() }));
    Ok(Inode {
        kind,
        mode: (m.mode & 0o7777) as u32,
        uid,
        gid,
        mtime: m.mtime,
        size: if kind == Kind::File { item.size } else { 0 },
        dev,
        at,
        refs: 0,
        extra,
    })
}

/// Adds `more` to an inode's xattrs (a name already there takes the new value).
fn merge_xattrs(inode: &mut Inode, more: &[(Vec<u8>, Vec<u8>)]) {
    if more.is_empty() {
        return;
    }
    let extra = inode.extra.get_or_insert_with(Default::default);
    let mut all: BTreeMap<Vec<u8>, Vec<u8>> = std::mem::take(&mut extra.xattrs).into_iter().collect();
    all.extend(more.iter().cloned());
    extra.xattrs = all.into_iter().collect();
}

impl Tree {
    pub fn new() -> Tree {
        let root = Inode {
            kind: Kind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: Mtime::default(),
            size: 0,
            dev: (0, 0),
            at: Pos { layer: 0, entry: 0 },
            refs: 1,
            extra: None,
        };
        let mut nodes = BTreeMap::new();
        nodes.insert(Box::from(&[][..]), Node { inode: 0, layer: 0, implicit: true });
        Tree {
            nodes,
            inodes: vec![root],
            free: Vec::new(),
            path_bytes: 0,
            layer: 0,
            opaque: HashSet::new(),
            root_written: false,
            max_paths: rules::MAX_PATHS,
            max_path_bytes: rules::MAX_PATH_BYTES,
        }
    }

    /// A tree with other bounds (tests).
    #[cfg(test)]
    pub fn with_bounds(max_paths: usize, max_path_bytes: usize) -> Tree {
        Tree { max_paths, max_path_bytes, ..Tree::new() }
    }

    pub fn begin_layer(&mut self, layer: u16) {
        self.layer = layer;
        self.opaque.clear();
    }

    /// Every path but the root, in walk order, with its node.
    pub fn paths(&self) -> impl Iterator<Item = (&[u8], &Node)> {
        self.nodes.range::<[u8], _>((Bound::Excluded(&[][..]), Bound::Unbounded)).map(|(k, n)| (&k[..], n))
    }

    pub fn len(&self) -> usize {
        self.nodes.len() - 1
    }

    pub fn inode(&self, i: u32) -> &Inode {
        &self.inodes[i as usize]
    }

    pub fn root(&self) -> &Inode {
        &self.inodes[0]
    }

    /// The node at a key.
    pub fn get(&self, key: &[u8]) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// Applies one entry of the current layer (`rules::RULES`, in moby's order).
    pub fn apply(&mut self, at: Pos, item: &Item) -> Result<(), Refusal> {
        if item.name.contains(&0) {
            return Err(Refusal::Escapes("holds a NUL byte"));
        }
        let Some(path) = rules::clean(item.name).map_err(Refusal::Escapes)? else {
            return self.apply_root(item);
        };
        if !rules::fits_kernel(&path) {
            return Err(Refusal::NameTooLong);
        }
        let key = key_of(&path);
        let split = key.iter().rposition(|&c| c == 0);
        let (parent, base) = match split {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => (&[][..], &key[..]),
        };
        let missing = self.check_parents(&key)?;
        if rules::is_aufs_meta(&path) {
            // Skipped, after its parent was made (moby's order).
            return self.make_parents(&key, missing);
        }
        let mut end = 0;
        for c in parent.split(|&c| c == 0).filter(|_| !parent.is_empty()) {
            end += c.len();
            if c.starts_with(rules::WHITEOUT) {
                return Err(Refusal::UnderWhiteoutName { parent: path_of(&parent[..end]) });
            }
            end += 1;
        }
        match rules::base_of(base) {
            Base::Whiteout(b"" | b"." | b"..") => Err(Refusal::WhiteoutOfNothing),
            Base::Whiteout(name) => {
                self.make_parents(&key, missing)?;
                let victim = join(parent, name);
                if self.nodes.contains_key(&victim[..]) {
                    self.remove_subtree(&victim);
                }
                Ok(())
            }
            Base::Opaque => {
                self.make_parents(&key, missing)?;
                if !self.opaque.insert(Box::from(parent)) {
                    return Err(Refusal::DuplicateOpaque);
                }
                self.make_opaque(parent);
                Ok(())
            }
            Base::Plain => {
                self.make_parents(&key, missing)?;
                self.put(at, &key, item)
            }
        }
    }

    /// An entry for the root: a directory sets its metadata, anything else is refused.
    fn apply_root(&mut self, item: &Item) -> Result<(), Refusal> {
        if item.kind != ItemKind::Dir {
            return Err(Refusal::RootNotDirectory);
        }
        let fresh = new_inode(Kind::Dir, item, Pos { layer: self.layer, entry: 0 })?;
        let root = &mut self.inodes[0];
        (root.mode, root.uid, root.gid, root.mtime) = (fresh.mode, fresh.uid, fresh.gid, fresh.mtime);
        merge_xattrs(root, item.meta.xattrs.as_slice());
        if let Some(n) = self.nodes.get_mut(&[][..]) {
            n.layer = self.layer;
            n.implicit = false;
        }
        self.root_written = true;
        Ok(())
    }

    /// Checks the parents of `key`: each must be a directory, and none a symlink. Returns the
    /// length of the first missing one (all below it are missing too), if one is.
    fn check_parents(&self, key: &[u8]) -> Result<Option<usize>, Refusal> {
        for (i, _) in key.iter().enumerate().filter(|(_, c)| **c == 0) {
            let Some(node) = self.nodes.get(&key[..i]) else {
                return Ok(Some(i));
            };
            let inode = self.inode(node.inode);
            match inode.kind {
                Kind::Dir => {}
                Kind::Symlink => {
                    return Err(Refusal::ThroughSymlink { link: path_of(&key[..i]), target: inode.target().to_vec() });
                }
                _ => return Err(Refusal::UnderNonDirectory { parent: path_of(&key[..i]) }),
            }
        }
        Ok(None)
    }

    /// Makes the missing parents of `key`, from the one `check_parents` found.
    fn make_parents(&mut self, key: &[u8], missing: Option<usize>) -> Result<(), Refusal> {
        let Some(from) = missing else { return Ok(()) };
        let ends: Vec<usize> = (from..key.len()).filter(|&i| key[i] == 0).collect();
        for end in ends {
            let inode = Inode {
                kind: Kind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                mtime: Mtime::default(),
                size: 0,
                dev: (0, 0),
                at: Pos { layer: self.layer, entry: 0 },
                refs: 0,
                extra: None,
            };
            self.insert(&key[..end], inode, true)?;
        }
        Ok(())
    }

    /// A plain entry at `key`: replaces what is there, or merges into a directory.
    fn put(&mut self, at: Pos, key: &[u8], item: &Item) -> Result<(), Refusal> {
        let kind = match item.kind {
            ItemKind::File => Kind::File,
            ItemKind::Dir => Kind::Dir,
            ItemKind::Symlink => Kind::Symlink,
            ItemKind::Char => Kind::Char,
            ItemKind::Block => Kind::Block,
            ItemKind::Fifo => Kind::Fifo,
            ItemKind::Hardlink => return self.put_hardlink(key, item),
            ItemKind::Unsupported(t) => return Err(Refusal::UnsupportedType(t)),
        };
        if kind == Kind::Symlink && item.link.is_empty() {
            // symlink(2) refuses an empty target: the load fails.
            return Err(Refusal::UnsupportedType(b'2'));
        }
        let fresh = new_inode(kind, item, at)?;
        if let Some(node) = self.nodes.get(key).copied() {
            let old = &mut self.inodes[node.inode as usize];
            if old.kind == Kind::Dir && kind == Kind::Dir {
                (old.mode, old.uid, old.gid, old.mtime) = (fresh.mode, fresh.uid, fresh.gid, fresh.mtime);
                merge_xattrs(old, fresh.xattrs());
                let n = self.nodes.get_mut(key).expect("just found");
                n.layer = self.layer;
                n.implicit = false;
                return Ok(());
            }
            self.remove_subtree(key);
        }
        self.insert(key, fresh, false)
    }

    /// A hard link: the path shares its target's inode, which takes the link's owner (and
    /// mode and mtime unless it is a symlink) and xattrs.
    fn put_hardlink(&mut self, key: &[u8], item: &Item) -> Result<(), Refusal> {
        let target = match rules::clean(item.link) {
            Ok(Some(t)) => t,
            Ok(None) => return Err(Refusal::LinkTargetDirectory { target: b"/".to_vec() }),
            Err(why) => return Err(Refusal::LinkTargetEscapes(why)),
        };
        if target.starts_with(rules::AUFS_LINK_DIR) {
            return Err(Refusal::LinkIntoAufsDir);
        }
        let fresh = new_inode(Kind::File, item, Pos { layer: self.layer, entry: 0 })?;
        if self.nodes.contains_key(key) {
            self.remove_subtree(key);
        }
        let tkey = key_of(&target);
        if self.check_parents(&tkey)?.is_some() {
            return Err(Refusal::LinkTargetMissing { target });
        }
        let Some(t) = self.nodes.get(&tkey[..]).copied() else {
            return Err(Refusal::LinkTargetMissing { target });
        };
        let inode = &mut self.inodes[t.inode as usize];
        match inode.kind {
            Kind::Dir => return Err(Refusal::LinkTargetDirectory { target }),
            Kind::Symlink => {}
            _ => (inode.mode, inode.mtime) = (fresh.mode, fresh.mtime),
        }
        (inode.uid, inode.gid) = (fresh.uid, fresh.gid);
        merge_xattrs(inode, fresh.xattrs());
        self.link(key, t.inode, false)
    }

    /// Adds a node for a new inode.
    fn insert(&mut self, key: &[u8], inode: Inode, implicit: bool) -> Result<(), Refusal> {
        self.reserve(key)?;
        let i = match self.free.pop() {
            Some(i) => {
                self.inodes[i as usize] = inode;
                i
            }
            None => {
                self.inodes.push(inode);
                (self.inodes.len() - 1) as u32
            }
        };
        self.link(key, i, implicit)
    }

    /// Adds a node for an existing inode.
    fn link(&mut self, key: &[u8], inode: u32, implicit: bool) -> Result<(), Refusal> {
        self.reserve(key)?;
        self.inodes[inode as usize].refs += 1;
        self.path_bytes += key.len();
        self.nodes.insert(Box::from(key), Node { inode, layer: self.layer, implicit });
        Ok(())
    }

    fn reserve(&self, key: &[u8]) -> Result<(), Refusal> {
        if self.nodes.len() > self.max_paths {
            return Err(Refusal::TooManyPaths);
        }
        if self.path_bytes + key.len() > self.max_path_bytes {
            return Err(Refusal::TooMuchPathData);
        }
        Ok(())
    }

    /// Removes a path and everything under it.
    fn remove_subtree(&mut self, key: &[u8]) {
        let mut keys: Vec<Box<[u8]>> =
            self.nodes.range::<[u8], _>(bounds(&under(key))).map(|(k, _)| k.clone()).collect();
        keys.push(Box::from(key));
        for k in keys {
            if let Some(n) = self.nodes.remove(&k) {
                self.path_bytes -= k.len();
                self.unref(n.inode);
            }
        }
    }

    fn unref(&mut self, i: u32) {
        let inode = &mut self.inodes[i as usize];
        inode.refs -= 1;
        if inode.refs == 0 {
            inode.extra = None;
            self.free.push(i);
        }
    }

    /// Removes everything under `dir` this layer has not written: moby's walk, which keeps
    /// (and descends into) a path of `unpackedPaths` and removes any other with its subtree.
    fn make_opaque(&mut self, dir: &[u8]) {
        let mut doomed: Vec<Box<[u8]>> = Vec::new();
        for (k, n) in self.nodes.range::<[u8], _>(bounds(&under(dir))) {
            if let Some(last) = doomed.last()
                && k.starts_with(last)
                && k.get(last.len()) == Some(&0)
            {
                continue;
            }
            if n.layer != self.layer || n.implicit {
                doomed.push(k.clone());
            }
        }
        for k in doomed {
            self.remove_subtree(&k);
        }
    }
}

fn bounds(b: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (one(&b.0), one(&b.1))
}

fn one(x: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match x {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests;
