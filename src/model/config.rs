//! The image config: what the checks need of it (diff_ids, history, platform). Read in one
//! pass by `formats::config`; everything else in it is skipped.

use crate::digest::Digest;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub diff_ids: Vec<Digest>,
    /// `None` when the config has no history at all (allowed).
    pub history: Option<Vec<HistoryEntry>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

impl HistoryEntry {
    /// Bytes of text it keeps.
    pub fn weight(&self) -> usize {
        [&self.created, &self.created_by, &self.comment].iter().map(|s| s.as_ref().map_or(0, String::len)).sum()
    }
}

/// Why a config cannot be used. `NoRootfs` is told apart: a config without one is not an
/// image config at all (an OCI artifact's `{}`), which decides image or artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Keys Go reads differently from airlock (`json_keys`): refused, never carried.
    Ambiguous(Vec<String>),
    /// No key Go would read as `rootfs`.
    NoRootfs,
    /// Anything else: not JSON, the wrong shape, a bad diffID, too large.
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Ambiguous(found) => write!(f, "ambiguous, refused: {}", found.join("; ")),
            ConfigError::NoRootfs => f.write_str("no rootfs"),
            ConfigError::Invalid(why) => f.write_str(why),
        }
    }
}

impl ImageConfig {
    /// History entries that made a layer, in order.
    pub fn layer_history(&self) -> Option<Vec<&HistoryEntry>> {
        self.history.as_ref().map(|h| h.iter().filter(|e| !e.empty_layer).collect())
    }

    /// Bytes of text kept from the config (its history), counted against the model's budget.
    pub fn weight(&self) -> usize {
        self.history.as_ref().map_or(0, |h| h.iter().map(HistoryEntry::weight).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(empty_layer: bool, created_by: &str) -> HistoryEntry {
        HistoryEntry { created: None, created_by: Some(created_by.into()), comment: None, empty_layer }
    }

    #[test]
    fn layer_history_skips_empty_layers_in_order() {
        let c = ImageConfig {
            os: None,
            architecture: None,
            variant: None,
            diff_ids: vec![],
            history: Some(vec![entry(true, "ENV a"), entry(false, "ADD x"), entry(true, "CMD"), entry(false, "RUN y")]),
        };
        let made: Vec<&str> = c.layer_history().unwrap().iter().map(|e| e.created_by.as_deref().unwrap()).collect();
        assert_eq!(made, ["ADD x", "RUN y"]);
        assert_eq!(c.weight(), "ENV a".len() + "ADD x".len() + "CMD".len() + "RUN y".len());
        assert!(ImageConfig { history: None, ..c }.layer_history().is_none());
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert_eq!(ConfigError::Ambiguous(vec!["a".into(), "b".into()]).to_string(), "ambiguous, refused: a; b");
        assert_eq!(ConfigError::NoRootfs.to_string(), "no rootfs");
    }
}
