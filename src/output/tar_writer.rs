//! A deterministic tar of a staged directory: entries sorted by path, mtime 0, uid/gid 0,
//! mode 0644 for files and 0755 for directories, no user or group names. Data is copied
//! file to file, which the kernel does without passing through user space. A staged symlink
//! (`apply` keeps an archive's own symlinks) is written as one, never followed.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Returns the number of bytes written.
pub fn write_tar(root: &Path, out: &mut dyn Write) -> io::Result<u64> {
    let mut written: u64 = 0;
    let mut entries: Vec<(String, bool, u64, Option<std::path::PathBuf>)> = Vec::new();
    for e in walkdir::WalkDir::new(root).min_depth(1) {
        let e = e.map_err(io::Error::other)?;
        let rel = e.path().strip_prefix(root).map_err(io::Error::other)?;
        let rel = rel.to_str().ok_or_else(|| io::Error::other("non-UTF-8 staged name"))?.to_string();
        let is_dir = e.file_type().is_dir();
        let link = if e.file_type().is_symlink() { Some(std::fs::read_link(e.path())?) } else { None };
        let size = if is_dir || link.is_some() { 0 } else { e.metadata().map_err(io::Error::other)?.len() };
        entries.push((rel, is_dir, size, link));
    }
    entries.sort();
    for (rel, is_dir, size, link) in entries {
        let mut h = tar::Header::new_ustar();
        let name = if is_dir { format!("{rel}/") } else { rel.clone() };
        h.set_path(&name)?;
        h.set_mode(if is_dir || link.is_some() { 0o755 } else { 0o644 });
        h.set_entry_type(match (is_dir, &link) {
            (true, _) => tar::EntryType::Directory,
            (false, Some(_)) => tar::EntryType::Symlink,
            (false, None) => tar::EntryType::Regular,
        });
        if let Some(target) = &link {
            h.set_link_name(target)?;
        }
        h.set_size(size);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        out.write_all(h.as_bytes())?;
        written += 512;
        if !is_dir && link.is_none() {
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
