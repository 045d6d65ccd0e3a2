//! `convert --for TARGET`: the output that TARGET loads, chosen from the same rule table
//! `verify --target` uses ([`super::rules`]).
//!
//! The choice, per runtime (every output is a plain tar: every runtime reads one, containerd
//! before 2 reads nothing else, and k3s's loader takes `.tar` as a plain tar):
//! - docker before 29 and podman: a docker archive (`manifest.json`, which the graph-driver
//!   `docker load` needs and from which podman loads every image); airlock's docker format
//!   writes zstd layers as gzip, which docker before 23 needs. One platform per tag: a
//!   selection with several platforms under one tag needs `--platform`.
//! - docker 29 (the containerd store), containerd, k3s, rke2: a docker archive too (its
//!   `manifest.json` names the images for every loader); a selection with several platforms
//!   under one tag is written as an OCI archive instead, which keeps the multi-platform index.
//! - k3s, rke2: the file name must end in `.tar`, as their loader picks the decompressor by
//!   extension. `-o DIR` (an existing directory, such as their agent images directory)
//!   writes `DIR/NAME.tar`, NAME from the input's name.
//!
//! An index that lists platforms whose blobs are absent (a partial export) cannot be written
//! whole by any format: the output is reduced to the platforms present only when the user
//! asks for them with `--platform`. Every image ID is kept: configs are copied verbatim.
//!
//! The chosen output is held against the rules before anything is written ([`Choice::expected`]):
//! when TARGET would still refuse it, there is no fit.

use super::profile::Profile;
use super::{Runtime, Target, rules};
use crate::finding::Finding;
use crate::formats::output::OutputFormat as Format;
use crate::input::Loaded;
use crate::model::select::{self, Selection};
use crate::scan::Compression;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The facts of the input and the selection the choice depends on, beside its [`Profile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Some tag of the selection names images of several platforms.
    pub several_platforms_per_tag: bool,
    /// `--platform` was given.
    pub platform_given: bool,
}

impl Facts {
    /// From the opened input and the selection (an unmatched selection is left to convert,
    /// which names what the input holds).
    pub fn read(loaded: &Loaded, selection: &Selection) -> Facts {
        let chosen = select::select(&loaded.model, selection).unwrap_or_default();
        let mut by_tag: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for &i in &chosen {
            let im = &loaded.model.images[i];
            let p = select::platform_of(im).map(|p| p.to_string()).unwrap_or_default();
            for t in &im.tags {
                by_tag.entry(select::normalize(t)).or_default().insert(p.clone());
            }
        }
        Facts {
            several_platforms_per_tag: by_tag.values().any(|ps| ps.len() > 1),
            platform_given: selection.platform.is_some(),
        }
    }
}

/// What `--for TARGET` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub target: Target,
    pub format: Format,
    /// Why this format, zstd layers becoming gzip, the reduced index: one line each.
    pub notes: Vec<String>,
}

/// No output loads in the target; the message says why and what would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoFit(pub String);

impl std::fmt::Display for NoFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Chooses the output for `target` from the input's profile and facts.
pub fn choose(target: Target, input: &Profile, facts: &Facts) -> Result<Choice, NoFit> {
    if !input.absent_platforms.is_empty() && !facts.platform_given {
        return Err(NoFit(format!(
            "the input's index lists {} whose blobs are not in it (a partial export); no archive holds those platforms, so the output can only be reduced to the platforms present: give --platform to choose them (the index is reduced, with a note)",
            input.absent_platforms.join(", ")
        )));
    }
    if input.zstd_layers_over_go_limit > 0 {
        // airlock decodes zstd no further than Go does (`scan::compression::ZSTD_MAX_WINDOW_LOG`):
        // it can neither re-compress these layers nor check them, and convert refuses them.
        return Err(NoFit(format!(
            "{} zstd layer(s) need a window over 512 MiB, which airlock, like Go's zstd decoder (docker, containerd, podman), does not decode: it cannot write them as gzip; recompress them first (zstd --long=29 or less)",
            input.zstd_layers_over_go_limit
        )));
    }
    let docker_save_only =
        matches!(target.runtime, Runtime::Podman) || (target.runtime == Runtime::Docker && !target.at_least(29, 0));
    let mut notes = Vec::new();
    let format = if !facts.several_platforms_per_tag {
        notes.push("writes a docker archive (manifest.json and index.json), a plain tar".to_string());
        Format::Docker
    } else if docker_save_only {
        return Err(NoFit(format!(
            "{target} loads a docker archive, which holds one platform per tag, and a tag of the selection names several platforms: pick one with --platform"
        )));
    } else {
        notes.push("writes an OCI archive, a plain tar (a tag names several platforms: the index is kept)".to_string());
        Format::OciArchive
    };
    if format == Format::Docker && input.zstd_layers > 0 {
        let why = if target.runtime == Runtime::Docker && !target.at_least(23, 0) {
            "docker before 23 reads no zstd"
        } else {
            "the docker format's layers, which every runtime reads"
        };
        notes.push(format!("{} zstd layer(s) are written as gzip ({why}); the image IDs stay", input.zstd_layers));
    }
    if !input.absent_platforms.is_empty() {
        notes.push(format!(
            "the index is reduced to the platforms selected: {} (absent from the input) are left out",
            input.absent_platforms.join(", ")
        ));
    }
    let choice = Choice { target, format, notes };
    let expected = rules::evaluate(&target, &choice.expected(input, "out.tar"));
    if let Some(f) = expected.iter().find(|f| f.fails()) {
        return Err(NoFit(f.message.clone()));
    }
    Ok(choice)
}

impl Choice {
    /// The profile the output will have, as the rules see it: a plain tar named `name`.
    pub fn expected(&self, input: &Profile, name: &str) -> Profile {
        let docker = self.format == Format::Docker;
        Profile {
            name: name.to_lowercase(),
            is_dir: false,
            dir_path: None,
            outer: Compression::None,
            outer_zstd_window: None,
            outer_zstd_skippable_first: false,
            manifest_json: docker,
            index_json: true,
            index_entries: if docker { input.index_entries.max(1) } else { 1 },
            zstd_layers: if docker { 0 } else { input.zstd_layers },
            zstd_layers_over_go_limit: if docker { 0 } else { input.zstd_layers_over_go_limit },
            absent_platforms: Vec::new(),
            artifacts: if docker { 0 } else { input.artifacts },
            untagged: input.untagged,
        }
    }
}

/// Where the output goes: `-o DIR` (an existing directory) is `DIR/NAME.tar`, NAME the
/// input's name without its archive extensions; k3s and rke2 need a name ending in `.tar`.
pub fn output_path(target: &Target, input: &Path, output: &Path) -> Result<PathBuf, NoFit> {
    if output.as_os_str() == "-" {
        return Ok(output.to_path_buf());
    }
    let path = if output.is_dir() { output.join(format!("{}.tar", stem(input))) } else { output.to_path_buf() };
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    if matches!(target.runtime, Runtime::K3s | Runtime::Rke2) && !name.ends_with(".tar") {
        return Err(NoFit(format!(
            "{target} picks the decompressor by file extension, and airlock writes a plain tar, which it reads only as NAME.tar: name the output {}, or give its agent images directory as -o",
            path.with_file_name(format!("{}.tar", stem(&path))).display()
        )));
    }
    Ok(path)
}

/// The input's name without the extensions of an archive (`app.tar.zst` → `app`).
fn stem(input: &Path) -> String {
    let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    const EXTENSIONS: [&str; 11] =
        [".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.lz4", ".tar.bz2", ".tbz", ".oci.tar", ".tar", ".gz", ".zst"];
    let cut = EXTENSIONS.iter().find_map(|e| name.strip_suffix(e)).unwrap_or(&name);
    if cut.is_empty() { "image".into() } else { cut.to_string() }
}

/// The `--target` findings of `profile` for `target` (the prediction printed before and after).
pub fn predict(target: &Target, profile: &Profile) -> Vec<Finding> {
    rules::evaluate(target, profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-platform input as the rules see it: `outer` the whole-file wrapper, `zstd`
    /// its zstd layers, `docker` whether it has manifest.json (else an OCI index only).
    fn input(outer: Compression, zstd: usize, docker: bool, is_dir: bool) -> Profile {
        Profile {
            name: "in".into(),
            is_dir,
            dir_path: is_dir.then(|| "/srv/in".into()),
            outer,
            outer_zstd_window: (outer == Compression::Zstd).then_some(1 << 27),
            outer_zstd_skippable_first: false,
            manifest_json: docker,
            index_json: !docker,
            index_entries: 1,
            zstd_layers: zstd,
            zstd_layers_over_go_limit: 0,
            absent_platforms: Vec::new(),
            artifacts: 0,
            untagged: 0,
        }
    }

    const TARGETS: [&str; 11] = [
        "docker@20.10",
        "docker@23",
        "docker@25",
        "docker@29",
        "containerd@1.6",
        "containerd@1.7",
        "containerd@2",
        "k3s",
        "rke2",
        "podman@4",
        "podman@5",
    ];

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn every_target_gets_a_docker_archive_it_loads_for_one_platform_per_tag() {
        let inputs = [
            ("zstd-wrapped docker save", input(Compression::Zstd, 0, true, false)),
            ("gzip-wrapped docker save", input(Compression::Gzip, 0, true, false)),
            ("OCI layout with zstd layers", input(Compression::None, 3, false, true)),
            ("OCI archive with zstd layers", input(Compression::None, 3, false, false)),
        ];
        for target in TARGETS {
            for (what, p) in &inputs {
                let c = choose(t(target), p, &Facts::default()).unwrap_or_else(|e| panic!("{target}, {what}: {e}"));
                assert_eq!(c.format, Format::Docker, "{target}, {what}");
                let out = c.expected(p, "app.tar");
                assert_eq!((out.outer, out.zstd_layers, out.manifest_json), (Compression::None, 0, true));
                assert_eq!(predict(&t(target), &out), Vec::<Finding>::new(), "{target}, {what}: the output");
            }
        }
        // The input itself: each of these is refused somewhere, which is why --for exists.
        let refused = |p: &Profile| -> Vec<&str> {
            TARGETS.into_iter().filter(|s| predict(&t(s), p).iter().any(Finding::fails)).collect()
        };
        assert_eq!(refused(&inputs[0].1), ["docker@20.10", "containerd@1.6", "containerd@1.7", "k3s", "rke2"]);
        assert_eq!(refused(&inputs[1].1), ["containerd@1.6", "containerd@1.7", "k3s", "rke2", "podman@4"]);
    }

    #[test]
    fn zstd_layers_become_gzip_with_a_note() {
        let c = choose(t("docker@20.10"), &input(Compression::None, 2, false, false), &Facts::default()).unwrap();
        assert_eq!(
            c.notes,
            [
                "writes a docker archive (manifest.json and index.json), a plain tar",
                "2 zstd layer(s) are written as gzip (docker before 23 reads no zstd); the image IDs stay"
            ]
        );
    }

    #[test]
    fn several_platforms_under_one_tag() {
        let multi = Facts { several_platforms_per_tag: true, platform_given: false };
        let p = input(Compression::None, 0, false, true);
        for target in TARGETS {
            let got = choose(t(target), &p, &multi).map(|c| c.format);
            let want = match target {
                "docker@20.10" | "docker@23" | "docker@25" | "podman@4" | "podman@5" => Err(()),
                _ => Ok(Format::OciArchive),
            };
            assert_eq!(got.map_err(|e| assert!(e.0.contains("pick one with --platform"), "{e}")), want, "{target}");
        }
    }

    #[test]
    fn a_partial_index_is_reduced_only_with_platform() {
        let mut p = input(Compression::None, 0, true, false);
        p.index_json = true;
        p.absent_platforms = vec!["linux/arm64".into()];
        for target in TARGETS {
            let e = choose(t(target), &p, &Facts::default()).unwrap_err();
            assert!(e.0.starts_with("the input's index lists linux/arm64 whose blobs are not in it"), "{target}: {e}");
            let asked = Facts { several_platforms_per_tag: false, platform_given: true };
            let c = choose(t(target), &p, &asked).unwrap();
            assert_eq!(
                c.notes.last().unwrap(),
                "the index is reduced to the platforms selected: linux/arm64 (absent from the input) are left out"
            );
            assert_eq!(c.expected(&p, "a.tar").absent_platforms, Vec::<String>::new());
        }
    }

    #[test]
    fn output_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let k3s = t("k3s");
        assert_eq!(output_path(&k3s, Path::new("x/app.tar.zst"), d).unwrap(), d.join("app.tar"));
        assert_eq!(output_path(&k3s, Path::new("site-oci"), d).unwrap(), d.join("site-oci.tar"));
        assert_eq!(output_path(&k3s, Path::new("a"), Path::new("-")).unwrap(), Path::new("-"));
        let e = output_path(&t("rke2"), Path::new("a.tar"), &d.join("out.tar.zst")).unwrap_err();
        assert!(e.0.contains(&format!("name the output {}", d.join("out.tar").display())), "{e}");
        // Other runtimes read the content, whatever the name.
        assert_eq!(
            output_path(&t("docker@20.10"), Path::new("a.tar"), Path::new("o.img")).unwrap(),
            Path::new("o.img")
        );
        for (name, want) in [("app.tar.gz", "app"), ("app.oci.tar", "app"), ("app.tgz", "app"), (".tar", "image")] {
            assert_eq!(stem(Path::new(name)), want);
        }
    }
}
