//! Writing the delta archive: `airlock-delta.json` and each NEW's shipped members under
//! `new/NAME/`, staged and committed atomically as a deterministic tar (`crate::output`).

use super::format::{self, DeltaDoc, MANIFEST, ROOT};
use super::plan::Planned;
use crate::digest::HashWriter;
use crate::output::{Destination, Staging};
use std::fs::File;
use std::io::{self, BufWriter};

/// Writes the members each plan ships into `staging`, checking each against the digest
/// verify computed (the input must not change between the two reads).
pub fn stage(staging: &Staging, doc: &DeltaDoc, planned: &[Planned]) -> io::Result<()> {
    std::fs::write(staging.file(MANIFEST)?, format::to_bytes(doc))?;
    for p in planned {
        let a = &p.archive;
        for m in &a.members {
            let dest = staging.file(&format!("{ROOT}/{}/{}", a.name, m.path))?;
            let mut out = HashWriter::new(BufWriter::with_capacity(256 * 1024, File::create(&dest)?));
            let mut src = p.loaded.catalog.open_member(&m.path)?;
            io::copy(&mut src, &mut out)?;
            let (digest, size) = out.finish()?;
            if (digest, size) != (m.digest, m.size) {
                return Err(io::Error::other(format!(
                    "{}: member {} changed while it was read ({digest}, was {})",
                    a.name, m.path, m.digest
                )));
            }
        }
        for l in &a.links {
            let dest = staging.file(&format!("{ROOT}/{}/{}", a.name, l.path))?;
            std::os::unix::fs::symlink(&l.target, dest)?;
        }
    }
    Ok(())
}

/// Packs the staged delta into its output (a tar), atomically.
pub fn commit(staging: Staging, output: &std::path::Path, force: bool) -> io::Result<u64> {
    staging.commit_tar(&Destination::Path(output.to_path_buf()), force)
}
