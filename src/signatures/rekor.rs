//! A Rekor transparency-log entry checked offline, with the log's public key
//! (`--rekor-key`): its signed entry timestamp (SET), the log's signature over the canonical
//! JSON `{"body", "integratedTime", "logID", "logIndex"}` (keys sorted, no spaces), and that
//! the entry's body is about this very signature (a `hashedrekord` or `dsse` entry naming the
//! signature, the payload's sha256 and the key). Without the key nothing here runs: the report
//! says the entry is present and not checked. Inclusion proofs and checkpoints are not read.

use super::b64;
use super::keys::{Fingerprint, PublicKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// What a log entry must be about: the signature bytes and the sha256 of what was signed.
pub struct SimpleTlog<'a> {
    pub signature: &'a [u8],
    pub payload: &'a [u8],
}

/// One entry, whichever container it came in.
pub struct Entry {
    pub body_b64: String,
    pub integrated_time: i64,
    pub log_index: i64,
    pub log_id: Fingerprint,
    pub set: Vec<u8>,
}

/// cosign 2's `dev.sigstore.cosign/bundle` annotation.
#[derive(Deserialize)]
struct Cosign2Bundle {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: Cosign2Payload,
}

#[derive(Deserialize)]
struct Cosign2Payload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// Checks cosign 2's annotation against the signature it sits beside.
pub fn verify_cosign2(
    annotation: &str,
    signed: &SimpleTlog,
    key: &PublicKey,
    rekor: &[PublicKey],
) -> Result<(), String> {
    let b: Cosign2Bundle =
        serde_json::from_str(annotation).map_err(|e| format!("the Rekor bundle is not readable: {e}"))?;
    let log_id = hex32(&b.payload.log_id).ok_or("the Rekor bundle's logID is not 64 hex digits")?;
    let entry = Entry {
        body_b64: b.payload.body,
        integrated_time: b.payload.integrated_time,
        log_index: b.payload.log_index,
        log_id,
        set: b64(&b.set).map_err(|_| "the SignedEntryTimestamp is not base64".to_string())?,
    };
    verify_entry(&entry, signed.signature, &Sha256::digest(signed.payload).into(), key, rekor)
}

/// Verifies an entry's SET with the log's key (chosen by log ID) and that its body is about
/// `signature` over a payload hashing to `payload_sha256`, made by `key`.
pub fn verify_entry(
    e: &Entry,
    signature: &[u8],
    payload_sha256: &[u8; 32],
    key: &PublicKey,
    rekor: &[PublicKey],
) -> Result<(), String> {
    let log = rekor
        .iter()
        .find(|k| k.fingerprint == e.log_id)
        .ok_or_else(|| format!("the entry is in log {}, whose key was not given", e.log_id))?;
    let canonical = format!(
        r#"{{"body":{},"integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        serde_json::to_string(&e.body_b64).expect("a string serialises"),
        e.integrated_time,
        e.log_id.hex(),
        e.log_index
    );
    if log.verify(canonical.as_bytes(), &e.set).is_none() {
        return Err(format!("the signed entry timestamp does not verify with the log's key {}", log.fingerprint));
    }
    let body = b64(&e.body_b64).map_err(|_| "the entry's body is not base64".to_string())?;
    body_is_about(&body, signature, payload_sha256, key)
}

/// A signature an entry names, and the PEM of its key (both base64).
type Claimed<'a> = (Option<&'a str>, Option<&'a str>);

/// The entry's body names this signature, this payload and this key.
fn body_is_about(body: &[u8], signature: &[u8], payload_sha256: &[u8; 32], key: &PublicKey) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the entry's body is not JSON: {e}"))?;
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str());
    let hex: String = payload_sha256.iter().map(|b| format!("{b:02x}")).collect();
    let kind = (s("/kind").unwrap_or(""), s("/apiVersion").unwrap_or(""));
    let (hash, sigs): (Option<&str>, Vec<Claimed>) = match kind {
        ("hashedrekord", "0.0.1") => {
            (s("/spec/data/hash/value"), vec![(s("/spec/signature/content"), s("/spec/signature/publicKey/content"))])
        }
        ("dsse", "0.0.1") => (
            s("/spec/payloadHash/value"),
            v.pointer("/spec/signatures")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            (x.get("signature").and_then(|y| y.as_str()), x.get("verifier").and_then(|y| y.as_str()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        (k, v) => return Err(format!("a {k:?} {v:?} entry, which airlock does not check")),
    };
    if hash != Some(hex.as_str()) {
        return Err("the entry is about another payload".to_string());
    }
    let ours = sigs.iter().any(|(sig, pem)| {
        sig.and_then(|x| b64(x).ok()).is_some_and(|x| x == signature)
            && pem
                .and_then(|p| b64(p).ok())
                .and_then(|p| PublicKey::from_pem("rekor entry", &p).ok())
                .is_some_and(|k| k.fingerprint == key.fingerprint)
    });
    if !ours {
        return Err("the entry is about another signature or key".to_string());
    }
    Ok(())
}

fn hex32(s: &str) -> Option<Fingerprint> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(Fingerprint(out))
}

/// A bundle v0.3 `tlogEntries` item, as protobuf JSON writes it (int64 as strings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    log_index: String,
    log_id: LogId,
    integrated_time: String,
    inclusion_promise: Option<Promise>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Promise {
    signed_entry_timestamp: String,
}

impl BundleEntry {
    pub fn entry(&self) -> Result<Entry, String> {
        let promise = self.inclusion_promise.as_ref().ok_or("the entry has no inclusion promise (SET)")?;
        Ok(Entry {
            body_b64: self.canonicalized_body.clone(),
            integrated_time: self.integrated_time.parse().map_err(|_| "integratedTime is not a number")?,
            log_index: self.log_index.parse().map_err(|_| "logIndex is not a number")?,
            log_id: Fingerprint::from_hint(&self.log_id.key_id).ok_or("logId.keyId is not a sha256")?,
            set: b64(&promise.signed_entry_timestamp).map_err(|_| "the SET is not base64")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    struct SigningKey(EcdsaKeyPair);

    impl SigningKey {
        fn sign(&self, msg: &[u8]) -> Vec<u8> {
            self.0.sign(&SystemRandom::new(), msg).unwrap().as_ref().to_vec()
        }
    }

    /// A fresh P-256 key pair: the signing half, the public key as airlock reads it, its PEM.
    fn key() -> (SigningKey, PublicKey, String) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        // SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, the uncompressed point.
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        der.extend_from_slice(kp.public_key().as_ref());
        let pem = spki::der::pem::encode_string("PUBLIC KEY", spki::der::pem::LineEnding::LF, &der).unwrap();
        (SigningKey(kp), PublicKey::from_pem("k", pem.as_bytes()).unwrap(), pem)
    }

    fn enc(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    /// An entry as Rekor writes one for `sig` over a payload hashing to `hash`, by `signer`.
    fn entry(log: &SigningKey, log_pk: &PublicKey, sig: &[u8], hash: &[u8; 32], signer_pem: &str) -> Entry {
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let body = format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{hex}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
            enc(sig),
            enc(signer_pem.as_bytes())
        );
        let mut e = Entry {
            body_b64: enc(body.as_bytes()),
            integrated_time: 1700000000,
            log_index: 42,
            log_id: log_pk.fingerprint,
            set: vec![],
        };
        let canonical = format!(
            r#"{{"body":"{}","integratedTime":1700000000,"logID":"{}","logIndex":42}}"#,
            e.body_b64,
            log_pk.fingerprint.hex()
        );
        e.set = log.sign(canonical.as_bytes());
        e
    }

    #[test]
    fn a_set_verifies_with_its_log_key_and_binds_the_signature_payload_and_key() {
        let (log, log_pk, _) = key();
        let (_, signer, signer_pem) = key();
        let (_, other, _) = key();
        let (sig, hash) = (b"the signature".as_slice(), [3u8; 32]);
        let e = entry(&log, &log_pk, sig, &hash, &signer_pem);
        assert_eq!(verify_entry(&e, sig, &hash, &signer, std::slice::from_ref(&log_pk)), Ok(()));
        let err = |e: &Entry, sig: &[u8], hash: &[u8; 32], key: &PublicKey, logs: &[PublicKey]| {
            verify_entry(e, sig, hash, key, logs).unwrap_err()
        };
        assert!(err(&e, sig, &hash, &signer, std::slice::from_ref(&other)).contains("whose key was not given"));
        let mut later = entry(&log, &log_pk, sig, &hash, &signer_pem);
        later.integrated_time += 1;
        assert!(err(&later, sig, &hash, &signer, std::slice::from_ref(&log_pk)).contains("does not verify"));
        assert_eq!(
            err(&e, b"another", &hash, &signer, std::slice::from_ref(&log_pk)),
            "the entry is about another signature or key"
        );
        assert_eq!(
            err(&e, sig, &hash, &other, std::slice::from_ref(&log_pk)),
            "the entry is about another signature or key"
        );
        assert_eq!(
            err(&e, sig, &[4; 32], &signer, std::slice::from_ref(&log_pk)),
            "the entry is about another payload"
        );
    }

    #[test]
    fn a_log_id_is_64_hex_digits() {
        let h = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
        assert_eq!(hex32(h).map(|f| f.hex()), Some(h.to_string()));
        assert!(hex32("c0d2").is_none());
    }

    #[test]
    fn an_entry_of_an_unknown_kind_is_not_taken_as_checked() {
        let key = PublicKey::from_pem(
            "k",
            b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA+Sd2Q7RjAfJyebT5Y4chz0bJ/XwNuPwpy9CmE+JKJ1g=\n-----END PUBLIC KEY-----\n",
        )
        .unwrap();
        let body = br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#;
        assert!(body_is_about(body, b"s", &[0; 32], &key).unwrap_err().contains("does not check"));
        let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"value":"00"}}}}"#;
        assert_eq!(body_is_about(body, b"s", &[0; 32], &key), Err("the entry is about another payload".into()));
    }
}
