//! Which format an input is, from its members (never its file name).

use crate::finding::{Code, Finding};
use crate::model::Format;
use crate::open::Catalog;

pub fn detect(c: &Catalog) -> Option<Format> {
    let oci = c.has("index.json") || c.has("oci-layout");
    if c.has("manifest.json") {
        // A crane tarball is told apart while manifest.json is read (`docker::read`).
        return Some(if oci { Format::DockerOci } else { Format::DockerArchive });
    }
    oci.then_some(if c.is_dir { Format::OciLayout } else { Format::OciArchive })
}

/// The finding for a readable archive (or directory) that holds no image.
pub fn not_an_image(c: &Catalog) -> Finding {
    let what = if c.is_dir { "directory" } else { "archive" };
    let n = c.members.len();
    Finding::new(
        Code::ManifestInvalid,
        format!("the {what} has no manifest.json and no index.json ({n} members): not a container image archive"),
    )
}
