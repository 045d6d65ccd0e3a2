//! Where a layer entry would land when unpacked. Loaders since CVE-2014-6407 / CVE-2014-9356
//! refuse entries that escape the root; we report them before anything is unpacked.

/// Why a path would leave the root, if it would.
pub fn escape_reason(path: &str) -> Option<&'static str> {
    if path.starts_with('/') {
        return Some("absolute path");
    }
    let mut depth: i64 = 0;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Some("'..' leaves the root");
                }
            }
            _ => depth += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::escape_reason;

    #[test]
    fn escapes() {
        assert!(escape_reason("/etc/passwd").is_some());
        assert!(escape_reason("../x").is_some());
        assert!(escape_reason("a/../../x").is_some());
        assert!(escape_reason("./a/../b").is_none());
        assert!(escape_reason("usr/bin/..foo").is_none());
        assert!(escape_reason("./").is_none());
    }
}
