//! cosign's simple signing (cosign 2, and the `sigs` of a `cosign save` layout): a JSON payload
//! layer, signed as it is; the signature, base64, in the layer's
//! `dev.cosignproject.cosign/signature` annotation.

use super::rekor::{self, SimpleTlog};
use super::rules::{
    CERTIFICATE_ANNOTATION, REKOR_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_TYPE, TIMESTAMP_ANNOTATION,
};
use super::{Checked, Trust, Unchecked, Verdict, Why, b64};
use crate::digest::Digest;
use std::collections::BTreeMap;

/// Checks one simple-signing layer: `payload` its bytes, `annotations` the layer's, `subject`
/// the digest it is attached to (the image's manifest, or an index that lists it).
pub fn verify(payload: &[u8], annotations: &BTreeMap<String, String>, subject: &Digest, trust: &Trust) -> Checked {
    let mut unchecked = Vec::new();
    if annotations.contains_key(TIMESTAMP_ANNOTATION) {
        unchecked.push(Unchecked::Timestamp);
    }
    if annotations.contains_key(CERTIFICATE_ANNOTATION) {
        unchecked.push(Unchecked::Certificate);
        return Checked { verdict: Verdict::Invalid(Why::Keyless), unchecked };
    }
    let Some(sig_b64) = annotations.get(SIGNATURE_ANNOTATION) else {
        return Checked::invalid(Why::Malformed(format!("no {SIGNATURE_ANNOTATION} annotation")), unchecked);
    };
    let Ok(sig) = b64(sig_b64) else {
        return Checked::invalid(
            Why::Malformed(format!("the {SIGNATURE_ANNOTATION} annotation is not base64")),
            unchecked,
        );
    };
    let claim = claim(payload);
    let verified = trust.keys.iter().find_map(|k| k.verify(payload, &sig).map(|alg| (k, alg)));
    let Some((key, alg)) = verified else {
        // Nothing here tells another key from a payload or signature changed after signing:
        // simple signing names no key.
        let names_other = claim.as_ref().ok().filter(|d| *d != subject).copied();
        return Checked::invalid(Why::NoKeyVerifies { keys: trust.keys.len(), hint: None, names_other }, unchecked);
    };
    let names = match claim {
        Ok(d) => d,
        Err(why) => return Checked::invalid(Why::Malformed(why), unchecked),
    };
    if names != *subject {
        return Checked::invalid(Why::NamesOtherDigest { key: key.fingerprint, names: names.to_string() }, unchecked);
    }
    match annotations.get(REKOR_ANNOTATION) {
        None if !trust.rekor.is_empty() => return Checked::invalid(Why::TlogMissing, unchecked),
        None => {}
        Some(_) if trust.rekor.is_empty() => unchecked.push(Unchecked::TlogEntry),
        Some(bundle) => {
            let entry = SimpleTlog { signature: &sig, payload };
            if let Err(why) = rekor::verify_cosign2(bundle, &entry, key, &trust.rekor) {
                return Checked::invalid(Why::TlogInvalid(why), unchecked);
            }
        }
    }
    Checked { verdict: Verdict::Verified { key: key.fingerprint, alg }, unchecked }
}

/// The digest a payload names, after its type is checked (as sigstore's payload package does).
fn claim(payload: &[u8]) -> Result<Digest, String> {
    let v: serde_json::Value = serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let critical = v.get("critical").ok_or("the payload has no \"critical\"")?;
    let ty = critical.get("type").and_then(|t| t.as_str()).unwrap_or("");
    if ty != SIMPLE_SIGNING_TYPE {
        return Err(format!("the payload's critical.type is {ty:?}, not {SIMPLE_SIGNING_TYPE:?}"));
    }
    let d = critical
        .get("image")
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(|d| d.as_str())
        .ok_or("the payload has no critical.image.docker-manifest-digest")?;
    Digest::parse(d).ok_or_else(|| format!("the payload's docker-manifest-digest {d:?} is not a sha256 digest"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_is_read_as_sigstore_reads_it() {
        let d = "sha256:aadb0eb452aca2b8886c659df9be62d63651b450613b0f65f65dc5e930481a3c";
        let ok = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r/app"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        assert_eq!(claim(ok.as_bytes()), Ok(Digest::parse(d).unwrap()));
        let other_type = ok.replace("cosign container image signature", "something else");
        assert!(claim(other_type.as_bytes()).unwrap_err().contains("critical.type"));
        assert!(claim(b"not json").unwrap_err().contains("not JSON"));
        assert!(
            claim(br#"{"critical":{"type":"cosign container image signature"}}"#)
                .unwrap_err()
                .contains("docker-manifest-digest")
        );
        let md5 = ok.replace(d, "md5:00");
        assert!(claim(md5.as_bytes()).unwrap_err().contains("not a sha256"));
    }

    #[test]
    fn without_a_signature_annotation_it_is_malformed_and_with_a_certificate_keyless() {
        let trust = Trust::default();
        let d = Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
        let c = verify(b"{}", &BTreeMap::new(), &d, &trust);
        assert!(matches!(c.verdict, Verdict::Invalid(Why::Malformed(_))));
        let notes = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), "!!".to_string())]);
        assert!(matches!(verify(b"{}", &notes, &d, &trust).verdict, Verdict::Invalid(Why::Malformed(_))));
        let notes = BTreeMap::from([(CERTIFICATE_ANNOTATION.to_string(), "pem".to_string())]);
        let c = verify(b"{}", &notes, &d, &trust);
        assert_eq!((c.verdict, c.unchecked), (Verdict::Invalid(Why::Keyless), vec![Unchecked::Certificate]));
    }
}
