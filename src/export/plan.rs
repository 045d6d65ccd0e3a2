//! The order of the output, from the finished tree, and the writing of it.
//!
//! First, before any layer is read again: the root (when a layer wrote it), then every
//! directory, symlink, device and FIFO, in walk order (Go's `filepath.Walk`: a directory
//! before what is in it, names in byte order); then the regular files, in the order their
//! bytes come in the layers (layer by layer, in tar order), each followed by the other paths
//! of its inode as hard links to it. The first path of an inode in walk order is the one
//! that holds the bytes (`docker export` does the same), so the same image always gives the
//! same bytes.

use super::layers::Stop;
use super::tar_out::{TarOut, Type};
use super::tree::{Inode, Kind, Pos, Tree, path_of};
use crate::tarstream::{Stream, TarReader};
use std::collections::HashMap;
use std::io::{self, Read, Write};

/// Where the entries go: the tar, or a directory.
pub trait Out {
    /// One entry (see `TarOut::header`); a file's bytes follow through `data`.
    fn header(&mut self, name: &[u8], ty: Type, inode: &Inode, link: &[u8], size: u64) -> io::Result<()>;
    /// Copies `size` bytes of the current file; returns how many there were.
    fn data(&mut self, r: &mut dyn Read, size: u64) -> io::Result<u64>;
}

impl<W: Write> Out for TarOut<W> {
    fn header(&mut self, name: &[u8], ty: Type, inode: &Inode, link: &[u8], size: u64) -> io::Result<()> {
        TarOut::header(self, name, ty, inode, link, size)
    }
    fn data(&mut self, r: &mut dyn Read, size: u64) -> io::Result<u64> {
        TarOut::data(self, r, size)
    }
}

/// Where each file's bytes are: (the entry, the inode, a path), sorted by entry, an inode's
/// paths in walk order.
pub struct Plan<'t> {
    tree: &'t Tree,
    files: Vec<(Pos, u32, &'t [u8])>,
}

/// Why writing a layer's files failed.
#[derive(Debug)]
pub enum EmitError {
    Output(io::Error),
    /// The second read did not give what the first did (the scan's digests say more).
    InputChanged(String),
}

impl<'t> Plan<'t> {
    pub fn new(tree: &'t Tree) -> Plan<'t> {
        let mut files: Vec<(Pos, u32, &[u8])> = tree
            .paths()
            .filter(|(_, n)| tree.inode(n.inode).kind == Kind::File)
            .map(|(k, n)| (tree.inode(n.inode).at, n.inode, k))
            .collect();
        // Stable: an inode's paths stay in walk order.
        files.sort_by_key(|f| f.0);
        Plan { tree, files }
    }

    /// The layers whose bytes the output needs, lowest first.
    pub fn layers(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self.files.iter().map(|f| f.0.layer).collect();
        v.dedup();
        v
    }

    /// The regular files, counted once per inode.
    pub fn file_count(&self) -> usize {
        self.files.windows(2).filter(|w| w[0].1 != w[1].1).count() + usize::from(!self.files.is_empty())
    }

    fn files_of(&self, layer: u16) -> &[(Pos, u32, &'t [u8])] {
        let lo = self.files.partition_point(|f| f.0.layer < layer);
        let hi = self.files.partition_point(|f| f.0.layer <= layer);
        &self.files[lo..hi]
    }

    /// The root, directories, symlinks, devices and FIFOs.
    pub fn write_first(&self, out: &mut dyn Out) -> io::Result<()> {
        if self.tree.root_written {
            out.header(b"", Type::Dir, self.tree.root(), b"", 0)?;
        }
        let mut first: HashMap<u32, Vec<u8>> = HashMap::new();
        for (k, n) in self.tree.paths() {
            let inode = self.tree.inode(n.inode);
            if inode.kind == Kind::File {
                continue;
            }
            let path = path_of(k);
            if let Some(p) = first.get(&n.inode) {
                out.header(&path, Type::Hardlink, inode, p, 0)?;
                continue;
            }
            out.header(&path, Type::of(inode.kind), inode, inode.target(), 0)?;
            if inode.kind != Kind::Dir && inode.refs > 1 {
                first.insert(n.inode, path);
            }
        }
        Ok(())
    }

    /// Pass 2 over one layer: writes the files whose bytes it holds, reading its entries as
    /// pass 1 did. Reads the input to its end.
    pub fn write_layer(&self, r: &mut dyn Read, layer: u16, out: &mut dyn Out) -> Result<(), EmitError> {
        let files = self.files_of(layer);
        let mut tar = TarReader::new(Stream(r));
        let mut entry: u32 = 0;
        let mut at = 0;
        while at < files.len() {
            let Some(e) =
                tar.next_entry().map_err(|e| EmitError::InputChanged(Stop::Tar(e.to_string()).to_string()))?
            else {
                break;
            };
            if files[at].0.entry == entry {
                let (_, id, key) = files[at];
                let inode = self.tree.inode(id);
                if e.size != inode.size {
                    return Err(EmitError::InputChanged(format!("entry {entry} is {} bytes now", e.size)));
                }
                let primary = path_of(key);
                out.header(&primary, Type::File, inode, b"", inode.size).map_err(EmitError::Output)?;
                let n = out.data(&mut tar.data(), inode.size).map_err(EmitError::Output)?;
                if n != inode.size {
                    return Err(EmitError::InputChanged(format!("entry {entry} ends after {n} bytes")));
                }
                at += 1;
                while at < files.len() && files[at].1 == id {
                    out.header(&path_of(files[at].2), Type::Hardlink, inode, &primary, 0).map_err(EmitError::Output)?;
                    at += 1;
                }
            }
            entry += 1;
        }
        if at < files.len() {
            return Err(EmitError::InputChanged(format!("the layer has only {entry} entries now")));
        }
        Ok(())
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Refused { entry, name, why } => write!(f, "entry {entry} {name:?}: {why}"),
            Stop::Tar(e) => write!(f, "not a valid tar: {e}"),
        }
    }
}
