//! `diff`'s output: compact and `diff`-like for people (one line per image, indented lines
//! for what changed in it), or the `Diff` as JSON (`--json`, its shape in the README).

use super::files::FileChange;
use super::images::{ConfigChange, LayerEntry, Layers, Status};
use super::{Diff, ImageDiff, ImageRef};
use crate::report::view::{human_size, shown};
use serde_json::Value;
use std::io::{self, Write};

/// `diff --json`: a JSON document of kind `airlock.diff/v1`.
pub fn json(d: &Diff, w: &mut dyn Write) -> io::Result<()> {
    crate::report::json::print_document(crate::report::json::Kind::Diff, d, w)
}

pub fn human(d: &Diff, w: &mut dyn Write) -> io::Result<()> {
    let n = |k: usize, lock: bool| {
        let what = if lock { ", a lock" } else { "" };
        format!("{k} image{}{what}", if k == 1 { "" } else { "s" })
    };
    writeln!(w, "--- {} ({})", shown(&d.a.path), n(d.a.images, d.a.lock))?;
    writeln!(w, "+++ {} ({})", shown(&d.b.path), n(d.b.images, d.b.lock))?;
    for i in &d.images {
        image(i, w)?;
    }
    let b = &d.blobs;
    writeln!(
        w,
        "blobs: B has {} layer blob{} ({}): {} ({}) in A, {} ({}) not",
        b.b_blobs,
        if b.b_blobs == 1 { "" } else { "s" },
        human_size(b.b_bytes),
        b.reused_blobs,
        human_size(b.reused_bytes),
        b.new_blobs,
        human_size(b.new_bytes)
    )?;
    writeln!(w, "{}", if d.equal { "equal" } else { "different" })
}

fn names(r: &ImageRef) -> String {
    match (r.tags.is_empty(), r.image_id) {
        (false, _) => shown(&r.tags.join(", ")),
        (true, Some(d)) => format!("<untagged {}>", d.short()),
        (true, None) => format!("<untagged @{}>", r.index),
    }
}

fn id(r: &ImageRef) -> String {
    r.image_id.map_or_else(|| "?".to_string(), |d| d.short())
}

fn image(i: &ImageDiff, w: &mut dyn Write) -> io::Result<()> {
    let platform = i.platform.as_deref().map(|p| format!(" ({})", shown(p))).unwrap_or_default();
    match (&i.a, &i.b) {
        (Some(a), Some(b)) => {
            let (mark, word) = match i.status {
                Status::Same => ("=", "same"),
                Status::Retagged => ("~", "retagged"),
                _ => ("~", "changed"),
            };
            let name = if a.tags == b.tags { names(b) } else { format!("{} -> {}", names(a), names(b)) };
            let ids = if a.image_id == b.image_id { id(b) } else { format!("{} -> {}", id(a), id(b)) };
            writeln!(w, "{mark} {name}{platform}  {word}  {ids}")?;
        }
        (Some(a), None) => writeln!(w, "- {}{platform}  removed  {}", names(a), id(a))?,
        (None, Some(b)) => writeln!(w, "+ {}{platform}  added  {}", names(b), id(b))?,
        (None, None) => {}
    }
    if matches!(i.status, Status::Same | Status::Retagged) {
        return Ok(()); // the same image: nothing inside it differs
    }
    if let Some(l) = &i.layers {
        layers(l, w)?;
    }
    if let Some(c) = &i.config {
        config(c, w)?;
    } else if i.a.is_some() && i.b.is_some() {
        writeln!(w, "    config: not compared (a lock records none)")?;
    }
    if let Some(f) = &i.files {
        files(f, w)?;
    }
    Ok(())
}

fn layers(l: &Layers, w: &mut dyn Write) -> io::Result<()> {
    let recompressed = l.shared.iter().filter(|s| s.same_blob == Some(false)).count();
    let also = if recompressed > 0 { format!(", {recompressed} of them in other blobs") } else { String::new() };
    writeln!(
        w,
        "    layers: {} shared ({}{also}), {} added ({}), {} removed ({})",
        l.shared.len(),
        human_size(l.shared_bytes),
        l.added.len(),
        human_size(l.added_bytes),
        l.removed.len(),
        human_size(l.removed_bytes)
    )?;
    let line = |mark: &str, e: &LayerEntry| {
        let d = e.diff_id.or(e.digest).map_or_else(|| "?".to_string(), |d| d.short());
        format!("      {mark} {d}  {}", e.size.map_or_else(|| "?".to_string(), human_size))
    };
    for e in &l.added {
        writeln!(w, "{}", line("+", e))?;
    }
    for e in &l.removed {
        writeln!(w, "{}", line("-", e))?;
    }
    Ok(())
}

fn config(changes: &[ConfigChange], w: &mut dyn Write) -> io::Result<()> {
    if !changes.is_empty() {
        writeln!(w, "    config:")?;
    }
    for c in changes {
        match (&c.a, &c.b) {
            (Value::Array(_) | Value::Object(_), Value::Array(_) | Value::Object(_))
                if c.field != "entrypoint" && c.field != "cmd" =>
            {
                let (xa, xb) = (items(&c.a), items(&c.b));
                writeln!(w, "      {}:", c.field)?;
                for x in xa.iter().filter(|x| !xb.contains(x)) {
                    writeln!(w, "        - {}", shown(x))?;
                }
                for x in xb.iter().filter(|x| !xa.contains(x)) {
                    writeln!(w, "        + {}", shown(x))?;
                }
            }
            (a, b) => writeln!(w, "      {}: {} -> {}", c.field, shown(&a.to_string()), shown(&b.to_string()))?,
        }
    }
    Ok(())
}

/// A list's strings, or a map's `key=value`s.
fn items(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string)).collect(),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect(),
        _ => Vec::new(),
    }
}

fn files(changes: &[FileChange], w: &mut dyn Write) -> io::Result<()> {
    let count = |c: &str| changes.iter().filter(|x| x.change == c).count();
    writeln!(w, "    files: {} added, {} removed, {} modified", count("added"), count("removed"), count("modified"))?;
    for c in changes {
        let mark = match c.change {
            "added" => "+",
            "removed" => "-",
            _ => "M",
        };
        let what = if c.what.is_empty() { String::new() } else { format!("  ({})", detail(c)) };
        writeln!(w, "      {mark} {}{what}", shown(&c.path))?;
    }
    Ok(())
}

/// What changed in a modified path: `content`, `mode 644 -> 755`, `owner 0:0 -> 1:1`, …
fn detail(c: &FileChange) -> String {
    let (Some(a), Some(b)) = (&c.a, &c.b) else { return String::new() };
    c.what
        .iter()
        .map(|w| match *w {
            "type" => format!("type {} -> {}", a.kind, b.kind),
            "mode" => format!("mode {} -> {}", a.mode, b.mode),
            "owner" => format!("owner {}:{} -> {}:{}", a.uid, a.gid, b.uid, b.gid),
            "link" => {
                format!("link {} -> {}", shown(a.link.as_deref().unwrap_or("")), shown(b.link.as_deref().unwrap_or("")))
            }
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
