//! The verdict, derived in one place: an input passes when none of its findings fails it
//! (an error, or a warning `--deny` made fail); a run passes when every input does and no
//! finding about the inputs together fails. The exit status follows from it
//! (`crate::exit`).

use super::{InputReport, Report};
use crate::exit::ExitStatus;
use crate::finding::Finding;

/// Whether these findings let what they are about pass.
pub fn passes(findings: &[Finding]) -> bool {
    !findings.iter().any(Finding::fails)
}

impl InputReport {
    /// Whether the input could not be opened at all (its `input-unreadable` finding).
    pub fn unreadable(&self) -> bool {
        self.findings.iter().any(|f| f.code == crate::finding::Code::InputUnreadable)
    }

    /// Sets `ok` from the findings.
    pub fn settle(&mut self) {
        self.ok = passes(&self.findings);
    }
}

impl Report {
    /// A run's report, its verdict derived from its inputs'.
    pub fn new(inputs: Vec<InputReport>) -> Report {
        let mut report = Report { ok: true, inputs, findings: Vec::new() };
        report.settle();
        report
    }

    /// The report of inputs a command refused (nothing written): failed, whatever the
    /// findings say (an input that is no archive at all may have none).
    pub fn refused(inputs: Vec<InputReport>) -> Report {
        Report { ok: false, inputs, findings: Vec::new() }
    }

    /// Sets every input's `ok`, then the run's.
    pub fn settle(&mut self) {
        for input in &mut self.inputs {
            input.settle();
        }
        self.ok = self.inputs.iter().all(|i| i.ok) && passes(&self.findings);
    }

    /// The worst of the inputs': 2 when an input could not be opened at all (as when it is
    /// the only one), else 1 when a check failed, else 0.
    pub fn exit_status(&self) -> ExitStatus {
        if self.inputs.iter().any(InputReport::unreadable) { ExitStatus::Usage } else { ExitStatus::passed(self.ok) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Code, Severity};

    fn finding(severity: Severity, denied: bool) -> Finding {
        let mut f = Finding::new(Code::ArchiveCorrupt, "x");
        f.severity = severity;
        f.denied = denied;
        f
    }

    #[test]
    fn an_error_or_a_denied_warning_fails() {
        assert!(passes(&[]));
        assert!(passes(&[finding(Severity::Warning, false)]));
        assert!(!passes(&[finding(Severity::Warning, true)]));
        assert!(!passes(&[finding(Severity::Error, false)]));
        let input = |findings| InputReport { findings, ..Default::default() };
        let mut r = Report::new(vec![input(vec![finding(Severity::Warning, false)]), input(vec![])]);
        assert!(r.ok && r.inputs.iter().all(|i| i.ok));
        assert_eq!(r.exit_status(), ExitStatus::Ok);
        r.findings.push(finding(Severity::Error, false));
        r.settle();
        assert!(!r.ok && r.inputs.iter().all(|i| i.ok));
        assert_eq!(r.exit_status(), ExitStatus::Failed);
        r.inputs[1].findings.push(finding(Severity::Warning, true));
        r.findings.clear();
        r.settle();
        assert_eq!((r.ok, r.inputs[0].ok, r.inputs[1].ok), (false, true, false));
    }
}
