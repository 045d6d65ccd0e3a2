//! Parallel gzip: the stream is cut into fixed 1 MiB blocks and each block is compressed on
//! its own, by libdeflate, into one complete gzip member (header, deflate data, CRC-32 and
//! size); the members are written in order. A gzip stream of several members is one stream
//! to every reader the runtimes use (Go's `compress/gzip` and pgzip read multistream by
//! default, as do `gzip -d`, pigz and airlock; eStargz layers rely on the same rule). The
//! bytes depend only on the input, the level and the block size, never on the number of
//! threads or their timing, so output stays deterministic.
//!
//! Why libdeflate and members: on the bench's layers (1.57 GB of real files) libdeflate at
//! level 1 took 8.95 CPU-s for 629.9 MB where zlib-rs at level 2, in 1 MiB blocks primed with
//! the previous block's 32 KiB and sync-flushed into one member, took 15.3 CPU-s for
//! 639.5 MB. libdeflate compresses whole buffers only (no dictionary, no sync flush), hence
//! one member per block. README "Performance" has the whole comparison.
//!
//! Blocks are compressed on a dedicated pool: the layer tasks that feed this writer run on
//! rayon's global pool and block while waiting for results, which must not be queued behind
//! them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::mpsc;

const BLOCK: usize = 1 << 20;

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("airlock-gzip-{i}"))
            .build()
            .expect("a thread pool")
    })
}

/// A finished block: its sequence number, its buffers (handed back for the next blocks) and
/// the compressed length in `output`.
type Done = (u64, Buffers, io::Result<usize>);

/// One block's input and its compressed output. Both are reused from block to block, so a
/// stream allocates (and the kernel zeroes) at most `max_in_flight + 1` of each, not two
/// fresh megabytes per block.
#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    output: Vec<u8>,
}

pub struct ParallelGzip<W: Write> {
    out: W,
    level: libdeflater::CompressionLvl,
    pool: &'static rayon::ThreadPool,
    /// The block being filled.
    block: Buffers,
    /// Blocks handed out so far (the next one's sequence number).
    next_seq: u64,
    write_seq: u64,
    ready: BTreeMap<u64, (Buffers, usize)>,
    free: Vec<Buffers>,
    tx: mpsc::Sender<Done>,
    rx: mpsc::Receiver<Done>,
    max_in_flight: u64,
}

impl<W: Write> ParallelGzip<W> {
    /// `level`: libdeflate's, 0 (stored) to 12; gzip's 1-9 mean the same trade there.
    pub fn new(out: W, level: u32) -> io::Result<Self> {
        Self::on(pool(), out, level)
    }

    fn on(pool: &'static rayon::ThreadPool, out: W, level: u32) -> io::Result<Self> {
        let level = libdeflater::CompressionLvl::new(level as i32)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("gzip level {level} (0-12)")))?;
        let (tx, rx) = mpsc::channel();
        let threads = pool.current_num_threads() as u64;
        Ok(ParallelGzip {
            out,
            level,
            pool,
            block: Buffers { input: Vec::with_capacity(BLOCK), output: Vec::new() },
            next_seq: 0,
            write_seq: 0,
            ready: BTreeMap::new(),
            free: Vec::new(),
            tx,
            rx,
            max_in_flight: 2 * threads,
        })
    }

    fn submit(&mut self) -> io::Result<()> {
        let next = self.free.pop().unwrap_or_else(|| Buffers { input: Vec::with_capacity(BLOCK), output: Vec::new() });
        let mut bufs = std::mem::replace(&mut self.block, next);
        let (seq, level, tx) = (self.next_seq, self.level, self.tx.clone());
        self.next_seq += 1;
        self.pool.spawn(move || {
            let n = gzip_member(&bufs.input, level, &mut bufs.output);
            let _ = tx.send((seq, bufs, n));
        });
        while self.next_seq - self.write_seq > self.max_in_flight {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for one finished block and writes out every block that is now in order.
    fn collect_one(&mut self) -> io::Result<()> {
        let (seq, bufs, n) = self.rx.recv().map_err(|_| io::Error::other("gzip worker stopped"))?;
        self.ready.insert(seq, (bufs, n?));
        while let Some((mut bufs, n)) = self.ready.remove(&self.write_seq) {
            self.out.write_all(&bufs.output[..n])?;
            self.write_seq += 1;
            bufs.input.clear();
            self.free.push(bufs);
        }
        Ok(())
    }

    /// Compresses what is left (an empty stream is one empty member) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.block.input.is_empty() || self.next_seq == 0 {
            self.submit()?;
        }
        while self.write_seq < self.next_seq {
            self.collect_one()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.input.len());
        self.block.input.extend_from_slice(&buf[..n]);
        if self.block.input.len() == BLOCK {
            self.submit()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // blocks are written when complete; finish() writes the rest
    }
}

/// One block as one gzip member (libdeflate's header: no name, mtime 0, OS unknown) into
/// `out` (grown to the bound once, then reused); returns its length. Each worker thread
/// keeps one compressor per level.
fn gzip_member(data: &[u8], level: libdeflater::CompressionLvl, out: &mut Vec<u8>) -> io::Result<usize> {
    thread_local! {
        static COMPRESSOR: RefCell<Option<(i32, libdeflater::Compressor)>> = const { RefCell::new(None) };
    }
    COMPRESSOR.with_borrow_mut(|slot| {
        let want = level.into();
        if slot.as_ref().is_none_or(|(have, _)| *have != want) {
            *slot = Some((want, libdeflater::Compressor::new(level)));
        }
        let (_, c) = slot.as_mut().expect("set above");
        let bound = c.gzip_compress_bound(data.len());
        if out.len() < bound {
            out.resize(bound, 0);
        }
        c.gzip_compress(data, &mut out[..bound]).map_err(io::Error::other)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Compresses `data` fed in odd-sized writes; checks that airlock's gzip reader (Go's
    /// multistream rules) gives `data` back; returns the stream and its members' sizes.
    fn roundtrip(data: &[u8], level: u32) -> (Vec<u8>, Vec<usize>) {
        let mut w = ParallelGzip::new(Vec::new(), level).unwrap();
        for chunk in data.chunks(77_777) {
            w.write_all(chunk).unwrap();
        }
        let gz = w.finish().unwrap();
        let mut back = Vec::new();
        crate::tarstream::gzip::GzipReader::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert!(back == data, "round trip");
        // One member at a time: flate2's single-member decoder stops at each member's end.
        let (mut rest, mut members) = (&gz[..], Vec::new());
        while !rest.is_empty() {
            let mut d = flate2::bufread::GzDecoder::new(rest);
            let mut out = Vec::new();
            d.read_to_end(&mut out).unwrap();
            members.push(out.len());
            rest = d.into_inner();
        }
        (gz, members)
    }

    #[test]
    fn round_trips_in_one_member_per_block_and_is_deterministic() {
        let mut data = Vec::new();
        let mut x: u32 = 1;
        for i in 0..(3 * BLOCK + 12345) {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            // Compressible but not trivial.
            data.push(if i % 7 == 0 { (x >> 24) as u8 } else { b"layer data "[i % 11] });
        }
        let (a, members) = roundtrip(&data, 6);
        assert_eq!(members, [BLOCK, BLOCK, BLOCK, 12345]);
        assert_eq!(roundtrip(&data, 6).0, a);
        assert!(a.len() < data.len() / 2, "compressed: {} of {}", a.len(), data.len());
        // No empty member after a last full block; an empty stream is one empty member.
        assert_eq!(roundtrip(&data[..BLOCK], 1).1, [BLOCK]);
        assert_eq!(roundtrip(b"", 1).1, [0]);
        // Level 0 stores; over libdeflate's 12 is refused.
        assert!(roundtrip(&data[..1000], 0).0.len() > 1000);
        assert_eq!(ParallelGzip::new(Vec::new(), 13).err().map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_thread_count() {
        let data: Vec<u8> =
            (0..(5 * BLOCK + 999)).map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[i % 3] % 13).collect();
        let (want, _) = roundtrip(&data, 1);
        for threads in [1, 3] {
            let pool = Box::leak(Box::new(rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()));
            let mut w = ParallelGzip::on(pool, Vec::new(), 1).unwrap();
            for chunk in data.chunks(300_001) {
                w.write_all(chunk).unwrap();
            }
            assert!(w.finish().unwrap() == want, "{threads} threads");
        }
    }
}
