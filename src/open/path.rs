//! Member paths. Every name an archive gives (a member, a link target, a reference in a
//! manifest) is normalised here, and one that would leave the archive is refused: airlock
//! never reads outside the input, and a loader that follows such a name could.

/// Normalises a member name to `a/b/c` (no `./`, no empty parts, no trailing slash).
/// Refuses absolute names and names whose `..` leave the archive root.
pub fn normalize(name: &str) -> Result<String, &'static str> {
    if name.starts_with('/') {
        return Err("absolute path");
    }
    join_within("", name)
}

/// Resolves `target` relative to the directory `dir` (itself normalised), staying inside.
pub fn join_within(dir: &str, target: &str) -> Result<String, &'static str> {
    if target.starts_with('/') {
        return Err("absolute path");
    }
    if target.contains('\0') {
        return Err("NUL in path");
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("'..' leaves the archive");
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// The directory part of a normalised member path.
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalize("./a//b/").unwrap(), "a/b");
        assert_eq!(normalize("a/../b").unwrap(), "b");
        assert!(normalize("/etc/passwd").is_err());
        assert!(normalize("../x").is_err());
        assert!(normalize("a/../../x").is_err());
        assert_eq!(join_within("abc", "../def/layer.tar").unwrap(), "def/layer.tar");
        assert!(join_within("abc", "../../etc").is_err());
    }
}
