//! The facts of one input that decide whether a runtime loads it, read from what verify
//! already has (the catalog and the model) plus the file's name and first bytes.

use crate::input::Loaded;
use crate::scan::{Compression, Content};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Profile {
    /// The file name, lower-cased (k3s and RKE2 choose a decompressor by it).
    pub name: String,
    pub is_dir: bool,
    /// For a directory: the path as given, which podman 4 turns into an image name
    /// (`localhost/PATH`).
    pub dir_path: Option<String>,
    /// The whole-file compression, by content.
    pub outer: Compression,
    /// The zstd window the outer frame declares, in bytes.
    pub outer_zstd_window: Option<u64>,
    /// The outer zstd stream starts with a skippable frame (pzstd writes one).
    pub outer_zstd_skippable_first: bool,
    /// `manifest.json`: what `docker load` (graph drivers) reads.
    pub manifest_json: bool,
    /// `index.json`: what containerd's importer prefers, and podman's oci-archive reads.
    pub index_json: bool,
    /// Descriptors listed at the top of index.json (podman's oci-archive takes exactly one).
    pub index_entries: usize,
    pub zstd_layers: usize,
    /// zstd layers whose frames need a window over Go's 512 MiB limit.
    pub zstd_layers_over_go_limit: usize,
    /// Platforms an index lists but the archive lacks (a partial export).
    pub absent_platforms: Vec<String>,
    /// Attestation, signature and other artifact manifests.
    pub artifacts: usize,
    /// Images with no tag at all.
    pub untagged: usize,
}

pub fn read(path: &Path, loaded: &Loaded) -> Profile {
    let Loaded { catalog, model } = loaded;
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let outer = catalog.outer.unwrap_or(Compression::None);
    let zstd_layers = model
        .images
        .iter()
        .flat_map(|i| &i.layers)
        .filter(|l| {
            // Layer data read (verify), or only its first bytes sniffed (documents only).
            matches!(catalog.scan_of(&l.member).map(|s| &s.content),
                Some(Content::Layer(ls)) if ls.compression == Compression::Zstd)
                || matches!(catalog.scan_of(&l.member).map(|s| &s.content), Some(Content::Sniffed(Compression::Zstd)))
        })
        .count();
    let zstd_layers_over_go_limit = model
        .images
        .iter()
        .flat_map(|i| &i.layers)
        .filter(|l| match catalog.scan_of(&l.member).map(|s| &s.content) {
            Some(Content::Layer(ls)) => matches!(ls.tar, Err(crate::scan::blob::LayerError::ZstdWindow(_))),
            // Documents only (`convert --for`): the frame header at the blob's start says.
            Some(Content::Sniffed(Compression::Zstd)) => layer_zstd_window(catalog, &l.member)
                .is_some_and(|w| w > 1 << crate::scan::compression::ZSTD_MAX_WINDOW_LOG),
            _ => false,
        })
        .count();
    Profile {
        name,
        zstd_layers_over_go_limit,
        is_dir: catalog.is_dir,
        dir_path: catalog.is_dir.then(|| path.to_string_lossy().into_owned()),
        outer,
        outer_zstd_window: if outer == Compression::Zstd { zstd_window(path) } else { None },
        outer_zstd_skippable_first: outer == Compression::Zstd && starts_with_skippable_frame(path),
        manifest_json: catalog.has("manifest.json"),
        index_json: catalog.has("index.json"),
        index_entries: model.index_entries,
        zstd_layers,
        absent_platforms: model.absent.iter().map(|a| a.platform.to_string()).collect(),
        artifacts: model.artifacts.len(),
        untagged: model.images.iter().filter(|i| i.tags.is_empty()).count(),
    }
}

/// The window the first frame of a zstd layer declares, read from the blob's first bytes
/// where the input can be read again at the blob (a directory, a plain tar); `None` for a
/// streamed input (its layers are read whole by whatever reads it next: convert, verify).
fn layer_zstd_window(catalog: &crate::open::Catalog, member: &str) -> Option<u64> {
    use std::io::Read;
    let mut head = Vec::with_capacity(18);
    catalog.open_member(member).ok()?.take(18).read_to_end(&mut head).ok()?;
    crate::scan::compression::frame_window(&head)
}

fn starts_with_skippable_frame(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && u32::from_le_bytes(magic) & 0xFFFF_FFF0 == 0x184D_2A50
}

/// The window size a zstd file's first frame declares (RFC 8878 §3.1.1.1): from the
/// Window_Descriptor, or the frame content size for a single-segment frame. Skippable
/// frames first are passed over.
fn zstd_window(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    for _ in 0..16 {
        let mut magic = [0u8; 4];
        f.read_exact(&mut magic).ok()?;
        let m = u32::from_le_bytes(magic);
        if m & 0xFFFF_FFF0 == 0x184D_2A50 {
            let mut len = [0u8; 4];
            f.read_exact(&mut len).ok()?;
            f.seek(SeekFrom::Current(u32::from_le_bytes(len) as i64)).ok()?;
            continue;
        }
        if m != 0xFD2F_B528 {
            return None;
        }
        let mut fhd = [0u8; 1];
        f.read_exact(&mut fhd).ok()?;
        let single_segment = fhd[0] & 0x20 != 0;
        if !single_segment {
            let mut wd = [0u8; 1];
            f.read_exact(&mut wd).ok()?;
            let exponent = (wd[0] >> 3) as u32;
            let mantissa = (wd[0] & 7) as u64;
            let base = 1u64 << (10 + exponent);
            return Some(base + (base / 8) * mantissa);
        }
        // Single segment: the window is the content size.
        let dict_bytes = [0usize, 1, 2, 4][(fhd[0] & 3) as usize];
        f.seek(SeekFrom::Current(dict_bytes as i64)).ok()?;
        let fcs_bytes = [1usize, 2, 4, 8][(fhd[0] >> 6) as usize];
        let mut b = [0u8; 8];
        f.read_exact(&mut b[..fcs_bytes]).ok()?;
        let v = u64::from_le_bytes(b);
        return Some(if fcs_bytes == 2 { v + 256 } else { v });
    }
    None
}

/// Whether `localhost/PATH` is a valid image name as podman 4 builds it from an OCI layout
/// directory's path (distribution/reference: lower-case path components of `[a-z0-9]`
/// separated by `.`, `_`, `__` or dashes, 255 characters at most).
pub fn podman4_names_dir(path: &str) -> bool {
    let name = format!("localhost/{}", path.trim_start_matches('/').trim_end_matches('/'));
    name.len() <= 255 && name.split('/').all(reference_component)
}

fn reference_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn podman4_directory_names() {
        for ok in ["/srv/images/app-oci", "app_oci", "a/b.c/d__e/f--g"] {
            assert!(super::podman4_names_dir(ok), "{ok}");
        }
        for bad in ["/tmp/.tmpk1H3pL/layout", "App", "/srv/a..b", "/srv/a_-b", "/srv/-a"] {
            assert!(!super::podman4_names_dir(bad), "{bad}");
        }
    }
}
