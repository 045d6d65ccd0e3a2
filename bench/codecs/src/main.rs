//! airlock-codec-bench inflate|deflate CODEC LEVEL FILE...  (CODEC: flate2 | isal | libdeflate |
//! mix; flate2 is zlib-rs, or zlib-ng when built with `--features ng`). See bench/codecs.sh.
//! `mix`: deflate only, one gzip member per block, ISA-L at LEVEL for a block whose sample
//! compresses poorly, libdeflate level 1 for the rest (see `deflate_mix`).
use isal_sys::igzip_lib as isal;
fn cpu() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;

fn gz_body(d: &[u8]) -> &[u8] {
    // skip a plain 10-byte header (+FNAME etc. not expected from skopeo/pigz -n)
    assert_eq!(&d[..3], &[0x1f, 0x8b, 8]);
    let flags = d[3];
    let mut p = 10;
    if flags & 4 != 0 {
        let n = u16::from_le_bytes([d[p], d[p + 1]]) as usize;
        p += 2 + n;
    }
    for f in [8u8, 16] {
        if flags & f != 0 {
            while d[p] != 0 {
                p += 1
            }
            p += 1;
        }
    }
    if flags & 2 != 0 {
        p += 2;
    }
    &d[p..]
}

fn inflate_flate2(raw: &[u8], out: &mut [u8]) -> (u64, u32) {
    let mut d = flate2::Decompress::new(false);
    let mut crc = flate2::Crc::new();
    let mut pos = 0;
    loop {
        let end = (pos + 128 * 1024).min(raw.len());
        let (bi, bo) = (d.total_in(), d.total_out());
        let st = d.decompress(&raw[pos..end], out, flate2::FlushDecompress::None).unwrap();
        pos += (d.total_in() - bi) as usize;
        crc.update(&out[..(d.total_out() - bo) as usize]);
        if st == flate2::Status::StreamEnd {
            return (d.total_out(), crc.sum());
        }
    }
}

fn inflate_isal(raw: &[u8], out: &mut [u8]) -> (u64, u32) {
    let mut st: Box<isal::inflate_state> = Box::new(unsafe { std::mem::zeroed() });
    unsafe { isal::isal_inflate_init(&mut *st) };
    st.crc_flag = isal::ISAL_GZIP_NO_HDR;
    let mut pos = 0usize;
    let mut total = 0u64;
    loop {
        let end = (pos + 128 * 1024).min(raw.len());
        st.next_in = raw[pos..].as_ptr() as *mut u8;
        st.avail_in = (end - pos) as u32;
        st.next_out = out.as_mut_ptr();
        st.avail_out = out.len() as u32;
        let before_out = st.avail_out;
        let r = unsafe { isal::isal_inflate(&mut *st) };
        assert_eq!(r, 0, "isal error");
        pos = end - st.avail_in as usize;
        total += (before_out - st.avail_out) as u64;
        if st.block_state == isal::isal_block_state_ISAL_BLOCK_FINISH {
            return (total, st.crc);
        }
    }
}

fn inflate_libdeflate(file: &[u8], out: &mut Vec<u8>) -> (u64, u32) {
    let n = u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap()) as usize;
    out.resize(n, 0);
    let mut d = libdeflater::Decompressor::new();
    let got = d.gzip_decompress(file, out).unwrap();
    (got as u64, libdeflater::crc32(&out[..got]))
}

fn deflate_flate2(data: &[u8], level: u32) -> usize {
    let mut total = 0;
    let mut out = Vec::with_capacity(2 * BLOCK);
    for (i, blk) in data.chunks(BLOCK).enumerate() {
        let last = (i + 1) * BLOCK >= data.len();
        let mut c = flate2::Compress::new(flate2::Compression::new(level), false);
        if i > 0 {
            c.set_dictionary(&data[i * BLOCK - DICT..i * BLOCK]).unwrap();
        }
        out.clear();
        let flush = if last { flate2::FlushCompress::Finish } else { flate2::FlushCompress::Sync };
        loop {
            let consumed = c.total_in() as usize;
            let st = c.compress_vec(&blk[consumed..], &mut out, flush).unwrap();
            if last && st == flate2::Status::StreamEnd {
                break;
            }
            if !last && c.total_in() as usize == blk.len() && out.capacity() > out.len() {
                break;
            }
            out.reserve(64 * 1024);
        }
        total += out.len();
    }
    total + 18
}

fn deflate_isal(data: &[u8], level: u32) -> usize {
    let bufsize =
        [0, isal::ISAL_DEF_LVL1_DEFAULT, isal::ISAL_DEF_LVL2_DEFAULT, isal::ISAL_DEF_LVL3_DEFAULT][level as usize];
    let mut lvlbuf = vec![0u8; bufsize as usize];
    let mut total = 0;
    let mut out = vec![0u8; 2 * BLOCK];
    let mut z: Box<isal::isal_zstream> = Box::new(unsafe { std::mem::zeroed() });
    for (i, blk) in data.chunks(BLOCK).enumerate() {
        let last = (i + 1) * BLOCK >= data.len();
        unsafe { isal::isal_deflate_init(&mut *z) };
        z.level = level;
        z.level_buf = lvlbuf.as_mut_ptr();
        z.level_buf_size = bufsize;
        if i > 0 {
            let d = &data[i * BLOCK - DICT..i * BLOCK];
            let r = unsafe { isal::isal_deflate_set_dict(&mut *z, d.as_ptr() as *mut u8, d.len() as u32) };
            assert_eq!(r, 0);
        }
        z.flush = if last {
            isal::NO_FLUSH as u16
        } else {
            1 /* SYNC_FLUSH */
        };
        z.end_of_stream = last as u16;
        z.next_in = blk.as_ptr() as *mut u8;
        z.avail_in = blk.len() as u32;
        z.next_out = out.as_mut_ptr();
        z.avail_out = out.len() as u32;
        let r = unsafe { isal::isal_deflate(&mut *z) };
        assert_eq!(r, 0);
        assert_eq!(z.avail_in, 0);
        assert!(z.avail_out > 0);
        total += out.len() - z.avail_out as usize;
    }
    total + 18
}

/// One block as one gzip member by ISA-L (no dictionary: each member stands alone, as
/// libdeflate's do), into `out`; returns its length.
fn isal_member(blk: &[u8], level: u32, lvlbuf: &mut [u8], out: &mut [u8]) -> usize {
    let mut z: Box<isal::isal_zstream> = Box::new(unsafe { std::mem::zeroed() });
    unsafe { isal::isal_deflate_init(&mut *z) };
    z.level = level;
    z.level_buf = lvlbuf.as_mut_ptr();
    z.level_buf_size = lvlbuf.len() as u32;
    z.gzip_flag = isal::IGZIP_GZIP as u16;
    z.flush = isal::NO_FLUSH as u16;
    z.end_of_stream = 1;
    z.next_in = blk.as_ptr() as *mut u8;
    z.avail_in = blk.len() as u32;
    z.next_out = out.as_mut_ptr();
    z.avail_out = out.len() as u32;
    assert_eq!(unsafe { isal::isal_deflate(&mut *z) }, 0);
    assert_eq!(z.avail_in, 0);
    out.len() - z.avail_out as usize
}

/// The content-adaptive mix weighed for convert: ISA-L is 2.5x faster than libdeflate 1 but
/// its output is larger, least so where data compresses poorly. Each 1 MiB block's eight
/// 4 KiB samples are compressed by libdeflate 1 (about 3% of the block's work); at a sample
/// ratio of MIX_AT or more the block goes to ISA-L at `level`, else to libdeflate 1. The
/// choice depends on the block's bytes only, so the output stays deterministic. Prints how
/// many blocks went each way on stderr.
fn deflate_mix(data: &[u8], level: u32) -> usize {
    let at: f64 = std::env::var("MIX_AT").map_or(0.5, |v| v.parse().expect("MIX_AT"));
    let bufsize = [0, isal::ISAL_DEF_LVL1_DEFAULT, isal::ISAL_DEF_LVL2_DEFAULT, isal::ISAL_DEF_LVL3_DEFAULT]
        [level as usize];
    let mut lvlbuf = vec![0u8; bufsize as usize];
    let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap());
    let mut out = vec![0u8; 2 * BLOCK];
    let (mut total, mut fast) = (0, 0);
    for blk in data.chunks(BLOCK) {
        let (mut raw, mut packed) = (0, 0);
        for k in 0..8 {
            let st = k * blk.len() / 8;
            let e = (st + 4096).min(blk.len());
            raw += e - st;
            packed += c.gzip_compress(&blk[st..e], &mut out).unwrap() - 18;
        }
        if packed as f64 >= at * raw as f64 {
            fast += 1;
            total += isal_member(blk, level, &mut lvlbuf, &mut out);
        } else {
            total += c.gzip_compress(blk, &mut out).unwrap();
        }
    }
    eprintln!("mix at {at}: {fast} of {} blocks by ISA-L {level}", data.len().div_ceil(BLOCK));
    total
}

fn deflate_libdeflate(data: &[u8], level: u32) -> usize {
    // Whole 1 MiB blocks, each its own gzip member (no dictionary across blocks possible).
    let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level as i32).unwrap());
    let mut out = vec![0u8; 2 * BLOCK];
    data.chunks(BLOCK).map(|b| c.gzip_compress(b, &mut out).unwrap()).sum()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (op, codec, level) = (a[1].as_str(), a[2].as_str(), a[3].parse::<u32>().unwrap());
    let (mut tin, mut tout, mut secs) = (0u64, 0u64, 0f64);
    let mut out = vec![0u8; 128 * 1024];
    let mut big = Vec::new();
    for f in &a[4..] {
        let d = std::fs::read(f).unwrap();
        let t = cpu();
        let n = match (op, codec) {
            ("inflate", "flate2") => inflate_flate2(gz_body(&d), &mut out).0,
            ("inflate", "isal") => inflate_isal(gz_body(&d), &mut out).0,
            ("inflate", "libdeflate") => inflate_libdeflate(&d, &mut big).0,
            ("deflate", "flate2") => deflate_flate2(&d, level) as u64,
            ("deflate", "isal") => deflate_isal(&d, level) as u64,
            ("deflate", "libdeflate") => deflate_libdeflate(&d, level) as u64,
            ("deflate", "mix") => deflate_mix(&d, level) as u64,
            _ => panic!("op/codec"),
        };
        secs += cpu() - t;
        tin += d.len() as u64;
        tout += n;
    }
    let raw = if op == "inflate" { tout } else { tin };
    println!(
        "{op}\t{codec}{}\t{level}\tin {tin}\tout {tout}\t{secs:.3} cpu-s\t{:.0} MB/s (uncompressed)",
        if cfg!(feature = "ng") { "-ng" } else { "" },
        raw as f64 / secs / 1e6
    );
}
