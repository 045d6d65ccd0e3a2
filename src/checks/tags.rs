//! Tags: `invalid-reference` for a tag a loader would refuse or misread.

use crate::finding::{Code, Finding};
use crate::model::{Format, Image, Model, reference};

pub fn check(model: &Model, i: usize, image: &Image, out: &mut Vec<Finding>) {
    // An OCI ref.name may be a bare tag ("latest", "app-1"); RepoTags must be full references.
    let tag_only = matches!(model.format, Some(Format::OciLayout | Format::OciArchive | Format::DockerOci));
    for t in &image.tags {
        if !reference::is_valid(t, tag_only) {
            out.push(
                Finding::new(Code::InvalidReference, format!("tag {t:?} is not a valid image reference")).image(i),
            );
        }
    }
}
