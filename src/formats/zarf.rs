//! The Zarf package format (zarf-dev/zarf): its root files (`zarf.yaml`, the manifest;
//! `checksums.txt`; the signatures `zarf.yaml.sig` and `zarf.bundle.sig`), and its own
//! integrity data, checked as `zarf package verify` checks it
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

/// The package's manifest, the root of trust.
pub const ZARF_YAML: &str = "zarf.yaml";
const CHECKSUMS: &str = "checksums.txt";
/// The signature files Zarf writes beside `zarf.yaml`, oldest first: cosign sign-blob's
/// base64 signature, and a sigstore bundle (Zarf's newer format).
pub const SIGNATURES: &[&str] = &["zarf.yaml.sig", "zarf.bundle.sig"];
/// Never listed in checksums.txt: the root of trust and its signatures.
const EXCLUDED: &[&str] = &[ZARF_YAML, CHECKSUMS, SIGNATURES[0], SIGNATURES[1]];
/// A root file larger than this is not read for the integrity check.
const MAX_READ: u64 = 32 << 20;

/// Whether the catalog is a Zarf package (a `zarf.yaml` at its root).
pub fn is_package(c: &Catalog) -> bool {
    c.has(ZARF_YAML)
}

/// The integrity findings of a Zarf package whose members were hashed (verify).
pub fn check(c: &Catalog) -> Vec<Finding> {
    let mut out = Vec::new();
    let invalid = |msg: String| Finding::new(Code::BundleChecksumsInvalid, msg).member(CHECKSUMS);
    let Some(yaml) = c.document(ZARF_YAML).map(<[u8]>::to_vec).or_else(|| read_small(c, ZARF_YAML, MAX_READ)) else {
        out.push(Finding::new(Code::BundleChecksumsInvalid, "zarf.yaml cannot be read").member(ZARF_YAML));
        return out;
    };
    let Some(sums) = read_small(c, CHECKSUMS, MAX_READ) else {
        out.push(invalid("the Zarf package has no checksums.txt".into()));
        return out;
    };
    out.extend(aggregate_finding(&yaml, digest_of(c, CHECKSUMS)));
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

/// zarf.yaml's `metadata.aggregateChecksum` against `got`, the sha256 of checksums.txt.
fn aggregate_finding(yaml: &[u8], got: Option<Digest>) -> Option<Finding> {
    let invalid = |msg: String| Finding::new(Code::BundleChecksumsInvalid, msg).member(CHECKSUMS);
    match aggregate_checksum(yaml) {
        Err(why) => Some(Finding::new(Code::BundleChecksumsInvalid, why).member(ZARF_YAML)),
        Ok(None) => Some(invalid("zarf.yaml has no metadata.aggregateChecksum to check checksums.txt against".into())),
        // Compared as zarf compares it (helpers.SHAsMatch): the lower-case hex, exactly.
        Ok(Some(want)) => got.filter(|g| g.hex() != want).map(|g| {
            invalid(format!(
                "sha256 of checksums.txt is {}, but zarf.yaml's metadata.aggregateChecksum is {want:?}",
                g.hex()
            ))
        }),
    }
}

/// zarf.yaml larger than this is not read (real ones are a few KiB to a few hundred).
const MAX_YAML: usize = 4 << 20;
/// YAML events read from zarf.yaml at most, and how deep its collections may nest.
const MAX_EVENTS: usize = 1_000_000;
const MAX_NESTING: usize = 64;

/// `metadata.aggregateChecksum` of zarf.yaml, read as YAML (saphyr-parser's events): only
/// that key of the top-level `metadata` mapping counts, never a line that looks like it in a
/// block scalar or elsewhere. `Ok(None)` when it is not there. Anything Go's YAML readers
/// could take another way is refused: a second document, a key twice in one mapping, a
/// key that is not a scalar; and so are anchors and aliases, which zarf never writes and
/// which can make a small file expand without bound. Bounded in size, events and nesting.
fn aggregate_checksum(yaml: &[u8]) -> Result<Option<String>, String> {
    if yaml.len() > MAX_YAML {
        return Err(format!("zarf.yaml is larger than {MAX_YAML} bytes"));
    }
    let text = std::str::from_utf8(yaml).map_err(|_| "zarf.yaml is not UTF-8".to_string())?;
    let mut walk = YamlWalk::default();
    for (n, event) in saphyr_parser::Parser::new_from_str(text).enumerate() {
        if n > MAX_EVENTS {
            return Err(format!("zarf.yaml has more than {MAX_EVENTS} YAML events"));
        }
        let (event, span) = event.map_err(|e| format!("zarf.yaml is not valid YAML: {e}"))?;
        walk.on(event).map_err(|why| format!("zarf.yaml line {}: {why}", span.start.line()))?;
    }
    Ok(walk.found)
}

/// Where a node is: what `metadata.aggregateChecksum` needs to know of the path to it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    Metadata,
    Elsewhere,
}

enum Frame {
    /// A mapping at `place`, its keys so far, and the key whose value comes next.
    Map {
        place: Place,
        keys: std::collections::HashSet<String>,
        key: Option<String>,
    },
    Seq,
}

#[derive(Default)]
struct YamlWalk {
    stack: Vec<Frame>,
    documents: usize,
    found: Option<String>,
}

impl YamlWalk {
    fn on(&mut self, event: saphyr_parser::Event) -> Result<(), String> {
        use saphyr_parser::Event;
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err("a second YAML document".into());
                }
            }
            Event::Alias(_) => return Err("a YAML alias (zarf writes none)".into()),
            Event::Scalar(_, _, anchor, _) | Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _)
                if anchor > 0 =>
            {
                return Err("a YAML anchor (zarf writes none)".into());
            }
            Event::Scalar(value, ..) => {
                let place = self.node(Some(&value))?;
                if place == Some(Place::Metadata) {
                    self.found = Some(value.into_owned());
                }
            }
            Event::MappingStart(..) => {
                let place = self.node(None)?.map_or(Place::Elsewhere, |p| p);
                self.push(Frame::Map { place, keys: Default::default(), key: None })?;
            }
            Event::SequenceStart(..) => {
                self.node(None)?;
                self.push(Frame::Seq)?;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, f: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_NESTING {
            return Err(format!("collections nest more than {MAX_NESTING} deep"));
        }
        self.stack.push(f);
        Ok(())
    }

    /// A node starts (`scalar` is its value if it is a scalar). For a value, returns where a
    /// mapping there would be (`Some(Place::Metadata)` for `metadata`'s mapping and for the
    /// scalar value of `metadata.aggregateChecksum`); `None` for a key or another node.
    fn node(&mut self, scalar: Option<&str>) -> Result<Option<Place>, String> {
        let Some(Frame::Map { place, keys, key }) = self.stack.last_mut() else {
            // The document's own node, or an item of a sequence.
            return Ok(self.stack.is_empty().then_some(Place::Root));
        };
        let Some(k) = key.take() else {
            let k = scalar.ok_or("a mapping key that is not a scalar")?;
            if !keys.insert(k.to_string()) {
                return Err(format!("key {k:?} twice in one mapping"));
            }
            *key = Some(k.to_string());
            return Ok(None);
        };
        Ok(match (*place, k.as_str(), scalar) {
            (Place::Root, "metadata", None) => Some(Place::Metadata),
            (Place::Metadata, "aggregateChecksum", Some(_)) => Some(Place::Metadata),
            _ => None,
        })
    }
}

fn digest_of(c: &Catalog, member: &str) -> Option<Digest> {
    c.scan_of(member).and_then(|s| s.digest)
}

/// A small root file's bytes: kept if it looked like JSON or is one of the package's root
/// files, else read again (only from a seekable input or directory); `None` past `max` bytes.
pub fn read_small(c: &Catalog, member: &str, max: u64) -> Option<Vec<u8>> {
    if let Some(d) = c.document(member).or_else(|| c.kept.get(member).map(Vec::as_slice)) {
        return Some(d.to_vec());
    }
    let m = c.members.get(member)?;
    if m.size > max {
        return None;
    }
    let mut v = Vec::with_capacity(m.size as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(c.open_member(member).ok()?, max), &mut v).ok()?;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::aggregate_checksum;

    const SUM: &str = "2f1e1f7ad8e8e45b7f2d6c6d0f5c1a3b4e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b";

    #[test]
    fn only_metadata_aggregate_checksum_counts() {
        let yaml = format!("kind: ZarfPackageConfig\nmetadata:\n  name: a\n  aggregateChecksum: {SUM}\n");
        assert_eq!(aggregate_checksum(yaml.as_bytes()), Ok(Some(SUM.to_string())));
        // Quoted, or in flow style: the same value.
        let yaml = format!("metadata: {{name: a, \"aggregateChecksum\": '{SUM}'}}\n");
        assert_eq!(aggregate_checksum(yaml.as_bytes()), Ok(Some(SUM.to_string())));
        // A line that looks like it, inside a block scalar or another mapping, is not it.
        let decoy = "0".repeat(64);
        let yaml = format!(
            "metadata:\n  description: |\n    aggregateChecksum: {decoy}\n  name: a\ncomponents:\n  - aggregateChecksum: {decoy}\n"
        );
        assert_eq!(aggregate_checksum(yaml.as_bytes()), Ok(None));
        let yaml = format!("metadata:\n  description: |\n    aggregateChecksum: {decoy}\n  aggregateChecksum: {SUM}\n");
        assert_eq!(aggregate_checksum(yaml.as_bytes()), Ok(Some(SUM.to_string())));
        let yaml = format!("build:\n  aggregateChecksum: {decoy}\nmetadata:\n  aggregateChecksum: {SUM}\n");
        assert_eq!(aggregate_checksum(yaml.as_bytes()), Ok(Some(SUM.to_string())));
    }

    #[test]
    fn ambiguous_or_explosive_yaml_is_refused() {
        let refused = |yaml: &str, why: &str| {
            let e = aggregate_checksum(yaml.as_bytes()).expect_err(yaml);
            assert!(e.contains(why), "{yaml:?}: {e}");
        };
        refused(&format!("metadata:\n  aggregateChecksum: {SUM}\n  aggregateChecksum: {SUM}\n"), "twice");
        refused(&format!("metadata:\n  aggregateChecksum: {SUM}\nmetadata: {{}}\n"), "twice");
        refused(&format!("metadata:\n  aggregateChecksum: {SUM}\n---\nmetadata: {{}}\n"), "second YAML document");
        refused("a: &x [1, 2]\nb: *x\n", "anchor");
        refused("b: *x\n", "not valid YAML");
        // The billion-laughs shape: refused at its first anchor, before anything expands.
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n",
                p = i - 1
            ));
        }
        refused(&bomb, "anchor");
        refused(&format!("? [a]\n: {SUM}\n"), "not a scalar");
        refused(&"[".repeat(100), "nest");
        assert!(aggregate_checksum(b"metadata: \xff").unwrap_err().contains("UTF-8"));
    }
}
