//! Archive-wide checks of an OCI layout's `blobs/`: every blob is what its name says, and
//! blobs nothing refers to are pointed out (`unreferenced-blob`).

use crate::finding::{Code, Finding};
use crate::formats::named_digest;
use crate::model::{Format, Model};
use crate::open::{Catalog, MemberKind};
use crate::scan::Content;
use std::collections::HashSet;

pub fn check(catalog: &Catalog, model: &Model, out: &mut Vec<Finding>) {
    let oci = matches!(model.format, Some(Format::OciLayout | Format::OciArchive | Format::DockerOci));
    // Blobs only a document airlock refused (or did not follow) may refer to: unreferenced
    // only because that document was not read, which its own error says. `None`: any blob.
    let unknown = if oci { maybe_referenced(catalog, model) } else { Some(HashSet::new()) };
    for (path, m) in &catalog.members {
        if !matches!(m.kind, MemberKind::File) || !path.starts_with("blobs/") {
            continue;
        }
        let referenced = model.referenced.contains(path);
        // Referenced blobs were checked against their references, with image and layer named.
        if !referenced
            && let (Some(named), Some(got)) = (named_digest(path), m.scan.as_ref().and_then(|s| s.digest))
            && named != got
        {
            out.push(
                Finding::new(
                    Code::BlobDigestMismatch,
                    format!("{path} is named by digest {named}, but hashes to {got}"),
                )
                .member(path.clone()),
            );
        }
        let unknown = unknown.as_ref().is_none_or(|u| u.contains(path.as_str()));
        if oci
            && !referenced
            && !unknown
            && !crate::formats::is_docker_legacy_json(model, m.scan.as_ref().map(|s| &s.content))
        {
            out.push(
                Finding::new(
                    Code::UnreferencedBlob,
                    format!("{path} ({} bytes) is not referenced by any index, manifest or manifest.json", m.size),
                )
                .member(path.clone()),
            );
        }
    }
}

/// The blobs the documents in `model.unread` may refer to: those their bytes name by digest
/// (`sha256:<hex>`, or a path `…sha256/<hex>`), and, for each that is a document, those its
/// bytes name in turn. Only documents the walk reached count (a stray blob's own bytes
/// vouch for nothing). `None` when that can be any blob: the walk stopped
/// (`model.walk_stopped`), index.json itself was refused, or such a document is too large
/// to have been kept.
fn maybe_referenced(catalog: &Catalog, model: &Model) -> Option<HashSet<String>> {
    // index.json is the root: refused, whatever its bytes still name, what it would have
    // referenced (and those in turn) cannot be told from a stray.
    if model.walk_stopped || model.unread.contains("index.json") {
        return None;
    }
    let reached = |m: &String| m == "index.json" || model.referenced.contains(m);
    let mut todo: Vec<String> = model.unread.iter().filter(|m| reached(m)).cloned().collect();
    let mut named = HashSet::new();
    while let Some(member) = todo.pop() {
        let bytes = match catalog.scan_of(&member).map(|s| &s.content) {
            Some(Content::OversizedDocument) => return None,
            Some(Content::Document(d)) => &d[..],
            // Not JSON, or not there: it names nothing a runtime would read.
            _ => continue,
        };
        for hex in digests_named(bytes) {
            let blob = format!("blobs/sha256/{hex}");
            if catalog.has(&blob) && named.insert(blob.clone()) {
                todo.push(blob);
            }
        }
    }
    Some(named)
}

/// The sha256 digests (64 lowercase hex digits) `bytes` name, as `sha256:<hex>` or
/// `sha256/<hex>`: spelled out in the raw bytes, or in a JSON string once its escapes are
/// decoded (`\u0073ha256:…` is what Go reads as `sha256:…`). The bytes need not parse (a
/// refused document may not); nothing but one copy of the strings is built, whatever
/// their size.
fn digests_named(bytes: &[u8]) -> HashSet<String> {
    let mut out = HashSet::new();
    scan_digests(bytes, &mut out);
    scan_digests(&json_strings(bytes), &mut out);
    out
}

/// The contents of `bytes`' JSON strings, escapes decoded (an escape that is no ASCII
/// character becomes a `?`), each followed by a space.
fn json_strings(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut inside, mut i) = (false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match (inside, b) {
            (false, b'"') => inside = true,
            (false, _) => {}
            (true, b'"') => {
                inside = false;
                out.push(b' ');
            }
            (true, b'\\') => {
                let Some(&e) = bytes.get(i) else { break };
                i += 1;
                let decoded = match e {
                    b'u' => {
                        let hex = bytes.get(i..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                        let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
                        i += 4;
                        code.filter(|c| *c < 0x80).map_or(b'?', |c| c as u8)
                    }
                    b'"' | b'\\' | b'/' => e,
                    _ => b'?',
                };
                out.push(decoded);
            }
            (true, _) => out.push(b),
        }
    }
    out
}

fn scan_digests(bytes: &[u8], out: &mut HashSet<String>) {
    const HEX: usize = 64;
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(7).position(|w| w == b"sha256:" || w == b"sha256/") {
        let start = at + i + 7;
        let hex = bytes.get(start..start + HEX).filter(|h| h.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        if let Some(h) = hex {
            out.insert(String::from_utf8_lossy(h).into_owned());
        }
        at = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{put, shapes};
    use crate::digest::Digest;

    fn blob_path(bytes: &[u8]) -> String {
        format!("blobs/sha256/{}", Digest::of(bytes).hex())
    }

    fn run(format: Format, referenced: &[&str]) -> Vec<(Code, Option<String>)> {
        let mut c = Catalog::default();
        put(&mut c, &blob_path(b"{}"), b"{}");
        // Named for other bytes than it holds.
        put(&mut c, &blob_path(b"[]"), b"{\"x\":1}");
        put(&mut c, "other/file", b"{}");
        let mut model = Model::default();
        model.format = Some(format);
        model.referenced = referenced.iter().map(|r| r.to_string()).collect();
        let mut out = Vec::new();
        check(&c, &model, &mut out);
        shapes(&out).into_iter().map(|(code, _, _, m)| (code, m)).collect()
    }

    #[test]
    fn blobs_nothing_refers_to_in_an_oci_layout() {
        let (good, bad) = (blob_path(b"{}"), blob_path(b"[]"));
        // Sorted by path; the misnamed one is also an error. Outside blobs/: not looked at.
        let mut want = vec![
            (Code::UnreferencedBlob, Some(good.clone())),
            (Code::BlobDigestMismatch, Some(bad.clone())),
            (Code::UnreferencedBlob, Some(bad.clone())),
        ];
        if bad < good {
            want.rotate_left(1);
        }
        assert_eq!(run(Format::OciLayout, &[]), want);
        // Referenced blobs were checked against their references: nothing here.
        assert_eq!(run(Format::OciArchive, &[&good, &bad]), []);
    }

    /// A layout whose index.json names manifest `m`, which names `cfg` (its digest escaped)
    /// and `layer`; `stray` is named by nothing. `unread` and `stopped` as the walk left them,
    /// `m` referenced or not. Returns the blobs warned `unreferenced-blob`, by those names.
    fn unreferenced(unread: &[&str], stopped: bool, referenced_m: bool) -> Vec<String> {
        let mut c = Catalog::default();
        let (cfg, layer, stray) = (b"{\"c\":1}".to_vec(), b"layer bytes".to_vec(), b"stray".to_vec());
        // Escaped: only a JSON reading of the bytes finds the config's digest.
        let cfg_hex = Digest::of(&cfg).hex().to_string();
        let escaped = format!("\\u0073ha256:{cfg_hex}");
        let m = format!(
            r#"{{"config":{{"digest":"{escaped}"}},"layers":[{{"digest":"sha256:{}"}}],"x":1}}"#,
            Digest::of(&layer).hex()
        );
        put(&mut c, &blob_path(m.as_bytes()), m.as_bytes());
        for b in [&cfg, &layer, &stray] {
            put(&mut c, &blob_path(b), b);
        }
        put(
            &mut c,
            "index.json",
            format!(r#"{{"manifests":[{{"digest":"sha256:{}"}}]}}"#, Digest::of(m.as_bytes()).hex()).as_bytes(),
        );
        let mut model = Model::default();
        model.format = Some(Format::OciLayout);
        if referenced_m {
            model.referenced.insert(blob_path(m.as_bytes()));
        }
        model.unread = unread.iter().map(|u| if *u == "m" { blob_path(m.as_bytes()) } else { u.to_string() }).collect();
        model.walk_stopped = stopped;
        let mut out = Vec::new();
        check(&c, &model, &mut out);
        let name = |p: &str| {
            [
                ("m", blob_path(m.as_bytes())),
                ("cfg", blob_path(&cfg)),
                ("layer", blob_path(&layer)),
                ("stray", blob_path(&stray)),
            ]
            .into_iter()
            .find(|(_, b)| b == p)
            .map_or(p.to_string(), |(n, _)| n.to_string())
        };
        let mut got: Vec<String> = shapes(&out)
            .into_iter()
            .map(|(code, _, _, m)| {
                assert_eq!(code, Code::UnreferencedBlob);
                name(&m.unwrap())
            })
            .collect();
        got.sort();
        got
    }

    #[test]
    fn blobs_a_refused_document_names_are_not_unreferenced() {
        // Nothing refused: everything but what is referenced is pointed out.
        assert_eq!(unreferenced(&[], false, false), ["cfg", "layer", "m", "stray"]);
        // index.json refused: the root of the graph, so no blob can be told a stray, even
        // where its bytes still name some.
        assert_eq!(unreferenced(&["index.json"], false, false), Vec::<String>::new());
        // The manifest (reached) refused: its config (named by an escaped digest) and layer
        // are not; the stray blob still is.
        assert_eq!(unreferenced(&["m"], false, true), ["stray"]);
        // A refused document the walk never reached vouches for nothing.
        assert_eq!(unreferenced(&["m"], false, false), ["cfg", "layer", "m", "stray"]);
        // The walk stopped: no blob is known unreferenced.
        assert_eq!(unreferenced(&[], true, false), Vec::<String>::new());
    }

    #[test]
    fn digests_are_read_from_raw_bytes_and_json_strings() {
        let hex = "ab".repeat(32);
        let one = vec![hex.clone()];
        let got = |b: &str| {
            let mut v: Vec<String> = digests_named(b.as_bytes()).into_iter().collect();
            v.sort();
            v
        };
        assert_eq!(got(&format!("{{\"a\":\"sha256:{hex}\"")), one);
        assert_eq!(got(&format!("[\"blobs/sha256/{hex}\"]")), one);
        assert_eq!(got(&format!("[\"\\u0073ha256:{hex}\"]")), one);
        // In a document that does not parse, too; an escape that is no ASCII breaks it.
        assert_eq!(got(&format!("{{\"a\":\"sha256\\u003a{hex}\",")), one);
        assert_eq!(got(&format!("[\"sha256\\u203a{hex}\"]")), Vec::<String>::new());
        // Too short, or not lowercase hex: no digest.
        assert_eq!(got(&format!("sha256:{} sha256:{}", &hex[..63], hex.to_uppercase())), Vec::<String>::new());
    }

    #[test]
    fn a_docker_archive_has_no_unreferenced_blobs_but_misnamed_ones_still_count() {
        let bad = blob_path(b"[]");
        assert_eq!(run(Format::DockerArchive, &[]), [(Code::BlobDigestMismatch, Some(bad.clone()))]);
        assert_eq!(run(Format::CraneTarball, &[]), [(Code::BlobDigestMismatch, Some(bad))]);
    }
}
