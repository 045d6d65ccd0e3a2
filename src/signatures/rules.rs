//! What airlock recognises as a signature, how it is attached to what it signs, and which
//! signature schemes it accepts for each kind of key: each row with where it comes from (the
//! tool's source, or what was measured with the real tool in `fixtures/make-signed-fixtures.sh`).

/// The algorithm family of a key, which decides the schemes tried ([`SCHEMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa,
}

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Rsa => "RSA",
        }
    }
}

/// The two signature formats cosign writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A simple-signing payload layer with the signature in the layer's annotation (cosign 2).
    SimpleSigning,
    /// A sigstore bundle layer (cosign 3).
    Bundle,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::SimpleSigning => "cosign simple signing",
            Format::Bundle => "sigstore bundle v0.3",
        }
    }
}

pub struct Form {
    /// The layer media type that holds it.
    pub media_type: &'static str,
    pub format: Format,
    pub what: &'static str,
    pub source: &'static str,
}

/// The layers that carry a signature, by media type.
pub const FORMS: &[Form] = &[
    Form {
        media_type: SIMPLE_SIGNING,
        format: Format::SimpleSigning,
        what: "the payload {critical: {identity, image: {docker-manifest-digest}, type: \"cosign container image signature\"}, optional}; the base64 signature in the layer annotation dev.cosignproject.cosign/signature, over the payload bytes",
        source: "sigstore/sigstore pkg/signature/payload (SimpleContainerImage); sigstore/cosign pkg/oci/static; cosign 2.5.0 `sign --key` measured",
    },
    Form {
        media_type: BUNDLE_V03,
        format: Format::Bundle,
        what: "a sigstore bundle whose dsseEnvelope holds an in-toto statement (predicateType https://sigstore.dev/cosign/sign/v1, subject: the image's digest), or a messageSignature; the key's fingerprint as verificationMaterial.publicKey.hint",
        source: "sigstore/protobuf-specs sigstore_bundle.proto; sigstore/cosign specs/BUNDLE_SPEC.md; cosign 3.1.1 `sign --key --signing-config` measured",
    },
];

pub use crate::formats::media_types::{
    COSIGN_SIMPLE_SIGNING as SIMPLE_SIGNING, IN_TOTO, SIGSTORE_BUNDLE_V03 as BUNDLE_V03,
};
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// cosign 2's Rekor bundle beside a simple-signing signature (its SET and entry).
pub const REKOR_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The format of a signature layer, by its media type.
pub fn format_of(media_type: &str) -> Option<Format> {
    FORMS.iter().find(|f| f.media_type == media_type).map(|f| f.format)
}

/// A signature algorithm: how a key's signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    EcdsaSha256,
    EcdsaSha384,
    Ed25519,
    Ed25519ph,
    RsaPkcs1Sha256,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::EcdsaSha256 => "ECDSA with SHA-256",
            Alg::EcdsaSha384 => "ECDSA with SHA-384",
            Alg::Ed25519 => "Ed25519",
            Alg::Ed25519ph => "Ed25519ph (SHA-512 prehash)",
            Alg::RsaPkcs1Sha256 => "RSA PKCS#1 v1.5 with SHA-256",
        }
    }
}

pub struct Scheme {
    pub key: KeyKind,
    pub alg: Alg,
    pub source: &'static str,
}

/// Every scheme tried for a key kind, in order (cosign 2's first: a P-384 attempt costs about
/// 3 ms with ring, a P-256 one 0.1 ms; a bundle's hint puts its key first). RSA-PSS is not here: cosign signs and verifies
/// with a PEM RSA key as PKCS#1 v1.5 (measured: PSS verification of both versions' signatures
/// fails), so a PSS signature is one cosign itself would refuse with that key.
pub const SCHEMES: &[Scheme] = &[
    Scheme {
        key: KeyKind::EcdsaP256,
        alg: Alg::EcdsaSha256,
        source: "cosign 2.5.0 and 3.1.1 (both formats), measured with openssl dgst -sha256 -verify",
    },
    Scheme {
        key: KeyKind::EcdsaP384,
        alg: Alg::EcdsaSha256,
        source: "cosign 2.5.0 simple signing: SHA-256 whatever the curve (LoadSignerVerifier(key, crypto.SHA256)), measured",
    },
    Scheme {
        key: KeyKind::EcdsaP384,
        alg: Alg::EcdsaSha384,
        source: "cosign 3.1.1 bundles: the algorithm registry's ecdsa-sha2-384-nistp384, measured",
    },
    Scheme {
        key: KeyKind::Ed25519,
        alg: Alg::Ed25519,
        source: "cosign 2.5.0 simple signing, cosign 3.1.1 sign-blob, measured",
    },
    Scheme {
        key: KeyKind::Ed25519,
        alg: Alg::Ed25519ph,
        source: "cosign 3.1.1 bundles of images (DSSE): ed25519-ph, empty context; pure Ed25519 over the PAE fails, measured",
    },
    Scheme {
        key: KeyKind::Rsa,
        alg: Alg::RsaPkcs1Sha256,
        source: "cosign 2.5.0 and 3.1.1: PKCS#1 v1.5 with SHA-256 (PSS fails), measured",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_kind_has_a_scheme_and_every_form_a_format() {
        for k in [KeyKind::EcdsaP256, KeyKind::EcdsaP384, KeyKind::Ed25519, KeyKind::Rsa] {
            assert!(SCHEMES.iter().any(|s| s.key == k), "{k:?}");
        }
        assert_eq!(format_of(SIMPLE_SIGNING), Some(Format::SimpleSigning));
        assert_eq!(format_of(BUNDLE_V03), Some(Format::Bundle));
        assert_eq!(format_of("application/vnd.dsse.envelope.v1+json"), None);
    }
}
