//! Exit-status policy, in one place.
//!
//! - 0: every input is a valid image archive and every check passed (warnings allowed);
//! - 1: a check failed, or an input is not a valid archive;
//! - 2: a usage error, or an input path that cannot be opened.

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    Failed = 1,
    Usage = 2,
}

impl ExitStatus {
    pub fn of_report(report: &Report) -> ExitStatus {
        if report.ok { ExitStatus::Ok } else { ExitStatus::Failed }
    }

    pub fn code(self) -> i32 {
        self as i32
    }
}
