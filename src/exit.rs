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
}
