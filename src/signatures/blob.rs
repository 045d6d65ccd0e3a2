//! A detached signature over a file, as `cosign sign-blob` writes it: the base64 signature
//! (`--output-signature`, cosign 2; Zarf's legacy `zarf.yaml.sig`) or a sigstore bundle with a
//! message signature (`--bundle`, cosign 3).

use super::{Checked, Trust, Verdict, Why, b64, bundle};
use crate::digest::Digest;

/// Checks `sig` (the signature file's bytes) over `blob` (the signed file's bytes).
pub fn verify(blob: &[u8], sig: &[u8], trust: &Trust) -> Checked {
    let text = String::from_utf8_lossy(sig);
    let text = text.trim();
    if text.starts_with('{') {
        return match bundle::verify(text.as_bytes(), &Digest::of(blob), Some(blob), trust) {
            bundle::Kind::Signature(c) => c,
            bundle::Kind::Attestation(p) => {
                Checked::invalid(Why::Malformed(format!("an attestation ({p}), not a signature")), Vec::new())
            }
        };
    }
    let Ok(raw) = b64(text) else {
        return Checked::invalid(Why::Malformed("neither a base64 signature nor a sigstore bundle".into()), Vec::new());
    };
    match trust.keys.iter().find_map(|k| k.verify(blob, &raw).map(|a| (k, a))) {
        Some((k, alg)) => Checked { verdict: Verdict::Verified { key: k.fingerprint, alg }, unchecked: Vec::new() },
        None => {
            Checked::invalid(Why::NoKeyVerifies { keys: trust.keys.len(), hint: None, names_other: None }, Vec::new())
        }
    }
}
