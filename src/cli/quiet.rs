//! `-q` and `--status`: one meaning on every command. `-q` prints one verdict line per input,
//! as `sha256sum -c` does (`app.tar: OK`, `app.tar: FAILED (2 errors)`); `--status` prints
//! nothing, and the exit status says it, as `sha256sum --status` does (`-qq` would be apt's
//! spelling, `grep -q` has no line form to tell it from; sha256sum has both, and users of
//! checksums across an air gap know it). Both turn the progress display off. Errors that end
//! the run (a usage error, an input that cannot be opened) still go to stderr, as sha256sum's
//! do.

use clap::Args;

#[derive(Args, Clone, Copy, Default)]
pub struct QuietArgs {
    /// One line per input: `INPUT: OK` or `INPUT: FAILED (2 errors)`, as `sha256sum -c`
    /// prints; no progress display
    #[arg(long, short)]
    quiet: bool,
    /// Print nothing: the exit status says it, as `sha256sum --status` (errors that stop the
    /// run still go to stderr); no progress display
    #[arg(long, conflicts_with = "quiet")]
    status: bool,
}

/// How much a command prints.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Brevity {
    /// The report or summary, and progress on a terminal.
    Full,
    /// `-q`: one verdict line per input.
    Line,
    /// `--status`: nothing.
    Status,
}

impl QuietArgs {
    pub fn brevity(self) -> Brevity {
        match (self.quiet, self.status) {
            (_, true) => Brevity::Status,
            (true, false) => Brevity::Line,
            (false, false) => Brevity::Full,
        }
    }

    /// Whether a progress display may be drawn (on a terminal only, `crate::progress`).
    pub fn progress(self) -> bool {
        self.brevity() == Brevity::Full
    }

    /// `--status` with `--json`: one says print nothing, the other print the report.
    pub fn check_json(self, json: bool) -> Result<(), crate::error::Error> {
        if json && self.status {
            return Err(crate::error::Error::Usage(
                "--status prints nothing and --json prints the report: give one of them".into(),
            ));
        }
        Ok(())
    }
}
