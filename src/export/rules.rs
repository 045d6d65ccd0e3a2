//! The overlay rules: how a runtime applies a layer's entries to the filesystem of the layers
//! below, and what airlock refuses. Each rule is in [`RULES`] with the source it follows;
//! `tree.rs` applies them, and its tests exercise each one by name.
//!
//! The reference is moby's `pkg/archive` (`UnpackLayer` in diff.go, `createTarFile` in
//! archive.go), which docker's graph drivers run in a chroot of the layer's root; containerd's
//! `archive/tar.go` (`applyNaive`) agrees except where a rule says otherwise. Where the
//! runtimes disagree on what a layer makes (docker's overlay2 driver against vfs and
//! containerd, docker against containerd), airlock refuses the export rather than pick one.

/// One rule: a name the tests use, what it says, and where it comes from.
pub struct Rule {
    pub name: &'static str,
    pub rule: &'static str,
    pub source: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        name: "clean-names",
        rule: "an entry's name is cleaned lexically (`//`, `.`, `a/..` folded) before it is applied; `..` that leaves the root and absolute names refuse the export",
        source: "moby diff.go `filepath.Clean(hdr.Name)` and the breakout check; image-spec layer.md (entries are relative to the root); airlock's unsafe-layer-entry",
    },
    Rule {
        name: "layers-in-order",
        rule: "layers apply lowest first, entries in tar order; a later entry for a path replaces the earlier one",
        source: "image-spec layer.md \"Applying Changesets\"; moby `UnpackLayer`",
    },
    Rule {
        name: "replace-unless-both-dirs",
        rule: "an entry whose path exists removes what is there (a directory with everything under it) unless both are directories",
        source: "moby diff.go \"If path exits we almost always just want to remove and replace it\"; containerd applyNaive (same)",
    },
    Rule {
        name: "dir-over-dir-merges",
        rule: "a directory entry over a directory keeps its contents and takes the entry's mode, owner and mtime (the last writer's); its xattrs are added to the ones it has",
        source: "moby archive.go createTarFile (Mkdir skipped, then Lchown, Lsetxattr, Chmod; Chtimes at the end of the layer)",
    },
    Rule {
        name: "implicit-parents",
        rule: "a missing parent of an entry (or of a whiteout) is made a directory: root-owned, mode 0755 as docker 26.1, 28.5 and 29 make it (measured; docker 20.10 makes it 0600, measured, containerd's applier 0700 by its source), mtime 0 here (a runtime gives it the time it applies the layer); --provenance marks it implicit",
        source: "moby diff.go `MkdirAll(parentPath, 0600)` (20.10), 0755 later; containerd applyNaive `mkdirAll(parentPath, 0700)`",
    },
    Rule {
        name: "whiteout",
        rule: "`DIR/.wh.NAME` removes `DIR/NAME` and everything under it, whichever layer wrote it (this one included); the whiteout itself is not in the filesystem",
        source: "image-spec layer.md \"Whiteouts\"; moby diff.go `os.RemoveAll(originalPath)`",
    },
    Rule {
        name: "whiteout-names-a-child",
        rule: "a whiteout of `.`, `..` or of nothing (`.wh..`, `.wh...`, `.wh.`) refuses the export: docker removes the directory itself or its parent",
        source: "containerd applyNaive \"invalid whiteout name\" (refused); moby diff.go joins `..` and removes the parent",
    },
    Rule {
        name: "opaque",
        rule: "`DIR/.wh..wh..opq` removes everything under DIR that this layer has not written before it (entries after it stay)",
        source: "image-spec layer.md \"Opaque Whiteout\"; moby diff.go and containerd applyNaive (`unpackedPaths`)",
    },
    Rule {
        name: "one-opaque-per-dir",
        rule: "a second opaque marker for the same directory in one layer refuses the export (no tool writes one; it would make the walk quadratic)",
        source: "airlock (bounds work per entry)",
    },
    Rule {
        name: "aufs-metadata",
        rule: "entries whose name starts with `.wh..wh.` at the root (AUFS `.wh..wh.plnk`, `.wh..wh.aufs`, `.wh..wh.orph`) are skipped, after their parent is created; a hard link into `.wh..wh.plnk` refuses the export (unsupported)",
        source: "moby diff.go \"Skip AUFS metadata dirs\"; containerd applyNaive (same)",
    },
    Rule {
        name: "no-path-through-symlink",
        rule: "an entry, whiteout or hard-link target whose parent path goes through a symlink refuses the export: docker's vfs driver and containerd write through the link, docker's overlay2 driver replaces it by a directory, and a link may point out of the root",
        source: "moby chrootarchive (vfs: the kernel follows the link inside the chroot); containerd `fs.RootPath`; overlayfs (an upper directory hides a lower symlink); airlock (the layer-entry rules: no path leaves the root)",
    },
    Rule {
        name: "parent-must-be-directory",
        rule: "an entry under a file, device or FIFO refuses the export (the runtime fails: not a directory)",
        source: "moby createTarFile (open fails with ENOTDIR, the load fails)",
    },
    Rule {
        name: "no-entry-under-whiteout",
        rule: "an entry under a name that is itself a whiteout (`a/.wh.b/c`) refuses the export: docker makes a directory named `.wh.b`, an overlay snapshotter a whiteout",
        source: "airlock (the runtimes disagree)",
    },
    Rule {
        name: "root-entry",
        rule: "an entry for the root itself (`./`) sets the root's mode, owner and mtime when it is a directory (docker; containerd ignores it); any other type refuses the export",
        source: "moby diff.go (the root is Lstat'ed as a directory and merged); containerd applyNaive \"resolved to root\" (ignored)",
    },
    Rule {
        name: "hard-link-to-final-inode",
        rule: "a hard link names the file its target is at that point (an inode): when the target is later deleted or replaced, the link keeps the old content, and the export holds it as a file",
        source: "moby createTarFile `os.Link(targetPath, path)`; POSIX link(2)",
    },
    Rule {
        name: "hard-link-metadata",
        rule: "a hard-link entry gives the shared inode its owner, and its mode and mtime unless the target is a symlink; its xattrs are added",
        source: "moby createTarFile (Lchown, Lsetxattr, handleLChmod and Chtimes run on the link's path, which is the target's inode)",
    },
    Rule {
        name: "hard-link-target-exists",
        rule: "a hard link whose target does not exist at that point, or is a directory, refuses the export (the runtime's link(2) fails: the load fails)",
        source: "moby createTarFile `os.Link`; link(2) ENOENT, EPERM",
    },
    Rule {
        name: "entry-types",
        rule: "files, directories, symlinks, hard links, character and block devices and FIFOs are applied; any other type refuses the export (the runtimes fail the load)",
        source: "moby createTarFile `unhandled tar header type`; airlock's unpackable-layer-entry",
    },
    Rule {
        name: "modes-and-owners",
        rule: "a new inode takes the entry's mode (permission, setuid, setgid and sticky bits: `mode & 0o7777`), uid, gid, mtime and `SCHILY.xattr.*` records; an owner or device number that is negative or does not fit 32 bits refuses the export",
        source: "moby createTarFile (`hdr.FileInfo().Mode()`, Lchown, Lsetxattr of hdr.Xattrs); Go archive/tar `mergePAX`",
    },
    Rule {
        name: "names-the-kernel-takes",
        rule: "a name longer than 4094 bytes, or with a component longer than 255, refuses the export: the runtime cannot create it (ENAMETOOLONG)",
        source: "Linux PATH_MAX 4096 and NAME_MAX 255",
    },
    Rule {
        name: "bounded",
        rule: "at most 4,000,000 paths and 512 MiB of path names in the filesystem at any point; more refuses the export",
        source: "airlock (memory bounded by the number of paths)",
    },
];

/// The most paths the filesystem may hold at any point.
pub const MAX_PATHS: usize = 4_000_000;
/// The most bytes of path names it may hold.
pub const MAX_PATH_BYTES: usize = 512 << 20;
/// Linux: PATH_MAX (4096 with the NUL and the root's `/`) and NAME_MAX.
pub const MAX_NAME: usize = 4094;
pub const MAX_COMPONENT: usize = 255;

pub const WHITEOUT: &[u8] = b".wh.";
pub const OPAQUE: &[u8] = b".wh..wh..opq";
pub const AUFS_META: &[u8] = b".wh..wh.";
pub const AUFS_LINK_DIR: &[u8] = b".wh..wh.plnk";

/// Why a layer entry refuses the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `..` leaves the root, or the name is absolute.
    Escapes(&'static str),
    NameTooLong,
    RootNotDirectory,
    /// The parent path goes through this symlink (its target as written).
    ThroughSymlink {
        link: Vec<u8>,
        target: Vec<u8>,
    },
    UnderNonDirectory {
        parent: Vec<u8>,
    },
    UnderWhiteoutName {
        parent: Vec<u8>,
    },
    WhiteoutOfNothing,
    DuplicateOpaque,
    LinkTargetEscapes(&'static str),
    LinkTargetMissing {
        target: Vec<u8>,
    },
    LinkTargetDirectory {
        target: Vec<u8>,
    },
    LinkIntoAufsDir,
    UnsupportedType(u8),
    BadOwner {
        uid: i64,
        gid: i64,
    },
    BadDevice {
        major: i64,
        minor: i64,
    },
    TooManyPaths,
    TooMuchPathData,
}

impl Refusal {
    /// The rule of [`RULES`] this refusal comes from.
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::Escapes(_) => "clean-names",
            Refusal::NameTooLong => "names-the-kernel-takes",
            Refusal::RootNotDirectory => "root-entry",
            Refusal::ThroughSymlink { .. } => "no-path-through-symlink",
            Refusal::UnderNonDirectory { .. } => "parent-must-be-directory",
            Refusal::UnderWhiteoutName { .. } => "no-entry-under-whiteout",
            Refusal::WhiteoutOfNothing => "whiteout-names-a-child",
            Refusal::DuplicateOpaque => "one-opaque-per-dir",
            Refusal::LinkTargetEscapes(_) => "clean-names",
            Refusal::LinkTargetMissing { .. } | Refusal::LinkTargetDirectory { .. } => "hard-link-target-exists",
            Refusal::LinkIntoAufsDir => "aufs-metadata",
            Refusal::UnsupportedType(_) => "entry-types",
            Refusal::BadOwner { .. } | Refusal::BadDevice { .. } => "modes-and-owners",
            Refusal::TooManyPaths | Refusal::TooMuchPathData => "bounded",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self {
            Refusal::Escapes(why) => write!(f, "its name {why}"),
            Refusal::NameTooLong => write!(
                f,
                "its name is longer than {MAX_NAME} bytes or has a component over {MAX_COMPONENT}: no runtime can create it"
            ),
            Refusal::RootNotDirectory => f.write_str("it replaces the root directory by something else"),
            Refusal::ThroughSymlink { link, target } => write!(
                f,
                "it is under {:?}, a symlink to {:?}: docker's vfs driver and containerd write through the link, docker's overlay2 replaces the link by a directory, so the filesystem is not defined",
                s(link),
                s(target)
            ),
            Refusal::UnderNonDirectory { parent } => {
                write!(f, "it is under {:?}, which is not a directory: the runtime fails", s(parent))
            }
            Refusal::UnderWhiteoutName { parent } => {
                write!(f, "it is under {:?}, a whiteout name: the runtimes disagree on what that makes", s(parent))
            }
            Refusal::WhiteoutOfNothing => {
                f.write_str("it is a whiteout of '.', '..' or nothing: docker would remove its directory or the parent")
            }
            Refusal::DuplicateOpaque => f.write_str("the layer marks this directory opaque a second time"),
            Refusal::LinkTargetEscapes(why) => write!(f, "its hard-link target {why}"),
            Refusal::LinkTargetMissing { target } => {
                write!(f, "its hard-link target {:?} does not exist at that point: the runtime fails", s(target))
            }
            Refusal::LinkTargetDirectory { target } => {
                write!(f, "its hard-link target {:?} is a directory: the runtime fails", s(target))
            }
            Refusal::LinkIntoAufsDir => {
                f.write_str("it is a hard link into AUFS's .wh..wh.plnk, which airlock does not apply")
            }
            Refusal::UnsupportedType(t) => {
                write!(f, "its type {:?} is one the runtimes do not unpack (the load fails)", *t as char)
            }
            Refusal::BadOwner { uid, gid } => write!(f, "its owner {uid}:{gid} is not a 32-bit id"),
            Refusal::BadDevice { major, minor } => write!(f, "its device number {major}:{minor} is not 32-bit"),
            Refusal::TooManyPaths => write!(f, "the filesystem would hold more than {MAX_PATHS} paths"),
            Refusal::TooMuchPathData => {
                write!(f, "the filesystem's path names would take more than {} MiB", MAX_PATH_BYTES >> 20)
            }
        }
    }
}

/// A name cleaned as Go's `filepath.Clean` does, relative to the root: `None` for the root
/// itself. Refuses a name that leaves the root or is absolute.
pub fn clean(raw: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    if raw.first() == Some(&b'/') {
        return Err("is absolute");
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    return Err("leaves the root ('..')");
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join(&b'/')))
}

/// Whether a cleaned name is one the kernel takes.
pub fn fits_kernel(path: &[u8]) -> bool {
    path.len() <= MAX_NAME && path.split(|&c| c == b'/').all(|c| c.len() <= MAX_COMPONENT)
}

/// What the last component of a cleaned name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Base<'a> {
    Plain,
    Opaque,
    /// `.wh.NAME`: NAME (refused when it is empty, `.` or `..`).
    Whiteout(&'a [u8]),
}

pub fn base_of(base: &[u8]) -> Base<'_> {
    if base == OPAQUE {
        Base::Opaque
    } else if let Some(name) = base.strip_prefix(WHITEOUT) {
        Base::Whiteout(name)
    } else {
        Base::Plain
    }
}

/// An AUFS metadata entry that docker and containerd skip: the name (whole, from the root)
/// starts with `.wh..wh.` and is not the root's opaque marker.
pub fn is_aufs_meta(path: &[u8]) -> bool {
    path.starts_with(AUFS_META) && path != OPAQUE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_name_a_text_and_a_source() {
        let mut names = std::collections::HashSet::new();
        for r in RULES {
            assert!(names.insert(r.name), "{} twice", r.name);
            assert!(!r.rule.is_empty() && !r.source.is_empty(), "{}", r.name);
        }
    }

    #[test]
    fn every_refusal_names_a_rule_of_the_table() {
        let all = [
            Refusal::Escapes("x"),
            Refusal::NameTooLong,
            Refusal::RootNotDirectory,
            Refusal::ThroughSymlink { link: vec![], target: vec![] },
            Refusal::UnderNonDirectory { parent: vec![] },
            Refusal::UnderWhiteoutName { parent: vec![] },
            Refusal::WhiteoutOfNothing,
            Refusal::DuplicateOpaque,
            Refusal::LinkTargetEscapes("x"),
            Refusal::LinkTargetMissing { target: vec![] },
            Refusal::LinkTargetDirectory { target: vec![] },
            Refusal::LinkIntoAufsDir,
            Refusal::UnsupportedType(b'7'),
            Refusal::BadOwner { uid: -1, gid: 0 },
            Refusal::BadDevice { major: -1, minor: 0 },
            Refusal::TooManyPaths,
            Refusal::TooMuchPathData,
        ];
        for r in all {
            assert!(RULES.iter().any(|x| x.name == r.rule()), "{r:?}");
            assert!(!r.to_string().is_empty());
        }
    }

    #[test]
    fn clean_is_go_filepath_clean_inside_the_root() {
        let ok = |raw: &str, want: Option<&str>| {
            assert_eq!(clean(raw.as_bytes()), Ok(want.map(|w| w.as_bytes().to_vec())), "{raw}");
        };
        ok("./", None);
        ok(".", None);
        ok("", None);
        ok("etc/", Some("etc"));
        ok("./etc//motd", Some("etc/motd"));
        ok("a/./b/../c", Some("a/c"));
        ok("a/..", None);
        ok("usr/bin/..foo", Some("usr/bin/..foo"));
        ok(".wh..wh..opq", Some(".wh..wh..opq"));
        assert_eq!(clean(b"../x"), Err("leaves the root ('..')"));
        assert_eq!(clean(b"a/../../x"), Err("leaves the root ('..')"));
        assert_eq!(clean(b"/etc/passwd"), Err("is absolute"));
    }

    #[test]
    fn bases() {
        assert_eq!(base_of(b"motd"), Base::Plain);
        assert_eq!(base_of(b".wh..wh..opq"), Base::Opaque);
        assert_eq!(base_of(b".wh.motd"), Base::Whiteout(b"motd"));
        assert_eq!(base_of(b".wh.."), Base::Whiteout(b"."));
        assert_eq!(base_of(b".wh."), Base::Whiteout(b""));
        assert!(is_aufs_meta(b".wh..wh.plnk/123"));
        assert!(is_aufs_meta(b".wh..wh.aufs"));
        assert!(!is_aufs_meta(b".wh..wh..opq"));
        assert!(!is_aufs_meta(b"a/.wh..wh.plnk"));
    }

    #[test]
    fn kernel_limits() {
        assert!(fits_kernel(&vec![b'a'; 255]));
        assert!(!fits_kernel(&vec![b'a'; 256]));
        let deep: Vec<u8> = [&b"d/"[..]; 2047].concat();
        assert!(fits_kernel(&deep[..deep.len() - 1]));
        assert!(!fits_kernel(&[&deep[..], b"xy"].concat()));
    }
}
