//! Step 5 of the flow: compare what the archive says (the model) with what its bytes are
//! (the scans). One module per concern; each pushes findings with stable codes.

mod blobs;
mod config;
pub mod layers;
mod layout;
pub mod platforms;
pub mod tags;

use crate::finding::Finding;
use crate::model::{Image, Model};
use crate::open::Catalog;

/// The images being checked, each with its index in the model (`@N`: what `--image @N`
/// selects, what the report and the findings number it by), in model order.
pub struct Selected<'a> {
    pub images: Vec<(usize, &'a Image)>,
}

impl<'a> Selected<'a> {
    /// The images of `model` at `indexes`.
    pub fn of(model: &'a Model, indexes: &[usize]) -> Selected<'a> {
        Selected { images: indexes.iter().map(|&i| (i, &model.images[i])).collect() }
    }
}

/// Every finding of an input: the archive's, the model's and the checks' of the selected
/// images, errors first, then by image and layer.
pub fn all_findings(catalog: &Catalog, model: &Model, selected: &Selected) -> Vec<Finding> {
    let mut findings = catalog.findings.clone();
    findings.extend(model.findings.iter().cloned());
    findings.extend(run(catalog, model, selected));
    findings.sort_by_key(|f| (f.severity, f.image, f.layer));
    findings
}

pub fn run(catalog: &Catalog, model: &Model, selected: &Selected) -> Vec<Finding> {
    let mut out = Vec::new();
    blobs::check_documents(catalog, model, &mut out);
    for &(i, image) in &selected.images {
        blobs::check_image(catalog, i, image, &mut out);
        config::check(i, image, &mut out);
        layers::check(catalog, i, image, &mut out);
        tags::check(model, i, image, &mut out);
    }
    tags::conflicts(catalog, model, &selected.images, &mut out);
    layout::check(catalog, model, &mut out);
    platforms::check(model, &mut out);
    out
}
