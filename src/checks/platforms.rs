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
