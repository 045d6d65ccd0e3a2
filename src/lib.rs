//! airlock: check and convert container image archives, fully offline.
//!
//! # The library
//!
//! Four functions over typed options, each returning a typed result, the same ones the
//! command line runs: [`verify()`] and [`inspect()`] give a [`Report`] (what `--json`
//! prints, and reads back from it: [`report::json::read`]), [`convert()`] writes an archive in
//! another format, [`lock()`] pins the images of archives in a lock file. Options start from
//! `Default` (or `new`) and are set field by field; they are `#[non_exhaustive]`, so a field
//! added later breaks no caller. Nothing is drawn on the terminal unless `progress` is set.
//! An input that cannot be opened, a usage error or an output that cannot be written is an
//! [`Error`] (`std::error::Error`); what is wrong inside an archive is a [`Finding`] in the
//! report, with a stable [`Code`].
//!
//! ```
//! let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/docker-29-save.tar");
//! let mut opts = airlock::VerifyOptions::default();
//! opts.inputs = vec![fixture.into()];
//! // Fail on warnings too, as `--deny warnings` does.
//! opts.policy = airlock::Policy::new(&[airlock::Deny::parse("warnings").unwrap()]);
//! let report = airlock::verify(&opts)?;
//! assert!(report.ok);
//! let image = &report.inputs[0].images[0];
//! assert_eq!(image.tags, ["docker.io/airlock/app:1"]);
//! assert_eq!(image.layers.len(), 7);
//! // Every finding names its code; none here.
//! assert!(report.inputs[0].findings.iter().all(|f| f.code != airlock::Code::BlobDigestMismatch));
//! # Ok::<(), airlock::Error>(())
//! ```
//!
//! # Inside
//!
//! The data flow, one folder per step:
//! `open` (read an input into a catalog of members, scanning each blob once with `scan`) →
//! `formats` (detect the format and build the format-neutral `model` from its documents;
//! the same modules write them for `convert`) → `input` (the opened input:
//! what it holds, nested archives, every member's verdict) → `checks` (compare claims with
//! bytes) → `report` (built from the opened input; the verdict; human or JSON), or for
//! `convert` and `export`, → `output` (staged, atomic). `tarstream` is the bounded tar
//! reader every level uses; `error` is the one exit-2 error, `exit` the exit-status policy;
//! `commands` and `cli` compose the steps. An import goes only from a later step to an
//! earlier one (README, "Code layout"). Only the library surface above is public; the tests
//! reach a few internals through the hidden `testing` module.

// No function over 80 lines (clippy.toml sets the threshold; comments and blank lines do not
// count).
#![warn(clippy::too_many_lines)]

pub(crate) mod checks;
pub(crate) mod checksums;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod convert;
pub(crate) mod delta;
pub(crate) mod diff;
pub(crate) mod digest;
pub mod error;
pub(crate) mod exit;
pub(crate) mod export;
pub mod finding;
pub(crate) mod flatten;
pub(crate) mod formats;
pub(crate) mod input;
pub(crate) mod lock;
pub(crate) mod model;
pub(crate) mod open;
pub(crate) mod output;
pub(crate) mod policy;
pub(crate) mod progress;
pub mod report;
pub(crate) mod scan;
pub(crate) mod signatures;
pub(crate) mod targets;
pub(crate) mod tarstream;
#[doc(hidden)]
pub mod testing;

/// The command line (`src/main.rs`): runs it and returns the exit status.
#[doc(hidden)]
pub fn cli_main() -> i32 {
    cli::main()
}

pub use commands::inspect::Options as InspectOptions;
pub use commands::lock::{Options as LockOptions, Outcome as LockOutcome};
pub use commands::verify::Options as VerifyOptions;
pub use convert::{Options as ConvertOptions, Outcome as ConvertOutcome};
pub use digest::Digest;
pub use error::Error;
pub use finding::{Code, Finding, Severity};
pub use formats::output::{CompressionChoice, OutputFormat};
pub use model::select::Selection;
pub use model::{Format, Platform};
pub use output::Destination;
pub use policy::{Deny, Policy};
pub use report::Report;

/// Reads every input whole, recomputes every digest, diffID and chainID, checks them and
/// what the options ask for (`--expect-id`, `--lock`, `--target`, `--checksums`, `--key`),
/// and reports. `report.ok` is false when a check failed; `Err` only when an input cannot be
/// opened or the options cannot be met (a selection that matches nothing).
pub fn verify(opts: &VerifyOptions) -> Result<Report, Error> {
    commands::verify::run(opts)
}

/// What the inputs hold, as their documents declare it, without hashing the layers.
pub fn inspect(opts: &InspectOptions) -> Result<Report, Error> {
    commands::inspect::run(opts)
}

/// Rewrites an archive in another format without changing the image (atomically: the output
/// appears whole or not at all). An input with errors is refused unless `force`.
pub fn convert(opts: &ConvertOptions) -> Result<ConvertOutcome, Error> {
    convert::run(opts)
}

/// Verifies the inputs and writes their lock (to `output`, or stdout). An input with errors
/// is refused unless `force`.
pub fn lock(opts: &LockOptions) -> Result<LockOutcome, Error> {
    commands::lock::run(opts)
}
