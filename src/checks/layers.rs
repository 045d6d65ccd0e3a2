//! Each layer's bytes: `layer-corrupt`, `layer-compression-unsupported`, `diff-id-mismatch`,
//! `media-type-mismatch`, `unsafe-layer-entry`.

use crate::finding::{Code, Finding};
use crate::model::Image;
use crate::open::Catalog;
use crate::scan::{Compression, Content, LayerError, TarSummary};

pub fn check(catalog: &Catalog, i: usize, image: &Image, out: &mut Vec<Finding>) {
    let diff_ids = match &image.config_doc {
        Some(Ok(c)) => Some(&c.diff_ids),
        _ => None,
    };
    for (l, layer) in image.layers.iter().enumerate() {
        let member = &layer.member;
        let at = |f: Finding| f.image(i).layer(l).member(member.clone());
        let Some(scan) = catalog.scan_of(member) else {
            continue;
        };
        // An image's layer declared as something else than a filesystem layer (a JSON
        // payload's type beside tar layers): containerd 1.6 cannot unpack it ("failed to
        // get stream processor"), 1.7, 2.1 and docker's containerd store skip it, so the
        // layers no longer line up with the diff_ids (measured; see formats::artifacts).
        if let Some(mt) = &layer.media_type
            && !crate::formats::media_types::is_layer(mt)
        {
            out.push(at(Finding::new(
                Code::MediaTypeMismatch,
                format!(
                    "layer {l} ({member}) is declared {mt}, which is not a filesystem layer type: containerd does not unpack it as this image's layer {l}"
                ),
            )));
        }
        let ls = match &scan.content {
            Content::Layer(ls) => ls,
            Content::Document(_) | Content::OversizedDocument => {
                out.push(at(Finding::new(
                    Code::LayerCorrupt,
                    format!("layer {l} ({member}) is a JSON document, not a layer tar"),
                )));
                continue;
            }
            Content::Sniffed(_) => continue,
        };
        if let Some(mt) = &layer.media_type {
            compression_claim(l, member, mt, ls.compression, &at, out);
        }
        let summary = match &ls.tar {
            Ok(s) => s,
            Err(why) => {
                let code = match why {
                    LayerError::Unsupported(_) => Code::LayerCompressionUnsupported,
                    LayerError::ZstdWindow(_) => Code::LayerZstdWindow,
                    LayerError::Corrupt(_) => Code::LayerCorrupt,
                };
                out.push(at(Finding::new(code, format!("layer {l} ({member}, {}): {why}", ls.compression.as_str()))));
                continue;
            }
        };
        tar_findings(l, member, summary, diff_ids.and_then(|d| d.get(l)), &at, out);
        entries(l, member, summary, &at, out);
    }
}

/// A layer whose media type claims another compression than its bytes have.
fn compression_claim(
    l: usize,
    member: &str,
    mt: &str,
    actual: Compression,
    at: &dyn Fn(Finding) -> Finding,
    out: &mut Vec<Finding>,
) {
    if let Some(claimed) = crate::formats::media_types::compression_of(mt)
        && claimed != actual
    {
        // Stored uncompressed under a compressed label (skopeo 1.9's
        // --dest-oci-accept-uncompressed-layers): every runtime sniffs the bytes and
        // loads it. A compressed layer under another compression's label is not: a
        // gzip-only consumer fails on zstd.
        let code = if actual == Compression::None { Code::MediaTypeUncompressed } else { Code::MediaTypeMismatch };
        out.push(at(Finding::new(
            code,
            format!(
                "layer {l} ({member}) is declared {mt} ({}), but its bytes are {}",
                claimed.as_str(),
                actual.as_str()
            ),
        )));
    }
}

/// What a layer's tar says against its claims: its diffID, bytes after its end.
fn tar_findings(
    l: usize,
    member: &str,
    summary: &TarSummary,
    want: Option<&crate::digest::Digest>,
    at: &dyn Fn(Finding) -> Finding,
    out: &mut Vec<Finding>,
) {
    if let Some(want) = want
        && *want != summary.diff_id
    {
        out.push(at(Finding::new(
            Code::DiffIdMismatch,
            format!(
                "layer {l} ({member}) decompresses to diffID {}, but the config's rootfs.diff_ids[{l}] is {want}",
                summary.diff_id
            ),
        )));
    }
    if let Some(why) = &summary.trailing_ignored {
        out.push(at(Finding::new(
            Code::ArchiveTrailerIgnored,
            format!(
                "layer {l} ({member}) goes on after its tar's end-of-archive marker with bytes that are not a gzip member ({why}); docker, containerd and podman stop at the marker and load the layer, and its diffID covers the tar before them"
            ),
        )));
    }
}

/// The entries of a layer that would land outside the root, or that no extractor unpacks.
pub fn entries(l: usize, member: &str, summary: &TarSummary, at: &dyn Fn(Finding) -> Finding, out: &mut Vec<Finding>) {
    for e in &summary.unsafe_entries {
        out.push(at(Finding::new(
            Code::UnsafeLayerEntry,
            format!("layer {l} ({member}) has entry {:?} that would land outside the root: {}", e.path, e.why),
        )));
    }
    for (path, t) in &summary.unpackable {
        let shown = if t.is_ascii_graphic() { format!("'{}'", *t as char) } else { format!("{t:#04x}") };
        out.push(at(Finding::new(
            Code::UnpackableLayerEntry,
            format!(
                "layer {l} ({member}) has entry {path:?} of tar type {shown}, which docker, containerd and podman do not unpack (\"unhandled tar header type\")"
            ),
        )));
    }
    if summary.unpackable_count > summary.unpackable.len() as u64 {
        out.push(at(Finding::new(
            Code::UnpackableLayerEntry,
            format!(
                "layer {l} ({member}) has {} more such entries",
                summary.unpackable_count - summary.unpackable.len() as u64
            ),
        )));
    }
    let more = summary.unsafe_count - summary.unsafe_entries.len() as u64;
    if more > 0 {
        out.push(at(Finding::new(
            Code::UnsafeLayerEntry,
            format!("layer {l} ({member}) has {more} more such entries"),
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{Shape, at, config, gzip, image, layer_tar, put, reference, shapes};
    use crate::digest::Digest;

    const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// Checks image 2, whose one layer is `bytes` declared as `media_type`, against diffID
    /// `diff_id`.
    fn one_layer(bytes: &[u8], media_type: Option<&str>, diff_id: Digest) -> Vec<Shape> {
        let mut c = Catalog::default();
        put(&mut c, "l.tar", bytes);
        let mut l = reference("l.tar", None);
        l.media_type = media_type.map(str::to_string);
        let img = image(reference("cfg", None), vec![l], Some(Ok(config(vec![diff_id], None))));
        let mut out = Vec::new();
        check(&c, 2, &img, &mut out);
        shapes(&out)
    }

    fn tar() -> Vec<u8> {
        layer_tar(&[("etc/motd", b"hello\n")])
    }

    #[test]
    fn a_layer_that_is_what_it_says_is_sound() {
        let t = tar();
        assert_eq!(one_layer(&t, Some(TAR), Digest::of(&t)), []);
        assert_eq!(one_layer(&gzip(&t), Some(GZIP), Digest::of(&t)), []);
        // The diffID is the uncompressed tar's, not the stored bytes'.
        assert_eq!(
            one_layer(&gzip(&t), None, Digest::of(&gzip(&t))),
            [at(Code::DiffIdMismatch, Some(2), Some(0), "l.tar")]
        );
    }

    #[test]
    fn compression_claims_against_the_bytes() {
        let t = tar();
        // Plain bytes under a gzip label load everywhere (a warning); gzip under a plain label
        // does not.
        assert_eq!(
            one_layer(&t, Some(GZIP), Digest::of(&t)),
            [at(Code::MediaTypeUncompressed, Some(2), Some(0), "l.tar")]
        );
        assert_eq!(Code::MediaTypeUncompressed.severity(), crate::finding::Severity::Warning);
        assert_eq!(
            one_layer(&gzip(&t), Some(TAR), Digest::of(&t)),
            [at(Code::MediaTypeMismatch, Some(2), Some(0), "l.tar")]
        );
        // Not a filesystem layer's type at all.
        assert_eq!(
            one_layer(&t, Some("application/vnd.in-toto+json"), Digest::of(&t)),
            [at(Code::MediaTypeMismatch, Some(2), Some(0), "l.tar")]
        );
    }

    #[test]
    fn a_json_document_or_broken_gzip_is_a_corrupt_layer() {
        assert_eq!(
            one_layer(b"{\"a\":1}", Some(TAR), Digest::of(b"")),
            [at(Code::LayerCorrupt, Some(2), Some(0), "l.tar")]
        );
        let mut broken = gzip(&tar());
        let n = broken.len();
        broken.truncate(n / 2);
        assert_eq!(
            one_layer(&broken, Some(GZIP), Digest::of(&tar())),
            [at(Code::LayerCorrupt, Some(2), Some(0), "l.tar")]
        );
    }

    #[test]
    fn an_entry_that_leaves_the_root_is_named_once_per_entry() {
        let t = layer_tar(&[("../../etc/cron.d/x", b"* * * * * root id\n"), ("ok", b""), ("/abs", b"")]);
        assert_eq!(
            one_layer(&t, Some(TAR), Digest::of(&t)),
            [
                at(Code::UnsafeLayerEntry, Some(2), Some(0), "l.tar"),
                at(Code::UnsafeLayerEntry, Some(2), Some(0), "l.tar")
            ]
        );
    }

    #[test]
    fn a_layer_not_in_the_archive_is_left_to_the_blob_check() {
        let c = Catalog::default();
        let img = image(reference("cfg", None), vec![reference("gone", None)], None);
        let mut out = Vec::new();
        check(&c, 0, &img, &mut out);
        assert_eq!(shapes(&out), []);
    }
}
