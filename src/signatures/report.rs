//! What the reports show of the signatures checked: per image (`verify --key`, and the lock),
//! and per signed file of a bundle (Zarf's `zarf.yaml.sig`), built from what `check` found.
//! The types are the report's (`crate::report::signatures`).

use super::{ImageSignatures, Signature, Trust, Verdict};
pub use crate::report::signatures::{SignatureReport, SignedFile};

impl SignatureReport {
    pub fn of(s: &Signature, trust: &Trust) -> SignatureReport {
        let f = &s.found;
        let (verified_with, key_file, alg, why) = match &s.checked.verdict {
            Verdict::Verified { key, alg } => {
                let file = trust.keys.iter().find(|k| k.fingerprint == *key).map(|k| k.name.clone());
                (Some(key.to_string()), file, Some(alg.name().into()), None)
            }
            Verdict::Invalid(why) => (None, None, None, Some(why.describe(&trust.keys))),
        };
        SignatureReport {
            manifest: f.manifest,
            member: f.manifest_member.clone(),
            layer: f.layer,
            blob: f.blob,
            format: f.format.name().into(),
            attached: f.attachment.name().into(),
            about: f.about,
            verified_with,
            key_file,
            alg,
            why,
            not_checked: s.checked.unchecked.iter().map(|u| u.name().into()).collect(),
        }
    }
}

/// The signatures of one image for the report, and how many were past the bounds.
pub fn of_image(r: &ImageSignatures, trust: &Trust) -> (Vec<SignatureReport>, usize) {
    (r.signatures.iter().map(|s| SignatureReport::of(s, trust)).collect(), r.not_checked)
}
