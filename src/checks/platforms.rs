//! Partial multi-platform archives: `platform-absent`.
//!
//! `ctr images export` (by default), `docker save --platform` and Docker 29 write the whole
//! image index but only one platform's blobs. That is a normal archive: each absent platform
//! is reported once, as a warning, and the platforms present are verified fully. It is an
//! error only when no platform is present at all (nothing could be loaded), or when
//! `--platform` asks for an absent one (see `commands::verify`).

use crate::finding::{Code, Finding};
use crate::model::Model;

pub fn check(model: &Model, out: &mut Vec<Finding>) {
    for a in &model.absent {
        out.push(
            Finding::new(
                Code::PlatformAbsent,
                format!(
                    "{} lists platform {} (manifest {}), which is not in the archive; the platforms present are checked",
                    a.index,
                    a.platform,
                    a.digest.short()
                ),
            )
            .member(format!("blobs/sha256/{}", a.digest.hex())),
        );
    }
    if model.images.is_empty() && !model.absent.is_empty() {
        let list: Vec<String> = model.absent.iter().map(|a| a.platform.to_string()).collect();
        out.push(Finding::new(
            Code::BlobMissing,
            format!(
                "no platform of the index is in the archive (absent: {}): there is nothing to load",
                list.join(", ")
            ),
        ));
    }
}

/// The finding for `--platform` naming a platform the index lists but the archive lacks.
pub fn selected_absent(model: &Model, want: &crate::model::Platform) -> Option<Finding> {
    let a = model.absent.iter().find(|a| a.platform.matches(want))?;
    Some(
        Finding::new(
            Code::BlobMissing,
            format!(
                "--platform {want}: {} lists it (manifest {}), but its blobs are not in the archive",
                a.index,
                a.digest.short()
            ),
        )
        .member(format!("blobs/sha256/{}", a.digest.hex())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::tests::{one_image, shapes};
    use crate::digest::Digest;
    use crate::model::{AbsentPlatform, Platform};

    fn absent(model: &mut Model, platform: &str, seed: u8) -> String {
        let digest = Digest::of(&[seed]);
        let platform = Platform::parse(platform).unwrap();
        model.absent.push(AbsentPlatform { platform, digest, index: "index.json".into() });
        format!("blobs/sha256/{}", digest.hex())
    }

    #[test]
    fn each_absent_platform_is_one_warning_while_one_is_present() {
        let (_, mut model, _) = one_image();
        let arm = absent(&mut model, "linux/arm64", 1);
        let s390 = absent(&mut model, "linux/s390x", 2);
        let mut out = Vec::new();
        check(&model, &mut out);
        assert_eq!(
            shapes(&out),
            [(Code::PlatformAbsent, None, None, Some(arm)), (Code::PlatformAbsent, None, None, Some(s390))]
        );
        assert!(out.iter().all(|f| !f.is_error()));
    }

    #[test]
    fn no_platform_present_is_an_error() {
        let mut model = Model::default();
        let arm = absent(&mut model, "linux/arm64", 1);
        let mut out = Vec::new();
        check(&model, &mut out);
        assert_eq!(
            shapes(&out),
            [(Code::PlatformAbsent, None, None, Some(arm)), (Code::BlobMissing, None, None, None)]
        );
        // Nothing absent, nothing present: not this check's to say.
        let mut out = Vec::new();
        check(&Model::default(), &mut out);
        assert_eq!(shapes(&out), []);
    }

    #[test]
    fn asking_for_an_absent_platform() {
        let mut model = Model::default();
        let arm = absent(&mut model, "linux/arm64/v8", 1);
        let f = selected_absent(&model, &Platform::parse("linux/arm64").unwrap()).expect("absent");
        assert_eq!((f.code, f.member), (Code::BlobMissing, Some(arm)));
        assert!(selected_absent(&model, &Platform::parse("linux/amd64").unwrap()).is_none());
    }
}
