//! The stored bytes of a blob, read once in large chunks and hashed (the blob's digest) as
//! they are read. For a large blob the hashing runs on a thread of its own, fed the same
//! chunks the decompressor reads (shared, not copied), so a layer's sha256 of the stored
//! bytes does not wait on its inflate: with the diffID hashed on a third thread, one layer
//! alone (the last of a run) keeps both cores busy. Bounded: at most [`IN_FLIGHT`] chunks
//! of [`CHUNK`] bytes exist per blob.

use crate::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes asked of the source per read.
pub const CHUNK: usize = 256 * 1024;
/// Chunks alive at once per blob when it is hashed on its own thread: the one being read
/// from, those queued for the hasher and the one it hashes.
const IN_FLIGHT: usize = 6;
/// Blobs at least this large are hashed on a thread of their own (smaller ones, the
/// documents and small layers, are hashed where they are read).
pub const OFFLOAD_FROM: u64 = 4 << 20;

/// A source read in chunks of [`CHUNK`] and hashed: `BufRead` for the decompressors.
pub struct Stored<R> {
    inner: R,
    /// The chunk being read from (allocated once at its full length) and how much of it
    /// holds data.
    chunk: Arc<Vec<u8>>,
    filled: usize,
    pos: usize,
    /// The length of the chunks: [`CHUNK`], or less for a small blob (allocated, zeroed,
    /// per blob: a tar of 250,000 empty members must not zero 256 KiB for each).
    chunk_len: usize,
    hash: Hashing,
}

enum Hashing {
    Here(Sha256, u64),
    Thread(Worker),
}

struct Worker {
    to_hash: Option<SyncSender<(Arc<Vec<u8>>, usize)>>,
    hashed: Receiver<Arc<Vec<u8>>>,
    /// Chunks made so far (at most [`IN_FLIGHT`]).
    made: usize,
    handle: Option<JoinHandle<(Digest, u64)>>,
}

impl<R: Read> Stored<R> {
    /// `size` is what the blob is declared to hold: it sizes the chunks and, when `offload`
    /// (the blob is read through), decides where it is hashed.
    pub fn new(inner: R, size: u64, offload: bool) -> Self {
        let hash = if offload && size >= OFFLOAD_FROM { Worker::start().map(Hashing::Thread) } else { None };
        let chunk_len = usize::try_from(size).unwrap_or(CHUNK).saturating_add(1).clamp(8 * 1024, CHUNK);
        Stored {
            inner,
            chunk: Arc::new(Vec::new()),
            filled: 0,
            pos: 0,
            chunk_len,
            hash: hash.unwrap_or(Hashing::Here(Sha256::new(), 0)),
        }
    }

    /// Reads the rest of the source (so the digest covers all of it): its digest and size.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        loop {
            let n = self.fill_buf()?.len();
            if n == 0 {
                break;
            }
            self.consume(n);
        }
        // (Dropped unfinished, after an error, the sender goes and the hasher stops.)
        match self.hash {
            Hashing::Here(h, n) => Ok((Digest::from_bytes(h.finalize().into()), n)),
            Hashing::Thread(mut w) => {
                drop(w.to_hash.take());
                let handle = w.handle.take().expect("the hasher is joined once");
                handle.join().map_err(|_| io::Error::other("the hashing thread failed"))
            }
        }
    }

    /// A chunk no one else holds, to read into: the one just used if the hasher does not
    /// hold it (it never had it, or inline hashing), else one it gave back, or a new one.
    fn free_chunk(&mut self, mut used: Arc<Vec<u8>>) -> io::Result<Arc<Vec<u8>>> {
        let Hashing::Thread(w) = &mut self.hash else {
            return Ok(used);
        };
        if Arc::get_mut(&mut used).is_some() {
            return Ok(used);
        }
        drop(used);
        if let Ok(c) = w.hashed.try_recv() {
            return Ok(c);
        }
        if w.made < IN_FLIGHT {
            w.made += 1;
            return Ok(Arc::new(Vec::new()));
        }
        w.hashed.recv().map_err(|_| io::Error::other("the hashing thread failed"))
    }
}

impl Worker {
    fn start() -> Option<Worker> {
        let (to_hash, rx) = sync_channel::<(Arc<Vec<u8>>, usize)>(IN_FLIGHT - 2);
        let (back, hashed) = sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
        let handle = std::thread::Builder::new()
            .name("blob-sha256".into())
            .spawn(move || {
                let (mut h, mut n) = (Sha256::new(), 0u64);
                for (c, len) in rx {
                    h.update(&c[..len]);
                    n += len as u64;
                    let _ = back.send(c);
                }
                (Digest::from_bytes(h.finalize().into()), n)
            })
            .ok()?;
        Some(Worker { to_hash: Some(to_hash), hashed, made: 1, handle: Some(handle) })
    }
}

impl<R: Read> BufRead for Stored<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            let used = std::mem::take(&mut self.chunk);
            (self.pos, self.filled) = (0, 0);
            let mut next = self.free_chunk(used)?;
            // The hasher has given it back (or never had it): this is its only holder.
            let buf = Arc::get_mut(&mut next).expect("a free chunk has one holder");
            if buf.len() != self.chunk_len {
                *buf = vec![0; self.chunk_len];
            }
            let n = loop {
                match self.inner.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r,
                }
            };
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    // Kept (empty) for the next read: a chunk the hasher never had.
                    self.chunk = next;
                    return Err(e);
                }
            };
            match &mut self.hash {
                Hashing::Here(h, total) => {
                    h.update(&buf[..n]);
                    *total += n as u64;
                }
                Hashing::Thread(w) if n > 0 => {
                    let tx = w.to_hash.as_ref().expect("the hasher is fed until finish");
                    tx.send((next.clone(), n)).map_err(|_| io::Error::other("the hashing thread failed"))?;
                }
                Hashing::Thread(_) => {}
            }
            (self.chunk, self.filled) = (next, n);
        }
        Ok(&self.chunk[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
    }
}

impl<R: Read> Read for Stored<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let have = self.fill_buf()?;
        let n = have.len().min(out.len());
        out[..n].copy_from_slice(&have[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 1000) as u8).collect()
    }

    /// A source that hands out a few bytes per read, to exercise short reads.
    struct Dribble<'a>(&'a [u8], usize);
    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn both_ways_hash_and_read_every_byte() {
        let d = data(5 * CHUNK + 123);
        let want = (Digest::of(&d), d.len() as u64);
        for size in [0, OFFLOAD_FROM] {
            for step in [CHUNK, 1000] {
                let mut s = Stored::new(Dribble(&d, step), size, true);
                assert_eq!(matches!(s.hash, Hashing::Thread(_)), size > 0);
                // A small blob's chunk is sized to it, not to `CHUNK`.
                assert_eq!(s.chunk_len, if size > 0 { CHUNK } else { 8 * 1024 });
                // Read part of it through the reader; finish reads and hashes the rest.
                let mut head = vec![0u8; 3 * CHUNK + 7];
                s.read_exact(&mut head).unwrap();
                assert_eq!(head, d[..head.len()]);
                assert_eq!(s.finish().unwrap(), want, "size {size}, step {step}");
            }
        }
    }

    #[test]
    fn a_read_error_is_passed_on_by_both_ways() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.0 -= 1;
                out.fill(1);
                Ok(out.len())
            }
        }
        for size in [0, OFFLOAD_FROM] {
            // More chunks than are ever in flight before the error, then a retry.
            let mut s = Stored::new(Broken(3 * IN_FLIGHT), size, true);
            let err = io::copy(&mut s, &mut io::sink()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            assert_eq!(s.finish().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        }
    }
}
