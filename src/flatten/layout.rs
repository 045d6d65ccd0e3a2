//! The one-layer image as an OCI layout in the work area, written with the OCI writers of
//! `formats::oci` (manifest, descriptors, tag annotations, index): the form convert reads,
//! so the output in every format comes from convert's own writers.

use crate::digest::Digest;
use crate::formats::media_types::OCI_MANIFEST;
use crate::formats::oci::write::{self, OutLayer};
use crate::formats::oci::{Descriptor, Notes};
use crate::model::{Image, reference, select};
use std::fs;
use std::io;
use std::path::Path;

/// Writes the config and manifest blobs (the layer's is there already), `index.json` (one
/// entry per tag of `image`, with its platform) and `oci-layout` into `dir`.
pub fn write(dir: &Path, image: &Image, config: &[u8], layer: &OutLayer) -> io::Result<()> {
    let config_digest = blob(dir, config)?;
    let manifest = write::manifest(None, (&config_digest, config.len() as u64), std::slice::from_ref(layer));
    let mut base = Descriptor::new(OCI_MANIFEST, &blob(dir, &manifest)?, manifest.len() as u64);
    base.platform = image.platform_or_config();
    fs::write(dir.join("index.json"), write::index(&descriptors(&base, &image.tags)))?;
    fs::write(dir.join("oci-layout"), write::OCI_LAYOUT)
}

/// One descriptor per tag, annotated as convert annotates one: a reference that names a
/// repository under its full name and tag, a bare tag as the OCI ref name only; one without
/// annotations if untagged.
fn descriptors(base: &Descriptor, tags: &[String]) -> Vec<Descriptor> {
    if tags.is_empty() {
        return vec![base.clone()];
    }
    let named = |t: &String| {
        let annotations =
            if reference::names_repository(t) { Notes::for_tag(&select::normalize(t)) } else { Notes::ref_name(t) };
        Descriptor { annotations, ..base.clone() }
    };
    tags.iter().map(named).collect()
}

fn blob(dir: &Path, bytes: &[u8]) -> io::Result<Digest> {
    let d = Digest::of(bytes);
    let p = dir.join("blobs/sha256").join(d.hex());
    fs::create_dir_all(p.parent().expect("has a parent"))?;
    fs::write(p, bytes)?;
    Ok(d)
}
