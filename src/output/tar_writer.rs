//! A deterministic tar of a staged directory: entries sorted by path, mtime 0, uid/gid 0,
//! mode 0644 for files and 0755 for directories, no user or group names. Data is copied
//! file to file, which the kernel does without passing through user space.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Returns the number of bytes written.
pub fn write_tar(root: &Path, out: &mut dyn Write) -> io::Result<u64> {
    let mut written: u64 = 0;
    let mut entries: Vec<(String, bool, u64)> = Vec::new();
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.map_err(io::Error::other)?;
        let rel = e.path().strip_prefix(root).map_err(io::Error::other)?;
        let rel = rel.to_str().ok_or_else(|| io::Error::other("non-UTF-8 staged name"))?.to_string();
        let is_dir = e.file_type().is_dir();
        let size = if is_dir { 0 } else { e.metadata().map_err(io::Error::other)?.len() };
        entries.push((rel, is_dir, size));
    }
    entries.sort();
    for (rel, is_dir, size) in entries {
        let mut h = tar::Header::new_ustar();
        let name = if is_dir { format!("{rel}/") } else { rel.clone() };
        h.set_path(&name)?;
        h.set_mode(if is_dir { 0o755 } else { 0o644 });
        h.set_entry_type(if is_dir { tar::EntryType::Directory } else { tar::EntryType::Regular });
        h.set_size(size);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        out.write_all(h.as_bytes())?;
        written += 512;
        if !is_dir {
            let mut f = File::open(root.join(&rel))?;
            let n = io::copy(&mut f, out)?;
            if n != size {
                return Err(io::Error::other(format!("{rel} changed size while being packed")));
            }
            let pad = (512 - size % 512) % 512;
            out.write_all(&[0u8; 512][..pad as usize])?;
            written += size + pad;
        }
    }
    out.write_all(&[0u8; 1024])?;
    out.flush()?;
    Ok(written + 1024)
}
