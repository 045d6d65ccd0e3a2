//! The staging area of one convert, and its commit.
//!
//! Safety rules, each for a way outputs were lost:
//! - **One writer per output.** An exclusive lock on `.NAME.airlock-lock` next to the output
//!   is held from the start to the commit (and the file removed after); a second convert to
//!   the same output fails at once.
//! - **Unique names.** The staging directory `.NAME.airlock-tmp-PID-N`, its temporary tar and
//!   the aside copy of a replaced output all carry this run's PID and a per-run number, and are
//!   created exclusively: airlock never removes a path it did not create in this run, except
//!   a stale staging area whose owner is provably gone (below).
//! - **Stale areas.** Each staging directory holds an owner file: host name, boot ID, PID
//!   and the process start time. A later convert to the same output removes a staging area
//!   only if it was made on this host during this boot and its process is gone (no such PID,
//!   or a PID now running another process, by start time). Any other one is left alone, and
//!   said so in one line: a shared network filesystem or a reused PID cannot fool it.
//! - **Interruptions.** Ctrl-C and SIGTERM remove this run's staging area and exit 130; one
//!   that arrives while the output is being renamed into place waits for the renames, so a
//!   replaced output is never left half-swapped.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Staging areas of this process, removed if it is interrupted (Ctrl-C, SIGTERM): an
/// interrupted convert leaves nothing behind.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static ABORTING: AtomicBool = AtomicBool::new(false);
/// Set while an output is being put in place (the renames of a commit): an interrupt waits
/// for it, so a replaced output is never left half-swapped.
static COMMITTING: AtomicBool = AtomicBool::new(false);
/// An output was put in place by this process.
static COMMITTED: AtomicBool = AtomicBool::new(false);
static SERIAL: AtomicU64 = AtomicU64::new(0);

const OWNER_FILE: &str = ".airlock-owner";

/// Installs the interrupt handler once. It stops new files from being created, removes every
/// live staging area and exits with 130, as a shell reports an interrupted command.
fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            ABORTING.store(true, Ordering::SeqCst);
            while COMMITTING.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            if COMMITTED.load(Ordering::SeqCst) {
                eprintln!("airlock: interrupted after the output was written");
                std::process::exit(crate::exit::ExitStatus::Interrupted.code());
            }
            let live = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
            for p in live {
                let _ = fs::remove_dir_all(&p);
                let _ = fs::remove_file(sibling(&p, "tar"));
            }
            for p in LOCKS.lock().map(|l| l.clone()).unwrap_or_default() {
                let _ = fs::remove_file(p);
            }
            eprintln!("airlock: interrupted; nothing was written");
            std::process::exit(crate::exit::ExitStatus::Interrupted.code());
        });
    });
}

#[derive(Debug, Clone)]
pub enum Destination {
    Path(PathBuf),
    Stdout,
}

/// Why a staging area could not be made: another writer holds the output (a usage error:
/// exit 2), or the filesystem said no.
#[derive(Debug)]
pub enum StagingError {
    Busy(String),
    Io(io::Error),
}

impl std::fmt::Display for StagingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StagingError::Busy(m) => f.write_str(m),
            StagingError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for StagingError {
    fn from(e: io::Error) -> Self {
        StagingError::Io(e)
    }
}

/// A staging directory, removed on drop unless committed.
pub struct Staging {
    pub dir: PathBuf,
    tmp_tar: Option<PathBuf>,
    committed: bool,
    /// The output's lock, held until this value is dropped.
    _lock: Option<OutputLock>,
    /// Lines to tell the user (stale areas left alone).
    pub notes: Vec<String>,
}

impl Staging {
    /// Takes the output's lock, sweeps stale staging areas of the same output, and creates
    /// this run's staging area next to `dest` (in the temp dir for stdout).
    pub fn new(dest: &Destination) -> Result<Staging, StagingError> {
        let (parent, prefix) = match dest {
            Destination::Path(p) => {
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = p
                    .file_name()
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path has no file name"))?;
                (parent.to_path_buf(), format!(".{}.airlock-tmp-", name.to_string_lossy()))
            }
            Destination::Stdout => (std::env::temp_dir(), "airlock-stdout-".to_string()),
        };
        let lock = match dest {
            Destination::Path(p) => Some(lock_output(&parent, p)?),
            Destination::Stdout => None,
        };
        let me = Owner::this_process()?;
        let mut notes = Vec::new();
        sweep_stale(&parent, &prefix, &me, &mut notes);
        install_interrupt_handler();
        // Exclusive creation: a name that exists (whoever made it) is never reused or removed.
        let dir = loop {
            let n = SERIAL.fetch_add(1, Ordering::Relaxed);
            let candidate = parent.join(format!("{prefix}{}-{}-{n}", me.pid, me.start));
            match fs::create_dir(&candidate) {
                Ok(()) => break candidate,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if let Ok(mut l) = LIVE.lock() {
            l.push(dir.clone());
        }
        let mut staging = Staging { tmp_tar: None, dir, committed: false, _lock: lock, notes };
        fs::write(staging.dir.join(OWNER_FILE), me.to_text())?;
        if matches!(dest, Destination::Path(_)) {
            staging.tmp_tar = Some(sibling(&staging.dir, "tar"));
        }
        Ok(staging)
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
    /// Returns the bytes of the files written.
    pub fn commit_dir(mut self, dest: &Path, replace: bool) -> io::Result<u64> {
        fs::remove_file(self.dir.join(OWNER_FILE))?;
        let mut bytes = 0;
        for e in walkdir::WalkDir::new(&self.dir) {
            let e = e.map_err(io::Error::other)?;
            if e.file_type().is_file() {
                bytes += e.metadata().map_err(io::Error::other)?.len();
            }
        }
        let old = sibling(&self.dir, "old");
        let had_old = replace && fs::symlink_metadata(dest).is_ok();
        let _guard = Committing::start()?;
        if had_old {
            // `old` is this run's own unique name: nothing of anyone else's is there.
            fs::rename(dest, &old)?;
        }
        if let Err(e) = fs::rename(&self.dir, dest) {
            if had_old {
                let _ = fs::rename(&old, dest);
            }
            return Err(e);
        }
        self.committed = true;
        COMMITTED.store(true, Ordering::SeqCst);
        if had_old {
            if old.is_dir() { fs::remove_dir_all(&old) } else { fs::remove_file(&old) }?;
        }
        Ok(bytes)
    }

    /// Moves one file or directory of the staging area (`rel`) to `dest`, replacing an
    /// existing output only if `replace`, and removes the rest of the area.
    pub fn commit_member(mut self, rel: &str, dest: &Path, replace: bool) -> io::Result<()> {
        let src = self.dir.join(rel);
        let old = sibling(&self.dir, "old");
        let had_old = replace && fs::symlink_metadata(dest).is_ok();
        let _guard = Committing::start()?;
        if had_old {
            fs::rename(dest, &old)?;
        }
        if let Err(e) = fs::rename(&src, dest) {
            if had_old {
                let _ = fs::rename(&old, dest);
            }
            return Err(e);
        }
        self.committed = true;
        COMMITTED.store(true, Ordering::SeqCst);
        if had_old {
            if old.is_dir() { fs::remove_dir_all(&old) } else { fs::remove_file(&old) }?;
        }
        let _ = fs::remove_dir_all(&self.dir);
        Ok(())
    }

    /// Packs the staged files into a tar at `dest` (through a temporary file and a rename),
    /// or onto stdout. Returns the tar's size.
    pub fn commit_tar(mut self, dest: &Destination, replace: bool) -> io::Result<u64> {
        fs::remove_file(self.dir.join(OWNER_FILE))?;
        let bytes = match dest {
            Destination::Stdout => {
                let out = io::stdout();
                let mut lock = out.lock();
                super::write_tar(&self.dir, &mut lock)?
            }
            Destination::Path(p) => {
                let tmp = self.tmp_tar.clone().expect("a path destination has a temp tar");
                let n = {
                    let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
                    let n = super::write_tar(&self.dir, &mut f)?;
                    f.sync_all()?;
                    n
                };
                let _guard = Committing::start()?;
                // A file replaces a file (`replace`), never a directory: a user's directory
                // is not deleted to put a tar there (rename would fail on it anyway).
                let existing = fs::symlink_metadata(p).ok();
                if existing.as_ref().is_some_and(|m| m.is_dir()) || (existing.is_some() && !replace) {
                    return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} is in the way", p.display())));
                }
                fs::rename(&tmp, p)?;
                COMMITTED.store(true, Ordering::SeqCst);
                n
            }
        };
        self.committed = true;
        let _ = fs::remove_dir_all(&self.dir);
        Ok(bytes)
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

/// Marks the commit's renames; an interrupt arriving meanwhile waits for them.
struct Committing;

impl Committing {
    fn start() -> io::Result<Committing> {
        COMMITTING.store(true, Ordering::SeqCst);
        if ABORTING.load(Ordering::SeqCst) {
            // The handler already started removing the staging area: do not begin.
            COMMITTING.store(false, Ordering::SeqCst);
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        Ok(Committing)
    }
}

impl Drop for Committing {
    fn drop(&mut self) {
        COMMITTING.store(false, Ordering::SeqCst);
    }
}

/// The exclusive lock on `.NAME.airlock-lock` next to an output, removed when released.
struct OutputLock {
    path: PathBuf,
    _file: fs::File,
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; a run that opened the old file meanwhile sees, once it
        // gets the lock, that the path no longer names it, and starts over (lock_output).
        let _ = fs::remove_file(&self.path);
        if let Ok(mut l) = LOCKS.lock() {
            l.retain(|p| p != &self.path);
        }
    }
}

/// Lock files of this process, removed by the interrupt handler too.
static LOCKS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn lock_output(parent: &Path, dest: &Path) -> Result<OutputLock, StagingError> {
    use std::os::unix::fs::MetadataExt;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let path = parent.join(format!(".{name}.airlock-lock"));
    for _ in 0..100 {
        let f = fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StagingError::Busy(format!(
                    "another airlock convert is writing {} (it holds {}); try again when it is done",
                    dest.display(),
                    path.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        // The holder before us may have removed the file as it finished: then this lock is
        // on a file nobody else will open, and the path must be locked afresh.
        let (mine, now) = (f.metadata()?, fs::metadata(&path));
        if now.is_ok_and(|n| n.ino() == mine.ino() && n.dev() == mine.dev()) {
            if let Ok(mut l) = LOCKS.lock() {
                l.push(path.clone());
            }
            return Ok(OutputLock { path, _file: f });
        }
    }
    Err(StagingError::Busy(format!("cannot lock {}: it keeps being replaced", path.display())))
}

/// Who made a staging area.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    host: String,
    boot_id: String,
    pid: u32,
    /// Field 22 of /proc/PID/stat: clock ticks after boot, unique per PID and boot.
    start: u64,
}

impl Owner {
    fn this_process() -> io::Result<Owner> {
        let pid = std::process::id();
        Ok(Owner {
            host: read_trimmed("/proc/sys/kernel/hostname")?,
            boot_id: read_trimmed("/proc/sys/kernel/random/boot_id")?,
            pid,
            start: start_time(pid).ok_or_else(|| io::Error::other("cannot read this process's start time"))?,
        })
    }

    fn to_text(&self) -> String {
        format!("host={}\nboot_id={}\npid={}\nstart={}\n", self.host, self.boot_id, self.pid, self.start)
    }

    fn parse(text: &str) -> Option<Owner> {
        let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix('=')).map(str::to_string);
        Some(Owner {
            host: get("host")?,
            boot_id: get("boot_id")?,
            pid: get("pid")?.parse().ok()?,
            start: get("start")?.parse().ok()?,
        })
    }

    /// Provably gone: made on this host, and either during an earlier boot (a power cut) or
    /// by a PID that is now free or runs another process.
    fn is_gone(&self, me: &Owner) -> bool {
        self.host == me.host && (self.boot_id != me.boot_id || start_time(self.pid) != Some(self.start))
    }
}

/// `DIR.EXT` beside a staging directory. (Not `with_extension`: the output's own name may
/// hold dots, and replacing its "extension" once named `.out.tar` for output `out`.)
fn sibling(dir: &Path, ext: &str) -> PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn read_trimmed(p: &str) -> io::Result<String> {
    Ok(fs::read_to_string(p)?.trim().to_string())
}

/// A process's start time, `None` if no such process runs.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Removes the staging areas of an output whose owners are provably gone; notes the others.
fn sweep_stale(parent: &Path, prefix: &str, me: &Owner, notes: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else { continue };
        let path = e.path();
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        if !meta.is_dir() {
            // A temporary tar or an aside copy: removed with its staging directory; alone,
            // its owner cannot be proven gone.
            let dir = rest.strip_suffix(".tar").or_else(|| rest.strip_suffix(".old"));
            if let Some(dir) = dir
                && !parent.join(format!("{prefix}{dir}")).exists()
            {
                notes.push(format!("left {} alone: no staging area says who made it", path.display()));
            }
            continue;
        }
        match fs::read_to_string(path.join(OWNER_FILE)).ok().as_deref().and_then(Owner::parse) {
            Some(owner) if owner == *me => {}
            Some(owner) if owner.is_gone(me) => {
                let _ = fs::remove_file(sibling(&path, "tar"));
                let _ = fs::remove_file(sibling(&path, "old"));
                match fs::remove_dir_all(&path) {
                    Ok(()) => notes.push(format!(
                        "removed {}, left by airlock process {} which is gone",
                        path.display(),
                        owner.pid
                    )),
                    Err(err) => notes.push(format!("cannot remove stale {}: {err}", path.display())),
                }
            }
            Some(owner) if owner.host != me.host => notes.push(format!(
                "left {} alone: made on host {:?}, so airlock cannot tell whether its owner is gone",
                path.display(),
                owner.host,
            )),
            Some(owner) => {
                notes.push(format!("left {} alone: airlock process {} is still running", path.display(), owner.pid))
            }
            None => notes.push(format!("left {} alone: it has no readable owner file", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_round_trip_and_liveness() {
        let me = Owner::this_process().unwrap();
        assert_eq!(Owner::parse(&me.to_text()), Some(me.clone()));
        assert!(!me.is_gone(&me), "this process is running");
        let reused = Owner { start: me.start + 1, ..me.clone() };
        assert!(reused.is_gone(&me), "same PID, other start time: another process");
        let elsewhere = Owner { host: "other-host".into(), pid: u32::MAX, ..me.clone() };
        assert!(!elsewhere.is_gone(&me), "another host's process can't be judged");
        let earlier_boot = Owner { boot_id: "x".into(), ..me.clone() };
        assert!(earlier_boot.is_gone(&me), "a process of an earlier boot is gone");
    }
}
