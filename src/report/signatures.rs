//! What the reports show of the signatures checked (the types; `crate::signatures::report`
//! builds them): per image (`verify --key`, and the lock), and per signed file of a bundle
//! (Zarf's `zarf.yaml.sig`). Plain data, serialized as the README's JSON section documents it.

use crate::digest::Digest;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One signature of an image, as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignatureReport {
    /// The signature manifest's digest (`null` where it has none, e.g. a blob left unlisted
    /// under a name that is not a digest).
    pub manifest: Option<Digest>,
    /// The member holding the signature manifest.
    pub member: String,
    /// Which layer of it.
    pub layer: usize,
    /// The payload's or bundle's digest: what a copy that rewrites the manifest keeps.
    pub blob: Option<Digest>,
    /// "cosign simple signing" or "sigstore bundle v0.3".
    pub format: Cow<'static, str>,
    /// How it is attached to what it signs.
    pub attached: Cow<'static, str>,
    /// The digest it is attached to: the image's manifest, or an index that lists it.
    pub about: Digest,
    /// The fingerprint (sha256 of the SubjectPublicKeyInfo) of the key it verified with.
    pub verified_with: Option<String>,
    /// That key's file, as given.
    pub key_file: Option<String>,
    /// The signature scheme, e.g. "ECDSA with SHA-256".
    pub alg: Option<Cow<'static, str>>,
    /// Why it does not count, when it does not.
    pub why: Option<String>,
    /// What it carries that was not checked (a tlog entry without --rekor-key, a certificate,
    /// an RFC 3161 timestamp).
    pub not_checked: Vec<Cow<'static, str>>,
}

impl SignatureReport {
    /// One line for the human report.
    pub fn line(&self) -> String {
        let at = self.manifest.map_or_else(|| self.member.clone(), |d| d.short());
        let what = format!("{} {at} layer {} ({})", self.format, self.layer, self.attached);
        let mut s = match (&self.verified_with, &self.why) {
            (Some(key), _) => format!(
                "{what}: verified with {key}{} ({})",
                self.key_file.as_deref().map(|n| format!(" {n}")).unwrap_or_default(),
                self.alg.as_deref().unwrap_or("?")
            ),
            (None, Some(why)) => format!("{what}: {why}"),
            (None, None) => what,
        };
        for u in &self.not_checked {
            s.push_str("; ");
            s.push_str(u);
        }
        s
    }
}

/// A file of a bundle checked against a detached signature (Zarf's `zarf.yaml.sig`).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignedFile {
    /// The signed file, e.g. "zarf.yaml".
    pub file: String,
    /// The signature file, e.g. "zarf.yaml.sig"; `null` when there is none.
    pub signature: Option<String>,
    pub verified_with: Option<String>,
    pub key_file: Option<String>,
    pub alg: Option<Cow<'static, str>>,
    pub why: Option<String>,
}

impl SignedFile {
    pub fn line(&self) -> String {
        let sig = self.signature.as_deref().unwrap_or("no signature");
        match (&self.verified_with, &self.why) {
            (Some(k), _) => format!(
                "{} ({sig}): signature verified with {k}{} ({})",
                self.file,
                self.key_file.as_deref().map(|n| format!(" {n}")).unwrap_or_default(),
                self.alg.as_deref().unwrap_or("?")
            ),
            (None, Some(why)) => format!("{} ({sig}): {why}", self.file),
            (None, None) => format!("{} ({sig})", self.file),
        }
    }
}
