//! The receiving side of a hand-off between threads: chunks of a stream arrive over a
//! bounded channel and are read back as one stream. Used where one thread produces a blob's
//! bytes and another hashes them (a wrapped archive's members, a layer's decompressed output).

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender};

pub struct ChunkReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// Where used chunks go back to be refilled, if the producer reuses buffers.
    recycle: Option<Sender<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    /// An error from the producer is sticky: every later read repeats it.
    failed: Option<(io::ErrorKind, String)>,
}

impl ChunkReader {
    pub fn new(rx: Receiver<io::Result<Vec<u8>>>) -> Self {
        ChunkReader { rx, recycle: None, chunk: Vec::new(), pos: 0, failed: None }
    }

    /// Sends each chunk back on `recycle` once it has been read.
    pub fn recycling(rx: Receiver<io::Result<Vec<u8>>>, recycle: Sender<Vec<u8>>) -> Self {
        ChunkReader { recycle: Some(recycle), ..ChunkReader::new(rx) }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, msg)) = &self.failed {
            return Err(io::Error::new(*kind, msg.clone()));
        }
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.chunk, next);
                    if let Some(r) = &self.recycle {
                        let _ = r.send(used);
                    }
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.failed = Some((e.kind(), e.to_string()));
                    return Err(e);
                }
                // The producer is done.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
