//! An OCI layout directory. Symlinks are recorded, never followed by the walk; they are
//! resolved inside the catalog, which refuses any that leave the directory.

use super::{Catalog, Member, MemberKind, add_member};
use crate::finding::{Code, Finding};
use crate::progress::Progress;
use crate::scan::{self, Depth, DocumentBudget};
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;

/// What a directory input must hold at its top level to be read: an OCI layout
/// (`oci-layout`, `index.json`), a docker-save tree (`manifest.json`), or a Zarf package
/// (`zarf.yaml`, a bundle directory). Anything else is not an image input, and is refused
/// before the tree is walked (issue 16: `verify /etc` walked and hashed all of it).
pub const MARKERS: [&str; 4] = ["oci-layout", "index.json", "manifest.json", "zarf.yaml"];

/// Whether the directory `root` has one of the [`MARKERS`] at its top level (as any kind
/// of entry: a symlink or a directory there is the walk's to judge).
pub fn is_image_dir(root: &Path) -> bool {
    MARKERS.iter().any(|m| std::fs::symlink_metadata(root.join(m)).is_ok())
}

pub fn read(root: &Path, depth: Depth, progress: &Progress) -> Catalog {
    let mut catalog =
        Catalog { is_dir: true, source: super::DataSource::Dir(root.to_path_buf()), ..Catalog::default() };
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("cannot read the directory: {e}")));
                continue;
            }
        };
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            catalog.findings.push(Finding::new(Code::ArchiveCorrupt, format!("file name {:?} is not UTF-8", rel)));
            continue;
        };
        let ft = entry.file_type();
        let (kind, size) = if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
            (MemberKind::Symlink(target), 0)
        } else if ft.is_dir() {
            (MemberKind::Dir, 0)
        } else if ft.is_file() {
            (MemberKind::File, entry.metadata().map(|m| m.len()).unwrap_or(0))
        } else {
            (MemberKind::Other, 0)
        };
        let is_file = matches!(kind, MemberKind::File);
        if let Some(p) = add_member(&mut catalog, rel, Member { kind, size, offset: 0, scan: None })
            && is_file
        {
            files.push((p, size));
        }
    }
    progress.set_total(files.iter().map(|f| f.1).sum());
    // Largest first, so the last blob to finish is a small one.
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let budget = DocumentBudget::new();
    let results: Vec<_> = files
        .par_iter()
        .map(|(p, size)| {
            let r = File::open(root.join(p)).and_then(|f| scan::blob::scan(progress.reader(f), *size, depth, &budget));
            (p, r)
        })
        .collect();
    for (p, r) in results {
        catalog.record_scan(p, r);
    }
    catalog.check_links();
    catalog
}
