//! Compression is decided by magic bytes, never by a file name or a media type: the media
//! type is a claim to check against this (`media-type-mismatch`).

use serde::Serialize;
use std::io::{self, BufRead, Read};

/// The largest zstd window airlock decodes: 512 MiB (window log 29), the limit of Go's zstd
/// decoder (klauspost/compress, `MaxWindowSize`), which docker, containerd and podman use for
/// archives and layers alike. Measured: docker 26.1 and 28.5 (both image stores), ctr 1.6, 1.7
/// and 2.1, podman 4.3 and 5.4 load a layer or archive whose frames declare 512 MiB and refuse
/// 1 GiB ("window size exceeded"). A frame over it is refused here too: no runtime reads it.
pub const ZSTD_MAX_WINDOW_LOG: u32 = 29;
/// Windows up to 32 MiB (what zstd levels up to 19 and the image tools' encoders use) are
/// decoded freely; a layer frame with a larger one waits for one of
/// [`ZSTD_LARGE_WINDOW_SLOTS`], so however many layers are scanned at once, at most that many
/// large windows are live.
pub const ZSTD_SMALL_WINDOW: u64 = 32 << 20;
pub const ZSTD_LARGE_WINDOW_SLOTS: usize = 1;

/// A zstd frame needs a window over [`ZSTD_MAX_WINDOW_LOG`].
#[derive(Debug)]
pub struct ZstdWindowTooLarge {
    pub window: u64,
}

impl std::fmt::Display for ZstdWindowTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a zstd frame needs a {} MiB window; Go's zstd decoder (docker, containerd, podman) and airlock stop at {} MiB",
            self.window >> 20,
            (1u64 << ZSTD_MAX_WINDOW_LOG) >> 20
        )
    }
}

impl std::error::Error for ZstdWindowTooLarge {}

/// The window a zstd error refused, if it is [`ZstdWindowTooLarge`].
pub fn window_refused(e: &io::Error) -> Option<u64> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<ZstdWindowTooLarge>()).map(|w| w.window)
}

/// The window a zstd frame header declares (RFC 8878 §3.1.1.1): from the Window_Descriptor,
/// or the frame content size for a single-segment frame. `None` for a skippable frame, or
/// bytes that are no frame header (the decoder reports those).
pub fn frame_window(head: &[u8]) -> Option<u64> {
    if head.get(..4)? != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let fhd = *head.get(4)?;
    if fhd & 0x20 == 0 {
        let wd = *head.get(5)?;
        let base = 1u64 << (10 + (wd >> 3) as u32);
        return Some(base + (base / 8) * (wd & 7) as u64);
    }
    let dict = [0usize, 1, 2, 4][(fhd & 3) as usize];
    let fcs = [1usize, 2, 4, 8][(fhd >> 6) as usize];
    let at = 5 + dict;
    let mut b = [0u8; 8];
    b[..fcs].copy_from_slice(head.get(at..at + fcs)?);
    let v = u64::from_le_bytes(b);
    Some(if fcs == 2 { v + 256 } else { v })
}

/// The longest frame header: magic, descriptor, window, dictionary ID, content size.
const FRAME_HEADER_MAX: usize = 4 + 1 + 1 + 4 + 8;

/// One permit of [`ZSTD_LARGE_WINDOW_SLOTS`], returned on drop.
struct LargeWindow;

static LARGE_WINDOWS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

impl LargeWindow {
    fn acquire() -> LargeWindow {
        let (lock, cv) = &LARGE_WINDOWS;
        let mut live = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *live >= ZSTD_LARGE_WINDOW_SLOTS {
            live = cv.wait(live).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *live += 1;
        LargeWindow
    }
}

impl Drop for LargeWindow {
    fn drop(&mut self) {
        let (lock, cv) = &LARGE_WINDOWS;
        *lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner) -= 1;
        cv.notify_one();
    }
}

/// A reader with a few bytes pushed back in front: the next frame's header, read to size its
/// window before a decoder takes the stream.
struct Peek<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: BufRead> Peek<R> {
    /// Makes sure the pushed-back bytes hold `n` (fewer only at the end of the stream).
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.head.drain(..self.pos);
        self.pos = 0;
        while self.head.len() < n {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(n - self.head.len());
            self.head.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
        }
        Ok(&self.head)
    }
}

impl<R: BufRead> Read for Peek<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(out.len());
        out[..n].copy_from_slice(&self.fill_buf()?[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Peek<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.head.len() { Ok(&self.head[self.pos..]) } else { self.inner.fill_buf() }
    }

    fn consume(&mut self, n: usize) {
        let pushed = self.head.len() - self.pos;
        if n <= pushed {
            self.pos += n;
        } else {
            self.pos = self.head.len();
            self.inner.consume(n - pushed);
        }
    }
}

/// A zstd stream decoded frame by frame: each frame's window is read from its header first,
/// refused over [`ZSTD_MAX_WINDOW_LOG`] (as Go's decoder refuses it), and, for a layer, one
/// over [`ZSTD_SMALL_WINDOW`] waits for a large-window slot. Concatenated frames (pzstd,
/// zstdmt) and skippable frames are read as one stream, as `zstd -d` and Go read them.
pub struct ZstdFrames<R: BufRead> {
    src: Option<Peek<R>>,
    frame: Option<zstd::stream::read::Decoder<'static, Peek<R>>>,
    /// Layers take a slot for a large window; whole-archive wrappers (one per nesting level)
    /// do not, since a layer inside waits on them.
    slots: bool,
    _slot: Option<LargeWindow>,
}

impl<R: BufRead> ZstdFrames<R> {
    pub fn layer(r: R) -> Self {
        ZstdFrames { src: Some(Peek { head: Vec::new(), pos: 0, inner: r }), frame: None, slots: true, _slot: None }
    }

    pub fn outer(r: R) -> Self {
        ZstdFrames { slots: false, ..ZstdFrames::layer(r) }
    }

    /// Starts the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        let Some(mut src) = self.src.take() else { return Ok(false) };
        let head = src.peek(FRAME_HEADER_MAX)?;
        if head.is_empty() {
            return Ok(false);
        }
        let window = frame_window(head).unwrap_or(0);
        if window > 1 << ZSTD_MAX_WINDOW_LOG {
            return Err(io::Error::other(ZstdWindowTooLarge { window }));
        }
        self._slot = (self.slots && window > ZSTD_SMALL_WINDOW).then(LargeWindow::acquire);
        let mut d = zstd::stream::read::Decoder::with_buffer(src)?.single_frame();
        d.window_log_max(ZSTD_MAX_WINDOW_LOG)?;
        self.frame = Some(d);
        Ok(true)
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(d) = self.frame.as_mut() {
                let n = d.read(out)?;
                if n > 0 {
                    return Ok(n);
                }
                let d = self.frame.take().expect("a frame is open");
                self.src = Some(d.into_inner());
                self._slot = None;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

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

/// The decompressed stream of a whole archive wrapped in `c` (`None`: the bytes as they
/// are). Every reader of an outer wrapper goes through here: multi-member gzip (pigz; framed
/// as Go reads it), multi-stream bzip2 (pbzip2), concatenated zstd and lz4 frames and xz
/// streams are read whole, zstd is held to Go's window limit and xz to [`XZ_MEMLIMIT`].
pub fn outer_decoder<'a, R: BufRead + Send + 'a>(r: R, c: Compression) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(crate::tarstream::gzip::GzipReader::new(r)),
        Compression::Zstd => Box::new(ZstdFrames::outer(r)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(r)),
        Compression::Xz => Box::new(xz_decoder(r)?),
    })
}

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(data: &[u8], window_log: u32) -> Vec<u8> {
        use std::io::Write;
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.window_log(window_log).unwrap();
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn frames_are_read_one_by_one_with_their_windows() {
        // Two frames with a skippable frame between them, as pzstd and zstdmt write them.
        let mut s = frame(b"first ", 20);
        s.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        s.extend(frame(b"second", 29));
        assert_eq!(frame_window(&frame(b"x", 29)), Some(1 << 29));
        let mut out = Vec::new();
        ZstdFrames::layer(&s[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"first second");
        // A frame over Go's limit is refused with the typed error, before it is decoded.
        s.extend(frame(b"third", 30));
        let err = ZstdFrames::outer(&s[..]).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(window_refused(&err), Some(1 << 30));
        // Damage is not a window error.
        let mut bad = frame(b"data", 20);
        bad.truncate(bad.len() - 2);
        let err = ZstdFrames::layer(&bad[..]).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(window_refused(&err), None);
    }

    #[test]
    fn magic() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(Compression::sniff(b"ustar"), Compression::None);
        assert_eq!(Compression::sniff(b""), Compression::None);
    }
}
