//! A Zarf package's own signature (`zarf package sign`, or `zarf package create
//! --signing-key`): `zarf.yaml.sig`, cosign sign-blob's base64 signature over `zarf.yaml`
//! (Zarf before the bundle format), or `zarf.bundle.sig`, a sigstore bundle over the same
//! bytes (Zarf's newer format). With `--key`, one of them must verify; checked with
//! [`super::blob::verify`], reported on the package.

use super::report::SignedFile;
use super::{Trust, Verdict};
use crate::finding::{Code, Finding};
use crate::formats::zarf::{self, SIGNATURES as ZARF_SIGNATURES, ZARF_YAML};
use crate::open::Catalog;

/// zarf.yaml and its signatures are small; a larger member is not read.
const MAX_READ: u64 = 4 << 20;

/// The package's signed files and the finding, if none verifies.
pub fn check_zarf(catalog: &Catalog, trust: &Trust) -> (Vec<SignedFile>, Option<Finding>) {
    let Some(yaml) = read(catalog, ZARF_YAML) else {
        let f = Finding::new(Code::SignatureInvalid, "zarf.yaml cannot be read: its signature cannot be checked")
            .member(ZARF_YAML);
        return (Vec::new(), Some(f));
    };
    let mut files = Vec::new();
    for name in ZARF_SIGNATURES.iter().filter(|n| catalog.has(n)) {
        let mut file = SignedFile {
            file: ZARF_YAML.into(),
            signature: Some(name.to_string()),
            verified_with: None,
            key_file: None,
            alg: None,
            why: None,
        };
        match read(catalog, name) {
            None => file.why = Some(format!("{name} cannot be read (over {MAX_READ} bytes, or not a file)")),
            Some(sig) => match super::blob::verify(&yaml, &sig, trust).verdict {
                Verdict::Verified { key, alg } => {
                    file.verified_with = Some(key.to_string());
                    file.key_file = trust.keys.iter().find(|k| k.fingerprint == key).map(|k| k.name.clone());
                    file.alg = Some(alg.name().into());
                }
                Verdict::Invalid(why) => file.why = Some(why.describe(&trust.keys)),
            },
        }
        files.push(file);
    }
    let finding = if files.is_empty() {
        Some(Finding::new(
            Code::SignatureMissing,
            "the Zarf package is not signed: it holds neither zarf.yaml.sig nor zarf.bundle.sig",
        ))
    } else if files.iter().all(|f| f.verified_with.is_none()) {
        let whys: Vec<String> = files.iter().map(SignedFile::line).collect();
        Some(
            Finding::new(
                Code::SignatureInvalid,
                format!("the Zarf package's signature does not verify: {}", whys.join("; ")),
            )
            .member(ZARF_YAML),
        )
    } else {
        None
    };
    (files, finding)
}

/// A small member's bytes: kept by the catalog (`KEPT_NAMES`), or read again.
fn read(c: &Catalog, member: &str) -> Option<Vec<u8>> {
    zarf::read_small(c, member, MAX_READ)
}
