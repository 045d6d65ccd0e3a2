//! airlock: check and convert container image archives, fully offline.
//!
//! The data flow, one folder per step:
//! `open` (read an input into a catalog of members, scanning each blob once) →
//! `model` (detect the format and build images from manifests) → `checks` (compare claims
//! with bytes) → `report` (human or JSON), or for `convert`, → `output` (staged, atomic).
//! `scan` holds the per-blob pipeline and `tarstream` the bounded tar reader both levels
//! use; `commands` and `convert` compose the steps.

pub mod checks;
pub mod checksums;
pub mod cli;
pub mod commands;
pub mod convert;
pub mod digest;
pub mod error;
pub mod exit;
pub mod export;
pub mod finding;
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
