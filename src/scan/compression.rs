//! Compression is decided by magic bytes, never by a file name or a media type: the media
//! type is a claim to check against this (`media-type-mismatch`).

use serde::Serialize;
use std::io::{self, BufRead, Read};

/// The largest zstd window a layer may need: 32 MiB (window log 25), the cap k3s and RKE2
/// apply (`MaxDecoderMemory = 1<<25` in rancher/wharfie) and what their own airgap tarballs
/// are made with (`zstd --long=25`). Each layer worker allocates its window, so a hostile
/// layer declaring 2 GiB cannot make two workers hold 4 GiB; real layers (zstd levels up to
/// 19, buildkit's and containers/image's encoders) use 8 MiB or less.
pub const ZSTD_LAYER_WINDOW_LOG: u32 = 25;
/// The outer wrapper of a whole archive (`app.tar.zst`): one decoder, so the zstd CLI's own
/// default limit (128 MiB, window log 27, what plain `zstd --long` writes) applies.
pub const ZSTD_OUTER_WINDOW_LOG: u32 = 27;

/// The memory an xz decoder may take, for a layer or a whole archive: twice what `xz -9`
/// needs (a 64 MiB dictionary, 65 MiB to decode). docker runs `xz -d`, podman reads xz with
/// ulikunitz/xz; neither caps it, so a stream that needs more is refused here (`layer-corrupt`
/// or `archive-corrupt`, saying so) rather than allocated.
pub const XZ_MEMLIMIT: u64 = 128 << 20;

/// An xz decoder (liblzma) that reads concatenated streams and their padding, as `xz -d`
/// does, within [`XZ_MEMLIMIT`].
pub fn xz_decoder<R: BufRead>(r: R) -> io::Result<liblzma::bufread::XzDecoder<R>> {
    let stream = liblzma::stream::Stream::new_stream_decoder(XZ_MEMLIMIT, liblzma::stream::CONCATENATED)
        .map_err(io::Error::other)?;
    Ok(liblzma::bufread::XzDecoder::new_stream(r, stream))
}

/// A zstd decoder that refuses frames needing a window over `2^window_log` bytes.
pub fn zstd_decoder<R: BufRead>(r: R, window_log: u32) -> io::Result<zstd::stream::read::Decoder<'static, R>> {
    let mut d = zstd::stream::read::Decoder::with_buffer(r)?;
    d.window_log_max(window_log)?;
    Ok(d)
}

/// The decompressed stream of a whole archive wrapped in `c` (`None`: the bytes as they
/// are). Every reader of an outer wrapper goes through here: multi-member gzip (pigz),
/// multi-stream bzip2 (pbzip2), concatenated zstd and lz4 frames and xz streams are read
/// whole, zstd is held to the outer window cap and xz to [`XZ_MEMLIMIT`].
pub fn outer_decoder<'a, R: BufRead + Send + 'a>(r: R, c: Compression) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd_decoder(r, ZSTD_OUTER_WINDOW_LOG)?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(r)),
        Compression::Xz => Box::new(xz_decoder(r)?),
    })
}

/// Whether a zstd error is the window cap, not damage.
pub fn is_zstd_window_error(e: &io::Error) -> bool {
    e.to_string().contains("too much memory")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
    /// Loadable by docker (archives and layers); read by airlock, and by k3s/RKE2 as `.tar.bz2`.
    Bzip2,
    /// Loadable by docker (`xz -d`) and podman, archives and layers alike; not by containerd.
    Xz,
    /// LZ4 frames: k3s and RKE2 read `.tar.lz4` airgap archives; no runtime reads lz4 layers.
    Lz4,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            // A zstd skippable frame (magic 0x184D2A5?) may precede the data frames.
            [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => Compression::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Compression::Xz,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            [0x04, 0x22, 0x4d, 0x18, ..] => Compression::Lz4,
            _ => Compression::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
        }
    }

    /// What a layer media type claims, if it says anything about compression.
    pub fn from_media_type(mt: &str) -> Option<Compression> {
        let layer_like = mt.contains(".layer.") || mt.contains(".rootfs.") || mt.contains("diff.tar");
        if !layer_like {
            return None;
        }
        Some(if mt.ends_with("+gzip") || mt.ends_with(".tar.gzip") || mt.ends_with("tar.gzip") {
            Compression::Gzip
        } else if mt.ends_with("+zstd") || mt.ends_with(".tar.zstd") {
            Compression::Zstd
        } else if mt.ends_with(".tar") || mt.ends_with("diff.tar") {
            Compression::None
        } else {
            return None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        use Compression::*;
        let cases = [
            ("application/vnd.oci.image.layer.v1.tar", Some(None)),
            ("application/vnd.oci.image.layer.v1.tar+gzip", Some(Gzip)),
            ("application/vnd.oci.image.layer.v1.tar+zstd", Some(Zstd)),
            ("application/vnd.docker.image.rootfs.diff.tar.gzip", Some(Gzip)),
            ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Some(Gzip)),
            ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Some(Gzip)),
            ("application/vnd.oci.image.config.v1+json", Option::None),
        ];
        for (mt, want) in cases {
            assert_eq!(Compression::from_media_type(mt), want, "{mt}");
        }
    }

    #[test]
    fn magic() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(Compression::sniff(b"ustar"), Compression::None);
        assert_eq!(Compression::sniff(b""), Compression::None);
    }
}
