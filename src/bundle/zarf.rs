//! A Zarf package's own integrity data, checked as `zarf package verify` checks it
//! (zarf-dev/zarf `src/pkg/packager/layout/package.go`, `validatePackageIntegrity`):
//!
//! | rule | code |
//! |---|---|
//! | `zarf.yaml` and `checksums.txt` are there, and sha256(`checksums.txt`) equals `metadata.aggregateChecksum` | `bundle-checksums-invalid` |
//! | every line is `<sha256> <path>` (one space), the path inside the package | `bundle-checksums-invalid` / `unsafe-path` |
//! | every listed file is there | `bundle-file-missing` |
//! | every listed file hashes to its line | `bundle-checksum-mismatch` |
//! | every other file is listed, except `zarf.yaml`, `checksums.txt`, `zarf.yaml.sig`, `zarf.bundle.sig` | `bundle-file-unlisted` |
//!
//! The hashes come from the one pass that read the package: nothing is read again.

use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::open::{Catalog, MemberKind, path};

const ZARF_YAML: &str = "zarf.yaml";
const CHECKSUMS: &str = "checksums.txt";
/// Never listed in checksums.txt: the root of trust and its signatures.
const EXCLUDED: &[&str] = &[ZARF_YAML, CHECKSUMS, "zarf.yaml.sig", "zarf.bundle.sig"];

/// Whether the catalog is a Zarf package (a `zarf.yaml` at its root).
pub fn is_package(c: &Catalog) -> bool {
    c.has(ZARF_YAML)
}

/// The integrity findings of a Zarf package whose members were hashed (verify).
pub fn check(c: &Catalog) -> Vec<Finding> {
    let mut out = Vec::new();
    let invalid = |msg: String| Finding::new(Code::BundleChecksumsInvalid, msg).member(CHECKSUMS);
    let Some(yaml) = c.document(ZARF_YAML).map(<[u8]>::to_vec).or_else(|| read_small(c, ZARF_YAML)) else {
        out.push(Finding::new(Code::BundleChecksumsInvalid, "zarf.yaml cannot be read").member(ZARF_YAML));
        return out;
    };
    let Some(sums) = read_small(c, CHECKSUMS) else {
        out.push(invalid("the Zarf package has no checksums.txt".into()));
        return out;
    };
    let got = digest_of(c, CHECKSUMS);
    match aggregate_checksum(&yaml) {
        None => out.push(invalid("zarf.yaml has no metadata.aggregateChecksum to check checksums.txt against".into())),
        Some(want) if got.is_some_and(|g| g.hex() != want) => out.push(invalid(format!(
            "sha256 of checksums.txt is {}, but zarf.yaml's aggregateChecksum is {want}",
            got.map(|g| g.hex()).unwrap_or_default()
        ))),
        Some(_) => {}
    }
    let text = String::from_utf8_lossy(&sums);
    let mut listed = std::collections::HashSet::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [sha, rel] = parts[..] else {
            out.push(invalid(format!("invalid checksum line: {line:?}")));
            continue;
        };
        if sha.is_empty() || rel.is_empty() {
            out.push(invalid(format!("invalid checksum line: {line:?}")));
            continue;
        }
        let member = match path::normalize(rel) {
            Ok(m) => m,
            Err(why) => {
                out.push(
                    Finding::new(Code::UnsafePath, format!("checksums.txt names {rel:?}, outside the package ({why})"))
                        .member(CHECKSUMS),
                );
                continue;
            }
        };
        listed.insert(member.clone());
        if !matches!(c.members.get(&member).map(|m| &m.kind), Some(MemberKind::File)) {
            out.push(
                Finding::new(
                    Code::BundleFileMissing,
                    format!("file {rel} from checksums.txt is missing in the package"),
                )
                .member(member),
            );
            continue;
        }
        if let Some(d) = digest_of(c, &member)
            && d.hex() != sha
        {
            out.push(
                Finding::new(
                    Code::BundleChecksumMismatch,
                    format!("{member} hashes to {}, but checksums.txt says {sha}", d.hex()),
                )
                .member(member),
            );
        }
    }
    for (key, m) in &c.members {
        if matches!(m.kind, MemberKind::File) && !EXCLUDED.contains(&key.as_str()) && !listed.contains(key) {
            out.push(
                Finding::new(Code::BundleFileUnlisted, format!("{key} is in the package but not in checksums.txt"))
                    .member(key.clone()),
            );
        }
    }
    out
}

/// `aggregateChecksum: <hex>` in zarf.yaml (under `metadata:`; the key is unique in the file).
fn aggregate_checksum(yaml: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(yaml);
    text.lines().find_map(|l| {
        let v = l.trim_start().strip_prefix("aggregateChecksum:")?.trim().trim_matches(|c| c == '"' || c == '\'');
        (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_ascii_lowercase())
    })
}

fn digest_of(c: &Catalog, member: &str) -> Option<Digest> {
    c.scan_of(member).and_then(|s| s.digest)
}

/// A small text member's bytes: kept if it looked like JSON, else read again (it is small,
/// and only from a seekable input or directory).
fn read_small(c: &Catalog, member: &str) -> Option<Vec<u8>> {
    if let Some(d) = c.document(member).or_else(|| c.kept.get(member).map(Vec::as_slice)) {
        return Some(d.to_vec());
    }
    let m = c.members.get(member)?;
    if m.size > 32 << 20 {
        return None;
    }
    let mut r = c.open_member(member).ok()?;
    let mut v = Vec::with_capacity(m.size as usize);
    std::io::Read::read_to_end(&mut r, &mut v).ok()?;
    Some(v)
}
