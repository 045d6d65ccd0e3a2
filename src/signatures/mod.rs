//! Signatures checked offline with the user's keys (issue 18): cosign's simple signing
//! (cosign 2) and sigstore bundles (cosign 3), found beside the images of any input the model
//! reads (OCI layouts and archives, plain or wrapped, and the layouts inside bundles), checked
//! with PEM public keys, per image.
//!
//! Pure functions over bytes and the model: nothing here opens a file (but the key files
//! given, `keys::read_files`) or the network. The
//! documents needed (signature manifests, payloads, bundles: small JSON) are the ones the
//! catalog already kept, so checking adds no read of the input.
//!
//! - `keys`: PEM public keys, their fingerprints (sha256 of the DER SubjectPublicKeyInfo).
//! - `rules`: the forms recognised and the schemes accepted per key kind, with sources.
//! - `simple`, `bundle`: one signature layer checked; `rekor`: a log entry's SET, offline.
//! - `find`: which signature layers are about which image.
//! - `blob`: a detached signature over a file (Zarf's `zarf.yaml.sig`).
//!
//! - `report`: what the reports show (per image; Zarf's signed `zarf.yaml`); `package`: a
//!   Zarf package's own signature.
//!
//! # How it is wired
//!
//! - CLI: `verify --key FILE` (repeatable; [`keys::read_files`], a file that is not one PEM
//!   public key of a supported kind is a usage error naming it) and `--rekor-key FILE`
//!   (with it, a signature counts only with a log entry whose SET verifies:
//!   [`Why::TlogMissing`], [`Why::TlogInvalid`]). `lock --key` the same for what `lock`
//!   records. Without `--key` (and without a lock that records signatures) nothing is looked
//!   for: no finding, no report field.
//! - verify (`commands::verify::checked_input`, once per input and per nested part of a
//!   bundle): [`check_selected`] for the images the report shows, each image's
//!   [`report::SignatureReport`]s, and with keys `signature-missing` / `signature-invalid` on
//!   the image ([`ImageSignatures::finding`]). A Zarf package: [`package::check_zarf`] on the
//!   package's report (`signed_files`).
//! - lock: per image the signatures found (`blob`, and the key fingerprint with `lock
//!   --key`), a version 2 lock; `verify --lock`: `lock-signature-missing` when none of an
//!   image's locked signature blobs arrived, or with `--key` a locked key verifies none of its
//!   signatures (`lock::compare`).
//! - The model: cosign 3's bundle layer type is a signature (an attestation by its
//!   `predicateType`), and a referrer left in `blobs/` about a document of the layout is an
//!   artifact ([`Attachment::UnlistedReferrer`], `Model::referrers`).

pub mod blob;
pub mod bundle;
pub mod find;
pub mod keys;
pub mod package;
pub mod rekor;
pub mod report;
pub mod rules;
pub mod simple;

pub use find::{Attachment, Candidate};
pub use keys::{Fingerprint, PublicKey};
pub use rules::{Alg, Format};

use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::model::Model;
use crate::open::Catalog;
use std::collections::HashMap;
use std::fmt;

/// The keys signatures are checked with.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `--key`: a signature counts when it verifies with one of these.
    pub keys: Vec<PublicKey>,
    /// `--rekor-key`: when given, a signature counts only with a log entry they verify.
    pub rekor: Vec<PublicKey>,
}

/// The result of checking one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    /// What the signature carries that was not checked.
    pub unchecked: Vec<Unchecked>,
}

impl Checked {
    fn invalid(why: Why, unchecked: Vec<Unchecked>) -> Checked {
        Checked { verdict: Verdict::Invalid(why), unchecked }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Verified with this key, over a payload naming the digest it is attached to.
    Verified {
        key: Fingerprint,
        alg: Alg,
    },
    Invalid(Why),
}

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// None of the keys verifies it. `hint`: the key the bundle says signed it (a simple-signing
    /// signature names none); `names_other`: the payload names another digest too.
    NoKeyVerifies { keys: usize, hint: Option<Fingerprint>, names_other: Option<Digest> },
    /// A key verifies it, but the payload names another digest: another image's signature.
    NamesOtherDigest { key: Fingerprint, names: String },
    /// Not a signature airlock can read (base64, DER, JSON, the payload's type…).
    Malformed(String),
    /// Signed with a certificate (keyless): not checked offline.
    Keyless,
    /// `--rekor-key` was given and the signature has no log entry.
    TlogMissing,
    /// `--rekor-key` was given and the entry does not verify.
    TlogInvalid(String),
    /// The payload or bundle blob is not in the input (or not readable as a document).
    BlobMissing(String),
}

impl Why {
    /// The reason in words, with `keys` to name a hinted key the user gave.
    pub fn describe(&self, keys: &[PublicKey]) -> String {
        match self {
            Why::NoKeyVerifies { keys: n, hint, names_other } => {
                let mut s = match hint {
                    Some(h) => match keys.iter().find(|k| k.fingerprint == *h) {
                        Some(k) => format!(
                            "made with key {} ({}), which does not verify it: the payload or the signature was changed after signing",
                            h, k.name
                        ),
                        None => format!("made with another key ({h}) than the {n} given"),
                    },
                    None => format!(
                        "verifies with none of the {n} keys given: made with another key, or the payload or signature was changed after signing"
                    ),
                };
                if let Some(d) = names_other {
                    s.push_str(&format!("; its payload names {d}"));
                }
                s
            }
            Why::NamesOtherDigest { key, names } => {
                format!("a valid signature by {key}, but of {names}: another image's signature attached to this one")
            }
            Why::Malformed(m) => format!("malformed: {m}"),
            Why::Keyless => "made with a certificate (keyless), which airlock does not check offline".to_string(),
            Why::TlogMissing => "no transparency-log entry, and --rekor-key asks for one".to_string(),
            Why::TlogInvalid(m) => format!("its transparency-log entry does not verify: {m}"),
            Why::BlobMissing(m) => format!("its payload {m} is not in the input"),
        }
    }
}

/// Something a signature carries that was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchecked {
    /// A Rekor entry, present, not checked (no `--rekor-key`).
    TlogEntry,
    /// A certificate (keyless signing).
    Certificate,
    /// An RFC 3161 timestamp.
    Timestamp,
}

impl Unchecked {
    pub fn name(self) -> &'static str {
        match self {
            Unchecked::TlogEntry => "tlog entry present, not checked",
            Unchecked::Certificate => "certificate not checked",
            Unchecked::Timestamp => "RFC 3161 timestamp not checked",
        }
    }
}

/// One signature about an image, checked.
#[derive(Debug, Clone)]
pub struct Signature {
    pub found: Candidate,
    pub checked: Checked,
}

impl Signature {
    pub fn verified_with(&self) -> Option<Fingerprint> {
        match self.checked.verdict {
            Verdict::Verified { key, .. } => Some(key),
            Verdict::Invalid(_) => None,
        }
    }
}

/// Every signature about one image of a model.
#[derive(Debug, Clone, Default)]
pub struct ImageSignatures {
    /// The image's index in the model.
    pub image: usize,
    pub manifest: Option<Digest>,
    pub signatures: Vec<Signature>,
    /// Signature layers found past the bounds ([`MAX_PER_IMAGE`], `MAX_PER_INPUT`), not
    /// checked.
    pub not_checked: usize,
}

impl ImageSignatures {
    pub fn verified(&self) -> bool {
        self.signatures.iter().any(|s| s.verified_with().is_some())
    }

    /// `signature-missing` or `signature-invalid`, or nothing when one verifies.
    pub fn finding(&self, trust: &Trust) -> Option<Finding> {
        if self.verified() {
            return None;
        }
        let name = match self.manifest {
            Some(d) => format!("image @{} ({d})", self.image),
            None => format!("image @{} (no manifest digest: a docker-save archive carries no signatures)", self.image),
        };
        let f = if self.signatures.is_empty() && self.not_checked == 0 {
            Finding::new(
                Code::SignatureMissing,
                format!("{name} carries no signature: none is attached to its manifest or to an index that lists it"),
            )
        } else {
            let mut whys: Vec<String> = self.signatures.iter().map(|s| s.describe(trust)).collect();
            if self.not_checked > 0 {
                whys.push(format!("{} more not checked (over airlock's bounds)", self.not_checked));
            }
            Finding::new(
                Code::SignatureInvalid,
                format!(
                    "{name}: {} signature(s), none verifies: {}",
                    self.signatures.len() + self.not_checked,
                    whys.join("; ")
                ),
            )
        };
        Some(f.image(self.image))
    }
}

impl Signature {
    /// One line for a report: what it is, how it is attached, and how it fared.
    pub fn describe(&self, trust: &Trust) -> String {
        let f = &self.found;
        let at = f.manifest.map_or_else(|| f.manifest_member.clone(), |d| d.to_string());
        let what = format!("{} {at} layer {} ({})", f.format.name(), f.layer, f.attachment.name());
        let mut s = match &self.checked.verdict {
            Verdict::Invalid(why) => format!("{what}: {}", why.describe(&trust.keys)),
            Verdict::Verified { key, alg } => {
                let name = trust.keys.iter().find(|k| k.fingerprint == *key).map_or("", |k| k.name.as_str());
                format!("{what}: verified with {key} {name} ({})", alg.name())
            }
        };
        for u in &self.checked.unchecked {
            s.push_str("; ");
            s.push_str(u.name());
        }
        s
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(&Trust::default()))
    }
}

/// Signature layers checked per image: real images carry a few. A hostile input can list
/// thousands, each a verification per key: past this they are counted, not checked.
pub const MAX_PER_IMAGE: usize = 64;
/// Distinct signature layers checked per input (each once, however many images it covers).
pub const MAX_PER_INPUT: usize = 4096;

/// Checks every image of `model` (read from `catalog`): its signatures and how each fares.
/// Each signature is checked once however many images it covers (an index's signature covers
/// every platform): the work is one verification per signature layer and digest, plus one
/// read of each index, within [`MAX_PER_IMAGE`] and `MAX_PER_INPUT`.
pub fn check(catalog: &Catalog, model: &Model, trust: &Trust) -> Vec<ImageSignatures> {
    let found = find::candidates(catalog, model);
    let parents = find::parents(catalog, model);
    let mut memo: HashMap<(String, usize, Digest), Option<Checked>> = HashMap::new();
    (0..model.images.len())
        .map(|i| {
            let mut r = ImageSignatures { image: i, manifest: model.images[i].manifest_digest, ..Default::default() };
            for (digest, member) in find::signable(catalog, model, &parents, i) {
                for c in found.get(&digest).into_iter().flatten() {
                    let key = (c.manifest_member.clone(), c.layer, c.about);
                    let over = r.signatures.len() >= MAX_PER_IMAGE
                        || (!memo.contains_key(&key) && memo.len() >= MAX_PER_INPUT);
                    if over {
                        r.not_checked += 1;
                        continue;
                    }
                    let checked = memo.entry(key).or_insert_with(|| check_one(catalog, c, &member, trust));
                    if let Some(checked) = checked {
                        r.signatures.push(Signature { found: c.clone(), checked: checked.clone() });
                    }
                }
            }
            r
        })
        .collect()
}

/// [`check`] for the images a report shows: `chosen` holds their model indexes; each
/// result's `image` stays the model's index (what `Finding.image`, the report's `@N` and
/// `--image @N` mean).
pub fn check_selected(catalog: &Catalog, model: &Model, chosen: &[usize], trust: &Trust) -> Vec<ImageSignatures> {
    check(catalog, model, trust).into_iter().filter(|r| chosen.contains(&r.image)).collect()
}

/// Every finding of [`check`]'s results, image by image.
pub fn findings(results: &[ImageSignatures], trust: &Trust) -> Vec<Finding> {
    results.iter().filter_map(|r| r.finding(trust)).collect()
}

/// One layer checked; `None` when it is not a signature (a bundle holding an attestation).
/// `signed_member` holds the document the signature is attached to (for a message signature).
fn check_one(catalog: &Catalog, c: &Candidate, signed_member: &str, trust: &Trust) -> Option<Checked> {
    let Some(bytes) = catalog.document(&c.blob_member) else {
        let missing = if c.blob_member.is_empty() { format!("layer {}", c.layer) } else { c.blob_member.clone() };
        return Some(Checked::invalid(Why::BlobMissing(missing), Vec::new()));
    };
    match c.format {
        Format::SimpleSigning => Some(simple::verify(bytes, &c.annotations, &c.about, trust)),
        Format::Bundle => match bundle::verify(bytes, &c.about, catalog.document(signed_member), trust) {
            bundle::Kind::Signature(checked) => Some(checked),
            bundle::Kind::Attestation(_) => None,
        },
    }
}

/// Standard base64, as Go's `base64.StdEncoding` (padding required).
pub(crate) fn b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s)
}
