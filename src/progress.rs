//! A progress line on stderr, shown only when a person is watching: stderr is a terminal,
//! `--quiet` was not given, and the run lasts long enough to need it.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    done: AtomicU64,
    total: AtomicU64,
    stop: AtomicBool,
}

impl Progress {
    /// A progress display that draws only if `wanted` and stderr is a terminal.
    pub fn start(label: String, wanted: bool) -> (Progress, Option<std::thread::JoinHandle<()>>) {
        let p = Progress::default();
        if !wanted || !std::io::stderr().is_terminal() {
            return (p, None);
        }
        let inner = p.inner.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut drawn = false;
            while !inner.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                // Short runs finish before anything is drawn.
                if start.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let (done, total) = (inner.done.load(Ordering::Relaxed), inner.total.load(Ordering::Relaxed));
                let pct = (done.min(total) * 100).checked_div(total).unwrap_or(0);
                let mb = |b: u64| b as f64 / 1048576.0;
                let rate = mb(done) / start.elapsed().as_secs_f64();
                let filled = (pct / 4) as usize;
                let bar = format!("{}{}", "#".repeat(filled), "-".repeat(25 - filled));
                eprint!("\r\x1b[2K{label} [{bar}] {pct:3}%  {:.0}/{:.0} MiB  {rate:.0} MiB/s", mb(done), mb(total));
                let _ = std::io::stderr().flush();
                drawn = true;
            }
            if drawn {
                eprint!("\r\x1b[2K");
            }
        });
        (p, Some(handle))
    }

    pub fn finish(&self, handle: Option<std::thread::JoinHandle<()>>) {
        self.inner.stop.store(true, Ordering::Relaxed);
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// The bytes read so far through [`Progress::reader`]s: each blob's stored bytes are read
    /// (and hashed) once, so after a plain tar or a directory this is the sum of its files'
    /// sizes, however many images list each.
    pub fn done(&self) -> u64 {
        self.inner.done.load(Ordering::Relaxed)
    }

    pub fn set_total(&self, n: u64) {
        self.inner.total.store(n, Ordering::Relaxed);
    }

    pub fn reader<R: Read>(&self, r: R) -> Counting<R> {
        Counting { inner: r, done: self.inner.clone() }
    }
}

pub struct Counting<R> {
    inner: R,
    done: Arc<Inner>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
