//! A progress line on stderr, shown only when a person is watching: stderr is a terminal
//! (and `TERM` is not `dumb`), `--quiet` was not given, and the run lasts long enough to need
//! it. Drawn by indicatif: the line fits the terminal's width (the label is cut, never the
//! line wrapped), with the rate and an ETA. Readers only add to an atomic counter; a thread
//! of its own hands the counts to the bar five times a second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
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

/// The line for a terminal this many columns wide: a bar where there is room for one, else
/// the label (cut to fit), percent, rate and ETA.
pub fn style(columns: u16) -> ProgressStyle {
    let template = if columns >= 100 {
        "{msg:30!} [{wide_bar}] {percent:>3}%  {binary_bytes}/{binary_total_bytes}  {binary_bytes_per_sec}  ETA {eta}"
    } else {
        "{wide_msg:!} {percent:>3}% {binary_bytes_per_sec:>11} ETA {eta:>3}"
    };
    // The templates are constants: a parse error is a bug caught by the tests.
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress {
    /// A progress display that draws only if `wanted` and stderr is a terminal.
    pub fn start(label: String, wanted: bool) -> (Progress, Option<std::thread::JoinHandle<()>>) {
        let p = Progress::default();
        let dumb = std::env::var_os("TERM").is_none_or(|t| t == "dumb");
        if !wanted || dumb || !std::io::stderr().is_terminal() {
            return (p, None);
        }
        let inner = p.inner.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut bar: Option<ProgressBar> = None;
            while !inner.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                // Short runs finish before anything is drawn.
                if start.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let bar = bar.get_or_insert_with(|| {
                    let columns = console::Term::stderr().size().1;
                    let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    b.set_style(style(columns));
                    b.set_message(label.clone());
                    b
                });
                let (done, total) = (inner.done.load(Ordering::Relaxed), inner.total.load(Ordering::Relaxed));
                bar.set_length(total.max(done));
                bar.set_position(done);
            }
            if let Some(b) = bar {
                b.finish_and_clear();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A terminal of a given width that keeps the lines written to it.
    #[derive(Debug)]
    struct Screen {
        width: u16,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            self.width
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.trim().is_empty() {
                self.lines.lock().unwrap().push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line drawn on a terminal `width` columns wide, half way through 3 GiB.
    fn drawn(width: u16) -> String {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let screen = Screen { width, lines: lines.clone() };
        let bar = ProgressBar::with_draw_target(Some(3 << 30), ProgressDrawTarget::term_like(Box::new(screen)));
        bar.set_style(style(width));
        bar.set_message("k3s-airgap-images-amd64-with-a-very-long-name.tar.zst");
        bar.set_position(3 << 29);
        bar.force_draw();
        lines.lock().unwrap().last().cloned().unwrap_or_default()
    }

    #[test]
    fn the_line_fits_the_terminal() {
        for width in [40u16, 60, 80, 99, 100, 160] {
            let line = drawn(width);
            let cols = console::measure_text_width(&line);
            assert!(cols <= width as usize, "{width} columns: {cols} drawn: {line:?}");
            assert!(line.contains(" 50% ") && line.contains("ETA"), "{width}: {line:?}");
            assert!(line.starts_with("k3s-airgap"), "{width}: {line:?}");
        }
        assert!(drawn(160).contains("1.50 GiB/3.00 GiB"), "{}", drawn(160));
    }
}
