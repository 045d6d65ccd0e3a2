use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Staging areas of this process, removed if it is interrupted (Ctrl-C, SIGTERM): an
/// interrupted convert leaves nothing behind.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static ABORTING: AtomicBool = AtomicBool::new(false);

/// Installs the interrupt handler once. It stops new files from being created, removes every
/// live staging area and exits with 130, as a shell reports an interrupted command.
fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            ABORTING.store(true, Ordering::SeqCst);
            let live = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
            for p in live {
                let _ = fs::remove_dir_all(&p);
                let _ = fs::remove_file(p.with_extension("tar"));
            }
            eprintln!("airlock: interrupted; nothing was written");
            std::process::exit(130);
        });
    });
}

#[derive(Debug, Clone)]
pub enum Destination {
    Path(PathBuf),
    Stdout,
}

/// A staging directory, removed on drop unless committed.
pub struct Staging {
    pub dir: PathBuf,
    tmp_tar: Option<PathBuf>,
    committed: bool,
}

impl Staging {
    /// Creates the staging area next to `dest` (in the temp dir for stdout).
    pub fn new(dest: &Destination) -> io::Result<Staging> {
        let pid = std::process::id();
        let dir = match dest {
            Destination::Path(p) => {
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = p
                    .file_name()
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path has no file name"))?;
                parent.join(format!(".{}.airlock-tmp-{pid}", name.to_string_lossy()))
            }
            Destination::Stdout => std::env::temp_dir().join(format!("airlock-stdout-{pid}")),
        };
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        install_interrupt_handler();
        fs::create_dir(&dir)?;
        if let Ok(mut l) = LIVE.lock() {
            l.push(dir.clone());
        }
        let tmp_tar = match dest {
            Destination::Path(_) => Some(dir.with_extension("tar")),
            Destination::Stdout => None,
        };
        Ok(Staging { dir, tmp_tar, committed: false })
    }

    /// A path inside the staging area (parents created).
    pub fn file(&self, rel: &str) -> io::Result<PathBuf> {
        if ABORTING.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        let p = self.dir.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d)?;
        }
        Ok(p)
    }

    /// Moves the staged directory to `dest`, replacing an existing output only if `replace`.
    pub fn commit_dir(mut self, dest: &Path, replace: bool) -> io::Result<()> {
        let old = self.dir.with_extension("old");
        let had_old = replace && dest.exists();
        if had_old {
            fs::rename(dest, &old)?;
        }
        fs::rename(&self.dir, dest)?;
        self.committed = true;
        if had_old {
            if old.is_dir() { fs::remove_dir_all(&old) } else { fs::remove_file(&old) }?;
        }
        Ok(())
    }

    /// Packs the staged files into a tar at `dest` (through a temporary file and a rename),
    /// or onto stdout.
    pub fn commit_tar(mut self, dest: &Destination, replace: bool) -> io::Result<()> {
        match dest {
            Destination::Stdout => {
                let out = io::stdout();
                let mut lock = out.lock();
                super::write_tar(&self.dir, &mut lock)?;
            }
            Destination::Path(p) => {
                let tmp = self.tmp_tar.clone().expect("a path destination has a temp tar");
                {
                    let mut f = fs::File::create(&tmp)?;
                    super::write_tar(&self.dir, &mut f)?;
                    f.sync_all()?;
                }
                if replace && p.is_dir() {
                    fs::remove_dir_all(p)?;
                }
                fs::rename(&tmp, p)?;
            }
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Ok(mut l) = LIVE.lock() {
            l.retain(|p| p != &self.dir);
        }
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
        if let Some(t) = &self.tmp_tar {
            let _ = fs::remove_file(t);
        }
    }
}
