//! `diff --files`: the two final filesystems, each as `airlock export` makes it (the same
//! rules, refusals and verification), compared path by path.
//!
//! Each image's rootfs tar streams from export's writer through a pipe into a reader here,
//! which keeps per path its type, mode, owner, link target and the sha256 of a file's bytes
//! (hashed as they pass; a hard link takes its file's): memory follows the number of paths,
//! never their bytes. The two maps are then merge-joined in walk order (a directory, then its
//! entries by name).

use super::side::Img;
use crate::digest::{Digest, HashWriter};
use crate::error::Error;
use crate::export::{self, Refused, Sink, tree::key_of};
use crate::model::Platform;
use crate::model::select::Selection;
use crate::output::{Destination, Staging, StagingError};
use crate::tarstream::{EntryKind, Stream, TarReader, name_bytes};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// One path of a final filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Rec {
    /// "file", "dir", "symlink", "char", "block" or "fifo".
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Permission bits with setuid, setgid and sticky, in octal.
    pub mode: String,
    pub uid: i64,
    pub gid: i64,
    /// A symlink's target; a device's numbers (`major,minor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// A file's size and the sha256 of its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
}

/// Paths by walk-order key.
pub type Files = BTreeMap<Vec<u8>, Rec>;

/// The final filesystem of `img` in `input`; `Err(refused)` when export refuses the image.
pub fn of(input: &Path, img: &Img, progress: bool) -> Result<Result<Files, Refused>, Error> {
    let staging = Staging::new(&Destination::Stdout).map_err(|e| match e {
        StagingError::Busy(m) => Error::OutputBusy(m),
        StagingError::Io(e) => Error::output("cannot create a temporary area", e),
    })?;
    let images = img.image_id.or(img.manifest).map(|d| vec![d.to_string()]).unwrap_or_default();
    let selection = Selection { images, platform: img.platform.as_deref().and_then(Platform::parse) };
    let (reader, mut writer) = io::pipe().map_err(|e| Error::output("cannot make a pipe", e))?;
    std::thread::scope(|s| {
        let walk = s.spawn(move || read_rootfs(reader));
        let produced = export::produce(input, &selection, progress, &staging, Sink::Writer(&mut writer));
        drop(writer);
        let files = walk.join().unwrap_or_else(|_| Err("the reader failed".into()));
        match produced? {
            Err(refused) => Ok(Err(refused)),
            Ok(_) => {
                files.map(Ok).map_err(|why| Error::output("cannot read the exported filesystem", io::Error::other(why)))
            }
        }
    })
}

/// Reads export's tar to its end into the map.
fn read_rootfs(r: io::PipeReader) -> Result<Files, String> {
    let mut r = r;
    let mut tar = TarReader::new(Stream(&mut r));
    let mut files = Files::new();
    let mut failed = None;
    while failed.is_none() {
        let e = match tar.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        };
        let m = tar.meta();
        let path = name_bytes(e.path.strip_suffix('/').unwrap_or(&e.path));
        let path = if path == b"." { Vec::new() } else { path };
        let (kind, link) = match (e.kind, e.typeflag) {
            (EntryKind::Dir, _) => ("dir", None),
            (EntryKind::Symlink, _) => ("symlink", e.link.clone()),
            (EntryKind::Device, b'3') => ("char", Some(format!("{},{}", m.devmajor, m.devminor))),
            (EntryKind::Device, b'4') => ("block", Some(format!("{},{}", m.devmajor, m.devminor))),
            (EntryKind::Device, _) => ("fifo", None),
            _ => ("file", None),
        };
        let mut rec = Rec {
            kind,
            mode: format!("{:o}", m.mode & 0o7777),
            uid: m.uid,
            gid: m.gid,
            link,
            size: None,
            sha256: None,
        };
        if e.kind == EntryKind::Hardlink {
            let target = e.link.as_deref().map(name_bytes).unwrap_or_default();
            let Some(t) = files.get(&key_of(&target)) else {
                failed = Some(format!("{} links to {:?}, not written before it", e.path, e.link));
                break;
            };
            (rec.size, rec.sha256) = (t.size, t.sha256);
        } else if kind == "file" {
            let mut h = HashWriter::new(io::sink());
            if let Err(err) = io::copy(&mut tar.data(), &mut h) {
                failed = Some(err.to_string());
                break;
            }
            let (d, n) = h.finish().map_err(|e| e.to_string())?;
            (rec.size, rec.sha256) = (Some(n), Some(d));
        }
        files.insert(key_of(&path), rec);
    }
    // Whatever is left: the writer must never block on a reader that stopped.
    let _ = io::copy(&mut r, &mut io::sink());
    failed.map_or(Ok(files), Err)
}

/// One path that differs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FileChange {
    pub path: String,
    /// "added", "removed" or "modified".
    pub change: &'static str,
    /// For "modified": what differs: "type", "content", "mode", "owner", "link".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub what: Vec<&'static str>,
    pub a: Option<Rec>,
    pub b: Option<Rec>,
}

/// The merge-join of two filesystems in walk order.
pub fn compare(a: &Files, b: &Files) -> Vec<FileChange> {
    let mut out = Vec::new();
    let (mut ia, mut ib) = (a.iter().peekable(), b.iter().peekable());
    loop {
        let order = match (ia.peek(), ib.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        let (key, ra, rb) = match order {
            std::cmp::Ordering::Less => ia.next().map(|(k, r)| (k, Some(r), None)).expect("peeked"),
            std::cmp::Ordering::Greater => ib.next().map(|(k, r)| (k, None, Some(r))).expect("peeked"),
            std::cmp::Ordering::Equal => {
                let (k, x) = ia.next().expect("peeked");
                (k, Some(x), ib.next().map(|(_, y)| y))
            }
        };
        if let Some(c) = change(key, ra, rb) {
            out.push(c);
        }
    }
    out
}

fn change(key: &[u8], a: Option<&Rec>, b: Option<&Rec>) -> Option<FileChange> {
    let path = format!("/{}", String::from_utf8_lossy(&crate::export::tree::path_of(key)));
    let (change, what) = match (a, b) {
        (Some(_), None) => ("removed", Vec::new()),
        (None, Some(_)) => ("added", Vec::new()),
        (Some(x), Some(y)) => {
            let mut what = Vec::new();
            if x.kind != y.kind {
                what.push("type");
            } else if x.sha256 != y.sha256 {
                what.push("content");
            }
            if x.mode != y.mode {
                what.push("mode");
            }
            if (x.uid, x.gid) != (y.uid, y.gid) {
                what.push("owner");
            }
            if x.kind == y.kind && x.link != y.link {
                what.push("link");
            }
            if what.is_empty() {
                return None;
            }
            ("modified", what)
        }
        (None, None) => return None,
    };
    Some(FileChange { path, change, what, a: a.cloned(), b: b.cloned() })
}
