//! The facts of one input that decide whether a runtime loads it, read from what verify
//! already has (the catalog and the model) plus the file's name and first bytes.

use crate::commands::Loaded;
use crate::scan::{Compression, Content};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Profile {
    /// The file name, lower-cased (k3s and RKE2 choose a decompressor by it).
    pub name: String,
    pub is_dir: bool,
    /// The whole-file compression, by content.
    pub outer: Compression,
    /// The zstd window the outer frame declares, in bytes.
    pub outer_zstd_window: Option<u64>,
    /// `manifest.json`: what `docker load` (graph drivers) reads.
    pub manifest_json: bool,
    /// `index.json`: what containerd's importer prefers, and podman's oci-archive reads.
    pub index_json: bool,
    /// Descriptors listed at the top of index.json (podman's oci-archive takes exactly one).
    pub index_entries: usize,
    pub zstd_layers: usize,
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
            matches!(catalog.scan_of(&l.member).map(|s| &s.content),
                Some(Content::Layer(ls)) if ls.compression == Compression::Zstd)
        })
        .count();
    Profile {
        name,
        is_dir: catalog.is_dir,
        outer,
        outer_zstd_window: if outer == Compression::Zstd { zstd_window(path) } else { None },
        manifest_json: catalog.has("manifest.json"),
        index_json: catalog.has("index.json"),
        index_entries: model.index_entries,
        zstd_layers,
        absent_platforms: model.absent.iter().map(|a| a.platform.to_string()).collect(),
        artifacts: model.artifacts.len(),
        untagged: model.images.iter().filter(|i| i.tags.is_empty()).count(),
    }
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
