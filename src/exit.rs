//! Exit-status policy, in one place.
//!
//! - 0: every input is a valid image archive and every check passed (warnings allowed), or
//!   the output was written;
//! - 1: a check failed, or an input is not a valid archive (nothing written);
//! - 2: a usage error, an input path that cannot be opened, an output that cannot be
//!   written (`crate::error::Error`);
//! - 130: interrupted (Ctrl-C, SIGTERM), as a shell reports it.
//!
//! Which status a run ends with is decided once, in `crate::cli`, from the command's
//! verdict (`crate::report::verdict`) or its error.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    Interrupted = 130,
}

impl ExitStatus {
    /// 0 when the check passed (or the output was written), else 1.
    pub fn passed(ok: bool) -> ExitStatus {
        if ok { ExitStatus::Ok } else { ExitStatus::Failed }
    }

    pub fn code(self) -> i32 {
        self as i32
    }

    /// Each status and what it means, for the man pages (README, "Exit status").
    pub const TABLE: [(i32, &'static str); 4] = [
        (
            ExitStatus::Ok as i32,
            "every input is a valid archive and every check passed (warnings allowed); convert, export, lock, delta or apply wrote its output",
        ),
        (
            ExitStatus::Failed as i32,
            "a check failed (an error, or a warning --deny made fail), or an input is not a valid archive; convert, export, lock, delta or apply refused it and wrote nothing",
        ),
        (
            ExitStatus::Usage as i32,
            "usage error, an input path that cannot be opened, a lock, key or checksum file that cannot be read, or an output that cannot be written",
        ),
        (ExitStatus::Interrupted as i32, "interrupted (Ctrl-C, SIGTERM); a temporary output was removed"),
    ];
}
