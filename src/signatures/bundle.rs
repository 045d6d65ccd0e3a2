//! Sigstore bundles v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`), as cosign 3
//! writes them: for `cosign sign`, a DSSE envelope of an in-toto statement whose predicate type
//! is `https://sigstore.dev/cosign/sign/v1` and whose subject is the image's digest, signed
//! over the DSSE pre-authentication encoding (PAE); for `cosign sign-blob`, a message signature
//! over the blob. Certificates (keyless) and RFC 3161 timestamps are not checked; a Rekor entry
//! only with `--rekor-key` (`rekor.rs`).

use super::keys::{Fingerprint, PublicKey};
use super::rekor::BundleEntry;
use super::rules::{BUNDLE_V03, COSIGN_SIGN_PREDICATE, IN_TOTO};
use super::{Checked, Trust, Unchecked, Verdict, Why, b64};
use crate::digest::Digest;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    #[serde(default)]
    verification_material: Material,
    dsse_envelope: Option<Envelope>,
    message_signature: Option<MessageSignature>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Material {
    public_key: Option<Hint>,
    certificate: Option<serde_json::Value>,
    x509_certificate_chain: Option<serde_json::Value>,
    #[serde(default)]
    tlog_entries: Vec<BundleEntry>,
    timestamp_verification_data: Option<Timestamps>,
}

#[derive(Deserialize)]
struct Hint {
    hint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Timestamps {
    #[serde(default)]
    rfc3161_timestamps: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    message_digest: Option<MessageDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: Option<String>,
    digest: Option<String>,
}

/// What a bundle is: a signature, or something else in the same wrapping (an attestation).
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Signature(Checked),
    /// A DSSE statement of another predicate type: an attestation, not a signature.
    Attestation(String),
}

/// Checks a bundle attached to `subject` (an image's manifest digest or an index's).
/// `message` is the signed thing's bytes, for a message signature (the manifest's bytes).
pub fn verify(bytes: &[u8], subject: &Digest, message: Option<&[u8]>, trust: &Trust) -> Kind {
    let b: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => {
            return Kind::Signature(Checked::invalid(Why::Malformed(format!("not a sigstore bundle: {e}")), vec![]));
        }
    };
    if b.media_type != BUNDLE_V03 {
        let why = format!("bundle media type {:?}; airlock reads {BUNDLE_V03}", b.media_type);
        return Kind::Signature(Checked::invalid(Why::Malformed(why), vec![]));
    }
    let mut unchecked = Vec::new();
    if b.verification_material.timestamp_verification_data.as_ref().is_some_and(|t| !t.rfc3161_timestamps.is_empty()) {
        unchecked.push(Unchecked::Timestamp);
    }
    let m = &b.verification_material;
    if m.certificate.is_some() || m.x509_certificate_chain.is_some() {
        unchecked.push(Unchecked::Certificate);
        return Kind::Signature(Checked { verdict: Verdict::Invalid(Why::Keyless), unchecked });
    }
    let hint = m.public_key.as_ref().and_then(|p| p.hint.as_deref()).and_then(Fingerprint::from_hint);
    let signed = match (&b.dsse_envelope, &b.message_signature) {
        (Some(env), None) => match dsse(env, subject) {
            Ok(s) => s,
            Err(kind) => return kind,
        },
        (None, Some(ms)) => match message_signature(ms, subject, message) {
            Ok(s) => s,
            Err(why) => return Kind::Signature(Checked::invalid(why, unchecked)),
        },
        _ => {
            let why = Why::Malformed("the bundle holds neither exactly one dsseEnvelope nor a messageSignature".into());
            return Kind::Signature(Checked::invalid(why, unchecked));
        }
    };
    Kind::Signature(signed.check(hint, &m.tlog_entries, trust, unchecked))
}

/// The signed content of a bundle: what was signed, the signatures, what it names.
struct Signed {
    /// The bytes signed (the PAE, or the message).
    message: Vec<u8>,
    /// sha256 of the payload a Rekor entry names (the DSSE payload, or the message).
    payload_sha256: [u8; 32],
    signatures: Vec<Vec<u8>>,
    /// The digests the statement (or message digest) names, when not the subject's.
    names_other: Option<String>,
}

impl Signed {
    fn check(
        self,
        hint: Option<Fingerprint>,
        tlog: &[BundleEntry],
        trust: &Trust,
        mut unchecked: Vec<Unchecked>,
    ) -> Checked {
        let verified = self
            .signatures
            .iter()
            .find_map(|sig| ordered(&trust.keys, hint).find_map(|k| k.verify(&self.message, sig).map(|a| (k, a, sig))));
        let Some((key, alg, sig)) = verified else {
            return Checked::invalid(
                Why::NoKeyVerifies {
                    keys: trust.keys.len(),
                    hint,
                    names_other: self.names_other.and_then(|d| Digest::parse(&d)),
                },
                unchecked,
            );
        };
        if let Some(names) = self.names_other {
            return Checked::invalid(Why::NamesOtherDigest { key: key.fingerprint, names }, unchecked);
        }
        match (tlog.is_empty(), trust.rekor.is_empty()) {
            (true, true) => {}
            (true, false) => return Checked::invalid(Why::TlogMissing, unchecked),
            (false, true) => unchecked.push(Unchecked::TlogEntry),
            (false, false) => {
                if let Err(why) = tlog_ok(tlog, sig, &self.payload_sha256, key, &trust.rekor) {
                    return Checked::invalid(Why::TlogInvalid(why), unchecked);
                }
            }
        }
        Checked { verdict: Verdict::Verified { key: key.fingerprint, alg }, unchecked }
    }
}

/// Every entry must verify (a bundle holds one per log it was written to).
fn tlog_ok(
    tlog: &[BundleEntry],
    sig: &[u8],
    payload: &[u8; 32],
    key: &PublicKey,
    rekor: &[PublicKey],
) -> Result<(), String> {
    for e in tlog {
        super::rekor::verify_entry(&e.entry()?, sig, payload, key, rekor)?;
    }
    Ok(())
}

/// DSSE: the PAE of the in-toto statement, which must be cosign's signing predicate about
/// `subject` (anything else is an attestation, returned as such).
fn dsse(env: &Envelope, subject: &Digest) -> Result<Signed, Kind> {
    let malformed = |why: String| Kind::Signature(Checked::invalid(Why::Malformed(why), vec![]));
    if env.payload_type != IN_TOTO {
        return Err(malformed(format!("DSSE payload type {:?}, not {IN_TOTO}", env.payload_type)));
    }
    let payload = b64(&env.payload).map_err(|_| malformed("the DSSE payload is not base64".into()))?;
    let statement: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|e| malformed(format!("the DSSE payload is not JSON: {e}")))?;
    let predicate = statement.get("predicateType").and_then(|p| p.as_str()).unwrap_or("");
    if predicate != COSIGN_SIGN_PREDICATE {
        return Err(Kind::Attestation(predicate.to_string()));
    }
    let named: Vec<&str> = statement
        .get("subject")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|s| s.pointer("/digest/sha256").and_then(|d| d.as_str())).collect())
        .unwrap_or_default();
    let names_other = (!named.contains(&subject.hex().as_str()))
        .then(|| named.first().map_or_else(|| "no digest".to_string(), |h| format!("sha256:{h}")));
    let signatures = env.signatures.iter().map(|s| b64(&s.sig)).collect::<Result<Vec<_>, _>>();
    let signatures = signatures.map_err(|_| malformed("a DSSE signature is not base64".into()))?;
    let mut pae = format!("DSSEv1 {} {} {} ", env.payload_type.len(), env.payload_type, payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    Ok(Signed { message: pae, payload_sha256: Sha256::digest(&payload).into(), signatures, names_other })
}

/// A message signature: over the message itself (the signed document's bytes, which must be
/// in the input); its `messageDigest` (absent for Ed25519) must be their sha256, which is the
/// subject's digest.
fn message_signature(ms: &MessageSignature, subject: &Digest, message: Option<&[u8]>) -> Result<Signed, Why> {
    let sig = b64(&ms.signature).map_err(|_| Why::Malformed("the message signature is not base64".into()))?;
    let declared = match ms.message_digest.as_ref().and_then(|d| d.digest.as_deref()) {
        None => None,
        Some(d) => {
            let alg = ms.message_digest.as_ref().and_then(|m| m.algorithm.as_deref()).unwrap_or("");
            if alg != "SHA2_256" {
                return Err(Why::Malformed(format!("message digest algorithm {alg:?}; airlock reads SHA2_256")));
            }
            let bytes: [u8; 32] = b64(d)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Why::Malformed("the message digest is not a base64 sha256".into()))?;
            Some(bytes)
        }
    };
    let subject_bytes: [u8; 32] = hex_bytes(&subject.hex());
    let names_other = declared.filter(|d| *d != subject_bytes).map(|d| format!("sha256:{}", hex(&d)));
    let Some(message) = message.filter(|m| Digest::of(m) == *subject) else {
        return Err(Why::BlobMissing(format!("the document {subject} it signs")));
    };
    Ok(Signed { message: message.to_vec(), payload_sha256: subject_bytes, signatures: vec![sig], names_other })
}

/// The keys, the one a bundle's hint names first: a wrong ECDSA key costs a whole verification.
fn ordered(keys: &[PublicKey], hint: Option<Fingerprint>) -> impl Iterator<Item = &PublicKey> {
    let first = keys.iter().filter(move |k| Some(k.fingerprint) == hint);
    first.chain(keys.iter().filter(move |k| Some(k.fingerprint) != hint))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_bytes(h: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("a digest's hex");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    fn invalid(k: Kind) -> Why {
        match k {
            Kind::Signature(Checked { verdict: Verdict::Invalid(w), .. }) => w,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_is_not_a_v03_bundle_is_malformed() {
        let t = Trust::default();
        assert!(matches!(invalid(verify(b"[]", &d('a'), None, &t)), Why::Malformed(_)));
        let v01 = br#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1"}"#;
        assert!(matches!(invalid(verify(v01, &d('a'), None, &t)), Why::Malformed(m) if m.contains("version=0.1")));
        let neither = format!(r#"{{"mediaType":"{BUNDLE_V03}","verificationMaterial":{{}}}}"#);
        assert!(
            matches!(invalid(verify(neither.as_bytes(), &d('a'), None, &t)), Why::Malformed(m) if m.contains("neither"))
        );
    }

    #[test]
    fn another_predicate_is_an_attestation_and_a_certificate_is_keyless() {
        let t = Trust::default();
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;
        let env = |p: &str| {
            format!(
                r#"{{"mediaType":"{BUNDLE_V03}","verificationMaterial":{{{p}}},"dsseEnvelope":{{"payload":"{}","payloadType":"{IN_TOTO}","signatures":[{{"sig":"AA=="}}]}}}}"#,
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, statement)
            )
        };
        let att = verify(env(r#""publicKey":{"hint":"x"}"#).as_bytes(), &d('a'), None, &t);
        assert_eq!(att, Kind::Attestation("https://slsa.dev/provenance/v1".into()));
        let keyless = verify(env(r#""certificate":{"rawBytes":"AA=="}"#).as_bytes(), &d('a'), None, &t);
        assert_eq!(
            keyless,
            Kind::Signature(Checked {
                verdict: Verdict::Invalid(Why::Keyless),
                unchecked: vec![Unchecked::Certificate]
            })
        );
    }
}
