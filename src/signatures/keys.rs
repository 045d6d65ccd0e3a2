//! Public keys as cosign writes and reads them: a PEM `PUBLIC KEY` block holding a PKIX
//! SubjectPublicKeyInfo (`cosign generate-key-pair`'s `cosign.pub`, `cosign import-key-pair`'s
//! `.pub`, `openssl pkey -pubout`). ECDSA P-256 and P-384, Ed25519, RSA (2048 bits or more).
//!
//! A key's fingerprint is the sha256 of its DER SubjectPublicKeyInfo: the value cosign 3 writes,
//! base64-encoded, as a sigstore bundle's `verificationMaterial.publicKey.hint` (measured: the
//! hints of `fixtures/signed/` are these fingerprints), and Rekor's log ID for its own key.

pub use super::rules::KeyKind;
use super::rules::{Alg, SCHEMES};
use ed25519_dalek::Verifier as _;
use ring::signature as ring_sig;
use sha2::{Digest as _, Sha256, Sha512};
use spki::der::Decode;
use std::fmt;

const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
/// Go's crypto/rsa refuses less than 1024 bits; cosign's key policy less than 2048.
const MIN_RSA_BITS: usize = 2048;

/// sha256 of a key's DER SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// A bundle's `publicKey.hint`: the fingerprint in standard base64.
    pub fn from_hint(hint: &str) -> Option<Fingerprint> {
        let bytes = super::b64(hint).ok()?;
        Some(Fingerprint(bytes.try_into().ok()?))
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The key material each verifier takes: ring's ECDSA and RSA verifiers (the fast ones:
/// RustCrypto p256 0.14 verified in 530 µs where ring, like OpenSSL, takes about 80),
/// ed25519-dalek for Ed25519 (ring has no Ed25519ph, which cosign 3 uses).
#[derive(Clone)]
enum Inner {
    /// The uncompressed SEC1 point.
    P256(Vec<u8>),
    P384(Vec<u8>),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// The PKCS#1 RSAPublicKey DER.
    Rsa(Vec<u8>),
}

/// A public key read from a file, ready to verify.
#[derive(Clone)]
pub struct PublicKey {
    /// Where it came from, for messages (the file name).
    pub name: String,
    pub kind: KeyKind,
    pub fingerprint: Fingerprint,
    inner: Inner,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} key {} ({})", self.kind.name(), self.fingerprint, self.name)
    }
}

/// Why a key file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Not one PEM block.
    NotPem(String),
    /// A PEM block of another kind: a private key, a certificate, PKCS#1.
    WrongBlock(String),
    /// A SubjectPublicKeyInfo of an algorithm or curve airlock does not verify.
    Unsupported(String),
    /// The DER inside is not a valid key.
    Malformed(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotPem(why) => write!(f, "not a PEM public key: {why}"),
            KeyError::WrongBlock(label) => write!(
                f,
                "a PEM \"{label}\" block, not \"PUBLIC KEY\": give the public key (cosign.pub, or `openssl pkey -pubout`)"
            ),
            KeyError::Unsupported(what) => {
                write!(f, "{what}: airlock verifies ECDSA P-256 and P-384, Ed25519 and RSA (2048 bits or more)")
            }
            KeyError::Malformed(why) => write!(f, "not a valid public key: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A PEM public key file is well under this; a larger file is not one.
const MAX_KEY_FILE: u64 = 64 << 10;

/// Reads the key files given on the command line (`--key`, `--rekor-key`: the only files
/// this module opens); the error names the file and why (a usage error).
pub fn read_files(paths: &[std::path::PathBuf]) -> Result<Vec<PublicKey>, crate::error::Error> {
    use std::io::Read;
    paths
        .iter()
        .map(|p| {
            let shown = p.display().to_string();
            let key_error = |message: String| crate::error::Error::Key { path: p.clone(), message };
            let mut bytes = Vec::new();
            std::fs::File::open(p)
                .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
                .map_err(|e| key_error(format!("cannot read the key {shown}: {e}")))?;
            if bytes.len() as u64 > MAX_KEY_FILE {
                return Err(key_error(format!("the key {shown} is over {MAX_KEY_FILE} bytes: not a PEM public key")));
            }
            PublicKey::from_pem(&shown, &bytes).map_err(|e| key_error(format!("the key {shown}: {e}")))
        })
        .collect()
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (PKIX) file's bytes; `name` is used in messages.
    pub fn from_pem(name: &str, pem: &[u8]) -> Result<PublicKey, KeyError> {
        let text = std::str::from_utf8(pem).map_err(|_| KeyError::NotPem("not text".into()))?;
        let blocks = text.matches("-----BEGIN ").count();
        if blocks != 1 {
            return Err(KeyError::NotPem(format!("{blocks} PEM blocks, expected one")));
        }
        let (label, der) =
            spki::der::pem::decode_vec(text.trim().as_bytes()).map_err(|e| KeyError::NotPem(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::WrongBlock(label.to_string()));
        }
        PublicKey::from_der(name, &der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_der(name: &str, der: &[u8]) -> Result<PublicKey, KeyError> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let oid = info.algorithm.oid.to_string();
        let bits = info.subject_public_key.as_bytes().ok_or_else(|| KeyError::Malformed("unused bits".into()))?;
        let (kind, inner) = match oid.as_str() {
            OID_EC => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
                    .map(|o| o.to_string())
                    .ok_or_else(|| KeyError::Malformed("EC key without a named curve".into()))?;
                ec_key(&curve, bits)?
            }
            OID_ED25519 => {
                if info.algorithm.parameters.is_some() {
                    return Err(KeyError::Malformed("Ed25519 key with parameters".into()));
                }
                let raw: &[u8; 32] =
                    bits.try_into().map_err(|_| KeyError::Malformed("Ed25519 key is not 32 bytes".into()))?;
                let k = ed25519_dalek::VerifyingKey::from_bytes(raw).map_err(|e| KeyError::Malformed(e.to_string()))?;
                (KeyKind::Ed25519, Inner::Ed25519(k))
            }
            OID_RSA => {
                let k = pkcs1::RsaPublicKeyRef::from_der(bits).map_err(|e| KeyError::Malformed(e.to_string()))?;
                let n = k.modulus.as_bytes();
                let n_bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
                if n_bits < MIN_RSA_BITS {
                    return Err(KeyError::Unsupported(format!("an RSA key of {n_bits} bits")));
                }
                (KeyKind::Rsa, Inner::Rsa(bits.to_vec()))
            }
            other => return Err(KeyError::Unsupported(format!("key algorithm {other}"))),
        };
        Ok(PublicKey { name: name.to_string(), kind, fingerprint: Fingerprint::of_der(der), inner })
    }

    /// Verifies `sig` over `message` with each scheme cosign uses for this kind of key
    /// (`rules::SCHEMES`); returns the scheme that verified.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> Option<Alg> {
        SCHEMES.iter().filter(|s| s.key == self.kind).map(|s| s.alg).find(|&alg| self.verify_with(alg, message, sig))
    }

    fn verify_with(&self, alg: Alg, message: &[u8], sig: &[u8]) -> bool {
        let ring = |alg: &'static dyn ring_sig::VerificationAlgorithm, key: &[u8]| {
            ring_sig::UnparsedPublicKey::new(alg, key).verify(message, sig).is_ok()
        };
        match (&self.inner, alg) {
            (Inner::P256(k), Alg::EcdsaSha256) => ring(&ring_sig::ECDSA_P256_SHA256_ASN1, k),
            (Inner::P384(k), Alg::EcdsaSha256) => ring(&ring_sig::ECDSA_P384_SHA256_ASN1, k),
            (Inner::P384(k), Alg::EcdsaSha384) => ring(&ring_sig::ECDSA_P384_SHA384_ASN1, k),
            (Inner::Rsa(k), Alg::RsaPkcs1Sha256) => ring(&ring_sig::RSA_PKCS1_2048_8192_SHA256, k),
            (Inner::Ed25519(k), Alg::Ed25519) => {
                ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| k.verify(message, &s).is_ok())
            }
            (Inner::Ed25519(k), Alg::Ed25519ph) => ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| {
                let mut h = Sha512::new();
                h.update(message);
                k.verify_prehashed(h, None, &s).is_ok()
            }),
            _ => false,
        }
    }
}

/// An EC key's point, for its curve. Go's x509 reads uncompressed points only; that the point
/// is on the curve is checked when it verifies (ring), and here by its length and form.
fn ec_key(curve: &str, point: &[u8]) -> Result<(KeyKind, Inner), KeyError> {
    let (kind, len) = match curve {
        OID_P256 => (KeyKind::EcdsaP256, 65),
        OID_P384 => (KeyKind::EcdsaP384, 97),
        other => return Err(KeyError::Unsupported(format!("EC curve {other}"))),
    };
    if point.len() != len || point[0] != 4 {
        return Err(KeyError::Malformed(format!("the {} point is not an uncompressed point", kind.name())));
    }
    let inner = if kind == KeyKind::EcdsaP256 { Inner::P256(point.to_vec()) } else { Inner::P384(point.to_vec()) };
    Ok((kind, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A cosign 2.5.0 `generate-key-pair` key, and an openssl Ed25519 key as cosign's
    // `import-key-pair` wrote it (made while measuring cosign for fixtures/signed/).
    const P256: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEn21YyS+c9CMUPy3lUzAq4CPAyrbP\nmavZJek0X3ya4tRh20DQbBjk9Axs3wqneRummvre2TjxDfwb5xQfTQziGQ==\n-----END PUBLIC KEY-----\n";
    const ED25519: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA+Sd2Q7RjAfJyebT5Y4chz0bJ/XwNuPwpy9CmE+JKJ1g=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn reads_cosign_pub_and_its_fingerprint_is_the_bundle_hint() {
        let k = PublicKey::from_pem("cosign.pub", P256.as_bytes()).unwrap();
        assert_eq!(k.kind, KeyKind::EcdsaP256);
        // The hint cosign 3.1.1 wrote into the bundles it signed with this key.
        assert_eq!(Fingerprint::from_hint("z2KCbRqbJ7z9RX96ZzXMtJm+Tdyttj2ueL6MvWxehHM="), Some(k.fingerprint));
        let e = PublicKey::from_pem("ed.pub", ED25519.as_bytes()).unwrap();
        assert_eq!(e.kind, KeyKind::Ed25519);
    }

    #[test]
    fn refuses_what_is_not_one_public_key() {
        let err = |pem: &str| PublicKey::from_pem("k", pem.as_bytes()).unwrap_err();
        assert!(matches!(err("hello"), KeyError::NotPem(_)));
        assert!(matches!(err(&format!("{P256}{P256}")), KeyError::NotPem(_)));
        let private =
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\naGVsbG8=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
        assert_eq!(err(private), KeyError::WrongBlock("ENCRYPTED SIGSTORE PRIVATE KEY".into()));
        // An X25519 key (OID 1.3.101.110) is no signing key.
        let x25519 = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n-----END PUBLIC KEY-----\n";
        assert_eq!(err(x25519), KeyError::Unsupported("key algorithm 1.3.101.110".into()));
        let truncated = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEn21YyS+c9CMUPy3lUzAq4CPAyrbP\n-----END PUBLIC KEY-----\n";
        assert!(matches!(err(truncated), KeyError::Malformed(_)));
    }

    #[test]
    fn a_signature_that_is_not_der_does_not_verify_and_does_not_panic() {
        let k = PublicKey::from_pem("cosign.pub", P256.as_bytes()).unwrap();
        for sig in [&b""[..], b"\x30", &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], &[0u8; 64]] {
            assert_eq!(k.verify(b"payload", sig), None);
        }
    }
}
