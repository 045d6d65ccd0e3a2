//! Parallel gzip, as pigz does it: the stream is cut into fixed blocks, each block is
//! deflated on its own (primed with the previous block's last 32 KiB as a dictionary, so the
//! ratio barely suffers) and ended with a sync flush, and the pieces are concatenated into
//! one gzip member. Any gzip reader decompresses it as one stream. The bytes depend only on
//! the input, the level and the block size, never on the number of threads or their timing,
//! so output stays deterministic.
//!
//! Blocks are compressed on a dedicated pool: the layer tasks that feed this writer run on
//! rayon's global pool and block while waiting for results, which must not be queued behind
//! them.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::mpsc;

const BLOCK: usize = 1 << 20;
const DICT: usize = 32 * 1024;

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

type Piece = (u64, io::Result<Vec<u8>>);

pub struct ParallelGzip<W: Write> {
    out: W,
    level: u32,
    block: Vec<u8>,
    dict: Vec<u8>,
    crc: Crc,
    next_seq: u64,
    write_seq: u64,
    ready: BTreeMap<u64, Vec<u8>>,
    tx: mpsc::Sender<Piece>,
    rx: mpsc::Receiver<Piece>,
    max_in_flight: u64,
}

impl<W: Write> ParallelGzip<W> {
    pub fn new(mut out: W, level: u32) -> io::Result<Self> {
        // gzip header: deflate, no flags, mtime 0, no extra flags, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        let (tx, rx) = mpsc::channel();
        let threads = pool().current_num_threads() as u64;
        Ok(ParallelGzip {
            out,
            level,
            block: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            crc: Crc::new(),
            next_seq: 0,
            write_seq: 0,
            ready: BTreeMap::new(),
            tx,
            rx,
            max_in_flight: 2 * threads,
        })
    }

    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(if last { 0 } else { BLOCK }));
        let dict = std::mem::take(&mut self.dict);
        if !last {
            self.dict = data[data.len().saturating_sub(DICT)..].to_vec();
        }
        let (seq, level, tx) = (self.next_seq, self.level, self.tx.clone());
        self.next_seq += 1;
        pool().spawn(move || {
            let _ = tx.send((seq, deflate_block(&data, &dict, level, last)));
        });
        while self.next_seq - self.write_seq > self.max_in_flight {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for one finished block and writes out every block that is now in order.
    fn collect_one(&mut self) -> io::Result<()> {
        let (seq, piece) = self.rx.recv().map_err(|_| io::Error::other("gzip worker stopped"))?;
        self.ready.insert(seq, piece?);
        while let Some(piece) = self.ready.remove(&self.write_seq) {
            self.out.write_all(&piece)?;
            self.write_seq += 1;
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer (CRC32, size mod 2^32) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while self.write_seq < self.next_seq {
            self.collect_one()?;
        }
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        self.crc.update(&buf[..n]);
        if self.block.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // blocks are written when complete; finish() writes the rest
    }
}

/// One block as raw deflate: ends byte-aligned with a sync flush, or with the final block.
fn deflate_block(data: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = c.total_in() as usize;
        let status = c.compress_vec(&data[consumed..], &mut out, flush).map_err(io::Error::other)?;
        let all_in = c.total_in() as usize == data.len();
        // Done when all input is in and the flush completed with room to spare (zlib's rule:
        // a flush that filled the output buffer may have more to emit).
        match (last, status) {
            (true, Status::StreamEnd) => return Ok(out),
            (false, _) if all_in && out.capacity() > out.len() => return Ok(out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn roundtrip(data: &[u8], level: u32) -> Vec<u8> {
        let mut w = ParallelGzip::new(Vec::new(), level).unwrap();
        for chunk in data.chunks(77_777) {
            w.write_all(chunk).unwrap();
        }
        let gz = w.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert!(back == data, "round trip");
        gz
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let mut data = Vec::new();
        let mut x: u32 = 1;
        for i in 0..(3 * BLOCK + 12345) {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            // Compressible but not trivial.
            data.push(if i % 7 == 0 { (x >> 24) as u8 } else { b"layer data "[i % 11] });
        }
        let a = roundtrip(&data, 6);
        let b = roundtrip(&data, 6);
        assert_eq!(a, b);
        roundtrip(b"", 6);
        roundtrip(&data[..BLOCK], 1);
        // One gzip member: gzip -t agrees via the multi-member-unaware decoder above.
        assert_eq!(&a[..2], &[0x1f, 0x8b]);
    }
}
