//! `--json`: every JSON document airlock prints, one per line of output, each in a
//! [`Document`]: `"schema"` names the kind of document and its version
//! (`"airlock.verify/v2"`), `"airlock_version"` the airlock that wrote it, then the body.
//!
//! The compatibility rule (README, "JSON output"): within one version of a kind, fields are
//! only added, never renamed, removed or given another type or meaning; a consumer ignores
//! fields it does not know. Anything else bumps the version. The JSON Schema of each kind is
//! generated from the very types serialized here (`airlock schema KIND`, in `crate::cli`), and the
//! tests validate real reports against it.

use super::{ConvertReport, Report};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// The airlock that wrote a document.
pub const AIRLOCK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The kinds of JSON document airlock prints, each with its own version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// `verify --json`.
    Verify,
    /// `inspect --json`: the verify shape, with the declared values, `history` and `config`.
    Inspect,
    /// `convert --json`.
    Convert,
    /// `delta --json` and `delta --plan --json`.
    Delta,
    /// `apply --json`.
    Apply,
    /// `delta --thin-docker --json`.
    #[value(name = "delta-thin")]
    Thin,
    /// `diff --json`.
    Diff,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Verify, Kind::Inspect, Kind::Convert, Kind::Delta, Kind::Apply, Kind::Thin, Kind::Diff];

    /// The value of `"schema"`: `airlock.KIND/vN`. Version 2 of verify, inspect and convert
    /// added `schema`, `airlock_version`, `image_id` and the input's `size` and `sha256`, and
    /// normalized the tags (version 1 had no `schema` field).
    pub fn id(self) -> &'static str {
        match self {
            Kind::Verify => "airlock.verify/v2",
            Kind::Inspect => "airlock.inspect/v2",
            Kind::Convert => "airlock.convert/v2",
            Kind::Delta => "airlock.delta/v1",
            Kind::Apply => "airlock.apply/v1",
            Kind::Thin => "airlock.delta-thin/v1",
            Kind::Diff => "airlock.diff/v1",
        }
    }

    /// The subcommand that prints it (`delta --thin-docker` for delta-thin).
    pub fn command(self) -> &'static str {
        match self {
            Kind::Thin => "delta --thin-docker",
            k => k.name(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Verify => "verify",
            Kind::Inspect => "inspect",
            Kind::Convert => "convert",
            Kind::Delta => "delta",
            Kind::Apply => "apply",
            Kind::Thin => "delta-thin",
            Kind::Diff => "diff",
        }
    }
}

/// One JSON document: what it is, who wrote it, and its body's fields beside them.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Document<T> {
    /// The kind of document and its version, e.g. "airlock.verify/v2".
    pub schema: String,
    /// The airlock that wrote it, e.g. "0.1.0".
    pub airlock_version: String,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Document<T> {
    pub fn new(kind: Kind, body: T) -> Document<T> {
        Document { schema: kind.id().to_string(), airlock_version: AIRLOCK_VERSION.to_string(), body }
    }
}

/// Prints `body` as a document of `kind`: pretty JSON and a final newline.
pub fn print_document<T: Serialize>(kind: Kind, body: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Document::new(kind, body))?;
    writeln!(out)
}

/// verify's or inspect's report.
pub fn print(kind: Kind, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    print_document(kind, report, out)
}

pub fn print_convert(report: &ConvertReport, out: &mut dyn Write) -> io::Result<()> {
    print_document(Kind::Convert, report, out)
}

/// Reads verify's or inspect's JSON back into a report (any version-2 document of theirs).
pub fn read(bytes: &[u8]) -> Result<Document<Report>, serde_json::Error> {
    serde_json::from_slice(bytes)
}
