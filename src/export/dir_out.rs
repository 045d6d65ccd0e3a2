//! `-o DIR/`: the filesystem as a directory, written in the staging area in the tar's order,
//! then given its metadata from the deepest path up (owners, xattrs, modes, mtimes), so that
//! a read-only directory or a setuid bit (which chown clears) comes out as the image says.
//!
//! Safety: every path is created below the staging directory by name, and none goes through a
//! symlink (the tree refuses those, and directories are made before anything in them); files
//! are created exclusively (`O_EXCL | O_NOFOLLOW`), metadata is set without following links.
//! Not root: owners cannot be set and device nodes cannot be made; both are said in notes,
//! as is an xattr the filesystem refuses.

use super::plan::Out;
use super::tar_out::Type;
use super::tree::{Inode, Kind, Tree, path_of};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, Timespec, Timestamps, XattrFlags};
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct DirOut {
    root: PathBuf,
    as_root: bool,
    current: Option<File>,
    /// Paths not made (a device when not root), and xattrs not set.
    skipped: Vec<Vec<u8>>,
    xattrs_refused: usize,
    /// Bytes of file data written.
    bytes: u64,
}

fn err(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

impl DirOut {
    pub fn new(root: PathBuf) -> io::Result<DirOut> {
        fs::create_dir(&root)?;
        let as_root = rustix::process::geteuid().is_root();
        Ok(DirOut { root, as_root, current: None, skipped: Vec::new(), xattrs_refused: 0, bytes: 0 })
    }

    fn at(&self, path: &[u8]) -> PathBuf {
        self.root.join(OsStr::from_bytes(path))
    }

    /// Owners, xattrs, modes and mtimes, deepest first; returns the bytes of file data
    /// written, and notes for the user.
    pub fn finish(mut self, tree: &Tree) -> io::Result<(u64, Vec<String>)> {
        let paths: Vec<(Vec<u8>, u32)> = tree.paths().map(|(k, n)| (path_of(k), n.inode)).collect();
        for (path, inode) in paths.iter().rev() {
            if self.skipped.contains(path) {
                continue;
            }
            let p = self.at(path);
            self.metadata(&p, tree.inode(*inode))?;
        }
        let root = self.root.clone();
        self.metadata(&root, tree.root())?;
        let mut notes = Vec::new();
        if !self.as_root {
            notes
                .push("not root: every path is owned by the user who ran the export, not by the image's owners".into());
        }
        if !self.skipped.is_empty() {
            let names: Vec<String> = self.skipped.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
            notes.push(format!("not root: {} device node(s) not made: {}", names.len(), names.join(", ")));
        }
        if self.xattrs_refused > 0 {
            notes.push(format!(
                "{} extended attribute(s) refused by the filesystem or not permitted",
                self.xattrs_refused
            ));
        }
        Ok((self.bytes, notes))
    }

    fn metadata(&mut self, p: &Path, inode: &Inode) -> io::Result<()> {
        if self.as_root {
            let id = |v: u32| Some(rfs::Uid::from_raw(v));
            rfs::chownat(rfs::CWD, p, id(inode.uid), Some(rfs::Gid::from_raw(inode.gid)), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(err)?;
        }
        for (k, v) in inode.xattrs() {
            if rfs::lsetxattr(p, OsStr::from_bytes(k), v, XattrFlags::empty()).is_err() {
                self.xattrs_refused += 1;
            }
        }
        if inode.kind != Kind::Symlink {
            rfs::chmodat(rfs::CWD, p, Mode::from_raw_mode(inode.mode), AtFlags::empty()).map_err(err)?;
        }
        let t = Timespec { tv_sec: inode.mtime.secs, tv_nsec: inode.mtime.nanos as _ };
        let times = Timestamps { last_access: t, last_modification: t };
        rfs::utimensat(rfs::CWD, p, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(err)
    }
}

impl Out for DirOut {
    fn header(&mut self, name: &[u8], ty: Type, inode: &Inode, link: &[u8], _size: u64) -> io::Result<()> {
        self.current = None;
        if name.is_empty() {
            return Ok(()); // the root: its metadata is set at the end
        }
        let p = self.at(name);
        let node = |ft: FileType| {
            let dev = rfs::makedev(inode.dev.0, inode.dev.1);
            rfs::mknodat(rfs::CWD, &p, ft, Mode::from_raw_mode(0o600), dev)
        };
        let made = match ty {
            Type::Dir => fs::create_dir(&p),
            Type::Symlink => std::os::unix::fs::symlink(OsStr::from_bytes(link), &p),
            Type::Hardlink => fs::hard_link(self.at(link), &p),
            Type::File => {
                let f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc_nofollow())
                    .open(&p)?;
                self.current = Some(f);
                Ok(())
            }
            Type::Fifo => node(FileType::Fifo).map_err(err),
            Type::Char | Type::Block if !self.as_root => {
                self.skipped.push(name.to_vec());
                Ok(())
            }
            Type::Char => node(FileType::CharacterDevice).map_err(err),
            Type::Block => node(FileType::BlockDevice).map_err(err),
        };
        match made {
            // A hard link to a device that was not made.
            Err(e)
                if ty == Type::Hardlink
                    && e.kind() == io::ErrorKind::NotFound
                    && self.skipped.contains(&link.to_vec()) =>
            {
                self.skipped.push(name.to_vec());
                Ok(())
            }
            other => other,
        }
    }

    fn data(&mut self, r: &mut dyn Read, size: u64) -> io::Result<u64> {
        let f = self.current.as_mut().ok_or_else(|| io::Error::other("data without a file"))?;
        let n = io::copy(&mut r.take(size), f)?;
        f.flush()?;
        self.bytes += n;
        Ok(n)
    }
}

/// `O_NOFOLLOW`: never open a file through a link at its own name.
fn libc_nofollow() -> i32 {
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}
