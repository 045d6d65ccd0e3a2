//! `inspect --raw` and `inspect --config`: one image's manifest or config, the bytes as
//! stored (their sha256 is the manifest digest or the image ID), as `skopeo inspect --raw` /
//! `--config` and `crane manifest` / `config` print them.

use crate::error::Error;
use crate::model::select;
use crate::report::build::{self, recomputed, report_input};
use crate::scan::Depth;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Manifest,
    Config,
}

/// What was found: the document's bytes, and whether the inputs read had no errors.
pub struct Raw {
    pub bytes: Vec<u8>,
    pub ok: bool,
}

/// The one selected image's document; an error (exit 2) when the selection is not one image
/// or the image has no such document of its own.
pub fn run(inputs: &[PathBuf], selection: &select::Selection, which: Document, progress: bool) -> Result<Raw, Error> {
    // (which image, its document or why not), for every image the selection picks.
    let mut found: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let mut ok = true;
    for path in crate::input::inputs_to_read(inputs) {
        let opened = crate::input::open(path, Depth::Documents, progress)?;
        let reports = build::reports(opened, |p, loaded| {
            let report = report_input(p, loaded, selection, recomputed)?;
            let chosen = select::select(&loaded.model, selection).unwrap_or_default();
            for i in chosen {
                let image = &loaded.model.images[i];
                let tags = if image.tags.is_empty() { "<untagged>".to_string() } else { image.tags.join(" ") };
                let member = match which {
                        Document::Manifest => image.manifest_member.as_deref().ok_or_else(|| {
                            "it has no manifest of its own (a docker-save archive lists its images in manifest.json); --config prints its config".to_string()
                        }),
                        Document::Config => Ok(image.config.member.as_str()),
                    };
                let bytes = member.and_then(|m| {
                    loaded
                        .catalog
                        .document(m)
                        .map(<[u8]>::to_vec)
                        .ok_or_else(|| format!("{m} is not a JSON document airlock kept"))
                });
                let platform = select::platform_of(image).map(|p| format!(" [{p}]")).unwrap_or_default();
                found.push((format!("{} image @{i} {tags}{platform}", p.display()), bytes));
            }
            Ok(report)
        })?;
        ok &= reports.iter().all(|r| r.ok);
    }
    one(found, which, ok).map_err(Error::Usage)
}

/// The one document found, or why there is not one.
fn one(found: Vec<(String, Result<Vec<u8>, String>)>, which: Document, ok: bool) -> Result<Raw, String> {
    let flag = if which == Document::Manifest { "--raw" } else { "--config" };
    match found.as_slice() {
        [] => Err(format!("{flag}: the inputs hold no image")),
        [(_, Ok(bytes))] => Ok(Raw { bytes: bytes.clone(), ok }),
        [(image, Err(why))] => Err(format!("{flag}: {image}: {why}")),
        many => {
            let list: Vec<&str> = many.iter().map(|(image, _)| image.as_str()).collect();
            Err(format!(
                "{flag} prints one image's document, and {} are selected: {}; pick one with --image or --platform",
                many.len(),
                list.join(", ")
            ))
        }
    }
}
