//! `verify --checksums FILE`: checksum lists as they travel with bundles and downloads,
//! `sha256sum` style (`<hex>  name`, `<hex> *name`) and BSD style (`SHA256 (name) = <hex>`).
//! Every named input or bundle member is checked (`checksum-mismatch`); a name that matches
//! nothing is `checksum-missing`. The lists name files only: nothing in them makes airlock
//! open another file (inputs are hashed, bundle members come from the one pass).

use crate::digest::Digest;
use crate::error::Error;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as written (a path relative to where the list was made).
    pub name: String,
    /// Lower-case hex.
    pub sha256: String,
    /// Where it came from, for messages: `SHA256SUMS:3`.
    pub origin: String,
}

/// A list that cannot be read or parsed: a usage error (exit 2), one line.
pub fn read(path: &Path) -> Result<Vec<Entry>, Error> {
    let shown = path.display();
    let bad = |message: String| Error::Checksums { path: path.to_path_buf(), message };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot open the checksum list {shown}: {e}")))?;
    if !meta.is_file() || meta.len() > 64 << 20 {
        return Err(bad(format!("the checksum list {shown} is not a file of a sensible size")));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the checksum list {shown}: {e}")))?;
    let name = path.file_name().map_or_else(|| shown.to_string(), |n| n.to_string_lossy().into_owned());
    parse(&String::from_utf8_lossy(&bytes), &name).map_err(|e| bad(format!("the checksum list {shown}: {e}")))
}

pub fn parse(text: &str, list: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = format!("{list}:{}", i + 1);
        let (name, hex) = if let Some(rest) = line.strip_prefix("SHA256 (") {
            let (name, hex) =
                rest.rsplit_once(") = ").ok_or_else(|| format!("line {}: not `SHA256 (name) = hex`", i + 1))?;
            (name, hex.trim())
        } else {
            let hex = line.get(..64).ok_or_else(|| format!("line {} is not a sha256 checksum line", i + 1))?;
            let rest = &line[64..];
            let name = rest
                .strip_prefix("  ")
                .or_else(|| rest.strip_prefix(" *"))
                .ok_or_else(|| format!("line {}: expected `<sha256>  name` or `<sha256> *name`", i + 1))?;
            (name, hex)
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("line {}: {hex:?} is not a sha256 digest (64 hex digits)", i + 1));
        }
        if name.is_empty() {
            return Err(format!("line {}: no file name", i + 1));
        }
        out.push(Entry { name: name.to_string(), sha256: hex.to_ascii_lowercase(), origin });
    }
    Ok(out)
}

/// Whether `entry` names the file at `candidate` (a path as given, or a member path): the
/// same path, or, for a list of bare names, the same file name.
pub fn names(entry: &Entry, candidate: &str) -> bool {
    let e = entry.name.trim_start_matches("./");
    let c = candidate.trim_start_matches("./");
    e == c || (!e.contains('/') && c.rsplit('/').next() == Some(e))
}

pub fn matches(entry: &Entry, d: &Digest) -> bool {
    d.hex() == entry.sha256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_styles_and_bad_lines() {
        let h = "a".repeat(64);
        let text = format!("{h}  app.tar\n{h} *dir/b.tar.zst\n# comment\n\nSHA256 (c.tgz) = {}\n", "B".repeat(64));
        let e = parse(&text, "SUMS").unwrap();
        assert_eq!(e.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["app.tar", "dir/b.tar.zst", "c.tgz"]);
        assert_eq!(e[2].sha256, "b".repeat(64));
        assert_eq!(e[2].origin, "SUMS:5");
        assert!(parse("nope\n", "S").unwrap_err().contains("line 1"));
        assert!(parse(&format!("{}  x\n", "g".repeat(64)), "S").is_err());
        assert!(names(&e[0], "/mnt/usb/app.tar"));
        assert!(names(&e[1], "dir/b.tar.zst") && !names(&e[1], "other/b.tar.zst"));
    }
}
