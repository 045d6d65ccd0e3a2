//! airlock: check and convert container image archives, fully offline.
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
//! earlier one (README, "Code layout").

// No function over 80 lines (clippy.toml sets the threshold; comments and blank lines do not
// count).
#![warn(clippy::too_many_lines)]

pub mod checks;
pub mod checksums;
pub mod cli;
pub mod commands;
pub mod convert;
pub mod delta;
pub mod digest;
pub mod error;
pub mod exit;
pub mod export;
pub mod finding;
pub mod formats;
pub mod input;
pub mod lock;
pub mod model;
pub mod open;
pub mod output;
pub mod policy;
pub mod progress;
pub mod report;
pub mod scan;
pub mod signatures;
pub mod targets;
pub mod tarstream;
#[doc(hidden)]
pub mod testing;
