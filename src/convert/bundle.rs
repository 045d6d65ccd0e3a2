//! Taking an image out of a bundle: `airlock convert harbor-offline-installer.tgz --image
//! goharbor/nginx-photon:v2.10.0 --to oci -o nginx`. The bundle is opened as verify opens it
//! (`crate::bundle`); the one archive holding the selection becomes the input. A layout in a
//! directory of the bundle is read in place; an archive that is a member of the bundle is
//! unwrapped into the staging area first (convert reads blobs after the documents, and a
//! stream cannot be read twice), and removed before the commit, as the unwrapped input is.

use super::ConvertError;
use crate::bundle::{self, Origin, Part};
use crate::commands::select::{self, Selection};
use crate::commands::{Loaded, load};
use crate::output::Staging;
use crate::scan::Depth;
use std::fs::File;
use std::io;
use std::path::Path;

/// The unwrapped member, beside the unwrapped input in the staging area.
pub const SPOOL: &str = ".member.tar";

/// The archive of the bundle `loaded` (read from `reread`) that holds the selection, and its
/// name (`BUNDLE!MEMBER`); `None` when `loaded` holds no image archive (it is refused as it is).
pub fn pick(
    input: &Path,
    reread: &Path,
    loaded: &Loaded,
    staging: &Staging,
    selection: &Selection,
    progress: bool,
) -> Result<Option<(Loaded, String)>, ConvertError> {
    let parts = bundle::expand(reread, &input.display().to_string(), loaded, Depth::Documents).parts;
    if parts.is_empty() {
        return Ok(None);
    }
    let usage = |m: String| ConvertError::Usage(m);
    let held = || {
        parts
            .iter()
            .map(|p| format!("{}: {}", p.name, select::describe(&p.loaded.model)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if parts.len() > 1 && selection.images.iter().any(|s| s.starts_with('@')) {
        return Err(usage(format!(
            "--image @N counts the images of one archive, and the bundle holds {}: pick by name ({})",
            parts.len(),
            held()
        )));
    }
    let hits: Vec<usize> =
        (0..parts.len()).filter(|&i| select::select(&parts[i].loaded.model, selection).is_ok()).collect();
    let chosen = match hits.as_slice() {
        [] if parts.len() == 1 => {
            // The selection error of the one archive says it best.
            let e = select::select(&parts[0].loaded.model, selection).err().unwrap_or_default();
            return Err(usage(format!("{}: {e}", parts[0].name)));
        }
        [] => return Err(usage(format!("the selection matches no image in the bundle; it holds {}", held()))),
        [one] => *one,
        [..] if selection.images.is_empty() && selection.platform.is_none() => {
            return Err(usage(format!(
                "the bundle holds {} image archives, and convert writes images of one: pick with --image ({})",
                parts.len(),
                held()
            )));
        }
        // The same image carried twice: any copy is the image (its digests are checked).
        [first, ..] => *first,
    };
    let mut parts = parts;
    let part: Part = parts.swap_remove(chosen);
    let unwrap = |chain: &[bundle::Step]| -> Result<Loaded, ConvertError> {
        let spool = staging.dir.join(SPOOL);
        let copy = || -> io::Result<()> {
            let mut archive = bundle::open_archive(reread, &loaded.catalog, chain)?;
            io::copy(&mut archive, &mut File::create(&spool)?)?;
            Ok(())
        };
        copy().map_err(|e| ConvertError::Output(format!("cannot unwrap {}: {e}", part.name)))?;
        load(&spool, Depth::Documents, progress).map_err(|e| usage(e.to_string()))
    };
    let taken = match &part.origin {
        Origin::Layout { within, .. } if within.is_empty() => part.loaded,
        // A layout inside an archive of the bundle: that archive is unwrapped, then its
        // directory taken.
        Origin::Layout { within, root } => {
            let archive = unwrap(within)?;
            let catalog = archive.catalog.subtree(root);
            let model = crate::model::build(&catalog);
            Loaded { catalog, model }
        }
        Origin::Member { chain } => unwrap(chain)?,
    };
    Ok(Some((taken, part.name.clone())))
}
