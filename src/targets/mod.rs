//! `verify --target NAME[@VERSION]`: will this runtime load this input, the way users load
//! archives there?
//!
//! - `docker@20.10|23|24|25|29`: `docker load` (29: the containerd image store default);
//! - `containerd@1.6|1.7|2`: `ctr images import --all-platforms`, as k3s and RKE2 import;
//! - `k3s`, `rke2`: their containerd, fed by their own agent-images loader, which picks the
//!   decompressor by file extension and caps the zstd window at 32 MiB;
//! - `podman@4|5`: `podman load`.
//!
//! `profile` reads the facts of an input the rules need; `rules` holds the rule table, each
//! rule with the version that lifts it and its source. A version resolves to the newest known
//! rule set at or below it (`docker@24.0.7` → docker 24); a bare name to the newest.

pub mod fit;
pub mod profile;
pub mod rules;

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Docker,
    Containerd,
    K3s,
    Rke2,
    Podman,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::K3s => "k3s",
            Runtime::Rke2 => "rke2",
            Runtime::Podman => "podman",
        }
    }

    /// The rule sets airlock knows, oldest first (major, minor).
    fn versions(self) -> &'static [(u32, u32)] {
        match self {
            Runtime::Docker => &[(20, 10), (23, 0), (24, 0), (25, 0), (29, 0)],
            Runtime::Containerd => &[(1, 6), (1, 7), (2, 0)],
            Runtime::Podman => &[(4, 0), (5, 0)],
            // One rule set: their loader has not changed in the respects checked here.
            Runtime::K3s | Runtime::Rke2 => &[(0, 0)],
        }
    }

    const ALL: [Runtime; 5] = [Runtime::Docker, Runtime::Containerd, Runtime::K3s, Runtime::Rke2, Runtime::Podman];
}

/// The real runtimes tests/interop.rs loads every archive of its corpus into (scripts/
/// real-tools.sh brings them up), by the name used there, and exactly what runs. A rule set
/// one of these resolves to is measured; the others come from the runtimes' sources.
pub const MEASURED: &[(&str, &str)] = &[
    ("docker@20.10", "docker 20.10.24"),
    ("docker@26.1", "docker 26.1.5"),
    ("docker@28.5", "docker 28.5.2"),
    ("docker@29", "docker 28.5.2 with the containerd image store (Docker 29's default)"),
    ("containerd@1.6", "containerd 1.6.20"),
    ("containerd@1.7", "containerd 1.7.24"),
    ("containerd@2.1", "containerd 2.1.9"),
    ("podman@4.3", "podman 4.3.1"),
    ("podman@5.4", "podman 5.4.2"),
];

/// A resolved target: a runtime and the rule set (version) it loads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub runtime: Runtime,
    pub version: (u32, u32),
}

impl Target {
    /// Parses `NAME[@VERSION]`. An unknown name, a version that is not numbers, or one older
    /// than every rule set airlock knows is a usage error naming what is known.
    pub fn parse(s: &str) -> Result<Target, String> {
        let (name, version) = match s.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        let runtime = Runtime::ALL.iter().copied().find(|r| r.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Runtime::ALL.iter().map(|r| r.name()).collect();
            format!("unknown target {name:?}; known: {}", names.join(", "))
        })?;
        let known = runtime.versions();
        let newest = *known.last().expect("every runtime has a rule set");
        let Some(v) = version else {
            return Ok(Target { runtime, version: newest });
        };
        if matches!(runtime, Runtime::K3s | Runtime::Rke2) {
            parse_version(v).ok_or_else(|| format!("{s}: {v:?} is not a version"))?;
            return Ok(Target { runtime, version: newest });
        }
        let want = parse_version(v).ok_or_else(|| format!("{s}: {v:?} is not a version (MAJOR[.MINOR[.PATCH]])"))?;
        known.iter().rev().copied().find(|k| *k <= want).map(|version| Target { runtime, version }).ok_or_else(|| {
            let list: Vec<String> = known.iter().map(|k| show(runtime, *k)).collect();
            format!("{s}: airlock knows {} (and later) only", list.join(", "))
        })
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= (major, minor)
    }

    /// The runtimes of `names` (from [`MEASURED`]) that load with this rule set, as they ran.
    pub fn measured_among(&self, names: &[&str]) -> Vec<&'static str> {
        MEASURED
            .iter()
            .filter(|(n, _)| names.contains(n) && Target::parse(n).is_ok_and(|t| t == *self))
            .map(|(_, what)| *what)
            .collect()
    }

    /// The runtimes this rule set was measured with (none: from sources only).
    pub fn measured_with(&self) -> Vec<&'static str> {
        let all: Vec<&str> = MEASURED.iter().map(|(n, _)| *n).collect();
        self.measured_among(&all)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show(self.runtime, self.version))
    }
}

fn show(r: Runtime, (major, minor): (u32, u32)) -> String {
    match r {
        Runtime::K3s | Runtime::Rke2 => r.name().to_string(),
        Runtime::Docker if minor != 0 => format!("docker@{major}.{minor}"),
        Runtime::Containerd if major == 1 => format!("containerd@{major}.{minor}"),
        _ => format!("{}@{major}", r.name()),
    }
}

/// `24`, `24.0`, `24.0.7` → (24, 0); a leading `v` is allowed.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    // Patch (and anything after, like 1.7.13+k3s1) does not change the rule set.
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_resolve_to_the_newest_rule_set_at_or_below() {
        let t = |s: &str| Target::parse(s).map(|t| t.to_string());
        assert_eq!(t("docker").unwrap(), "docker@29");
        assert_eq!(t("docker@24.0.7").unwrap(), "docker@24");
        assert_eq!(t("docker@20.10.24").unwrap(), "docker@20.10");
        assert_eq!(t("docker@28").unwrap(), "docker@25");
        assert_eq!(t("podman@4.3").unwrap(), "podman@4");
        assert_eq!(t("containerd@1.6.20").unwrap(), "containerd@1.6");
        assert_eq!(t("containerd@2.1").unwrap(), "containerd@2");
        assert_eq!(t("k3s@v1.30.2+k3s1").unwrap(), "k3s");
        assert!(t("docker@19.03").unwrap_err().contains("docker@20.10"));
        assert!(t("dockr").unwrap_err().contains("known: docker, containerd"));
        assert!(t("podman@four").is_err());
    }
}
