//! `--deny`: which warnings fail an input. `--deny warnings` denies them all, `--deny CODE`
//! one code (repeatable). A denied finding keeps its severity (it is still a warning of that
//! code) and is marked `"denied": true`, so a reader of the JSON sees why the input failed.
//! Errors always fail; an error code given to `--deny` is refused (it would change nothing).

use crate::finding::{Code, Finding, Severity};

#[derive(Debug, Clone, Default)]
pub struct Policy {
    all_warnings: bool,
    codes: Vec<Code>,
}

/// One `--deny` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    Warnings,
    Code(Code),
}

impl Deny {
    /// Parses `warnings` or a finding code; an unknown value is a usage error naming the
    /// valid ones.
    pub fn parse(s: &str) -> Result<Deny, String> {
        if s == "warnings" {
            return Ok(Deny::Warnings);
        }
        let warnings = || {
            let codes: Vec<&str> =
                Code::ALL.iter().filter(|c| c.severity() == Severity::Warning).map(|c| c.as_str()).collect();
            codes.join(", ")
        };
        match Code::ALL.iter().find(|c| c.as_str() == s) {
            Some(&c) if c.severity() == Severity::Warning => Ok(Deny::Code(c)),
            // Denying an error changes nothing: refused, so a typo'd policy is never silent.
            Some(_) => Err(format!(
                "{s} is an error already (it always fails the input); --deny takes `warnings` or a warning code: {}",
                warnings()
            )),
            None => Err(format!("{s:?} is not a finding code; use `warnings` or one of: {}", warnings())),
        }
    }
}

impl Policy {
    pub fn new(denies: &[Deny]) -> Policy {
        let mut p = Policy::default();
        for d in denies {
            match d {
                Deny::Warnings => p.all_warnings = true,
                Deny::Code(c) => p.codes.push(*c),
            }
        }
        p
    }

    /// Marks the warnings this policy denies.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| !f.is_error()) {
            f.denied = self.all_warnings || self.codes.contains(&f.code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_denies() {
        assert_eq!(Deny::parse("warnings"), Ok(Deny::Warnings));
        assert_eq!(Deny::parse("platform-absent"), Ok(Deny::Code(Code::PlatformAbsent)));
        let err = Deny::parse("platform-absnet").unwrap_err();
        assert!(err.contains("platform-absent"), "lists the valid codes: {err}");
        assert!(!err.contains("archive-corrupt"), "lists warning codes only: {err}");
        assert!(Deny::parse("archive-corrupt").unwrap_err().starts_with("archive-corrupt is an error already"));
        let mut fs = vec![
            Finding::new(Code::PlatformAbsent, "a"),
            Finding::new(Code::UnreferencedBlob, "b"),
            Finding::new(Code::BlobMissing, "c"),
        ];
        Policy::new(&[Deny::Code(Code::PlatformAbsent)]).apply(&mut fs);
        assert_eq!(fs.iter().map(|f| f.denied).collect::<Vec<_>>(), [true, false, false]);
        assert!(fs[0].fails() && !fs[1].fails() && fs[2].fails());
        Policy::new(&[Deny::Warnings]).apply(&mut fs);
        assert!(fs.iter().all(Finding::fails));
    }
}
