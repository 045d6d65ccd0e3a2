//! `--provenance FILE`: one JSON line per path of the exported filesystem, in walk order,
//! naming the layer that last wrote it (its index in the image, lowest 0, and its diffID):
//!
//! ```text
//! {"path":"etc/motd","type":"file","layer":2,"diff_id":"sha256:…"}
//! {"path":"opt","type":"dir","layer":3,"diff_id":"sha256:…","implicit":true}
//! ```
//!
//! `type` is `dir`, `file`, `symlink`, `char`, `block` or `fifo` (a hard link is the file it
//! names); `implicit` (only when true) marks a directory no layer has an entry for, made
//! because something under it was. The root is the line `"path":"."` when a layer wrote it.
//! Paths that are not UTF-8 are escaped as in the reports (`\u{FFFD}` then `\xNN`).

use super::tree::{Kind, Node, Tree, path_of};
use crate::digest::Digest;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Line<'a> {
    path: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    layer: u16,
    diff_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    implicit: bool,
}

pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Dir => "dir",
        Kind::File => "file",
        Kind::Symlink => "symlink",
        Kind::Char => "char",
        Kind::Block => "block",
        Kind::Fifo => "fifo",
    }
}

/// Writes every line; `diff_ids` are the image's, by layer.
pub fn write(tree: &Tree, diff_ids: &[Digest], out: &mut dyn Write) -> io::Result<()> {
    let mut line = |path: &str, n: &Node| -> io::Result<()> {
        let l = Line {
            path,
            kind: kind_name(tree.inode(n.inode).kind),
            layer: n.layer,
            diff_id: diff_ids.get(n.layer as usize).map(|d| d.to_string()).unwrap_or_default(),
            implicit: n.implicit,
        };
        serde_json::to_writer(&mut *out, &l)?;
        out.write_all(b"\n")
    };
    if tree.root_written
        && let Some(root) = tree.get(b"")
    {
        line(".", root)?;
    }
    for (k, n) in tree.paths() {
        line(&crate::tarstream::name_string(&path_of(k)), n)?;
    }
    out.flush()
}
