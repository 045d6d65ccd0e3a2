//! The rule table: what keeps a runtime from loading an input, or changes it on the way,
//! each with the version that lifts it, its source, and the real runtimes it was measured
//! with. "Measured" means: tests/interop.rs (`target_predictions_match_the_real_runtimes`)
//! loads every archive of its corpus into that runtime, the rule fires there on at least one
//! of them, and every prediction agrees with what the runtime did (see
//! `crate::targets::MEASURED` for the exact versions). A rule measured with none of them says
//! so in its finding, with its source.

use super::profile::Profile;
use super::{Runtime, Target};
use crate::finding::{Code, Finding};
use crate::scan::Compression;

pub struct Rule {
    pub id: &'static str,
    pub code: Code,
    /// Which targets it is checked for.
    pub applies: fn(&Target) -> bool,
    /// The problem with this input, if there is one.
    pub check: fn(&Target, &Profile) -> Option<String>,
    /// What lifts it (a version, or how the user works around it).
    pub lifted: &'static str,
    pub source: &'static str,
    /// The runtimes of `crate::targets::MEASURED` (by name) it was measured with.
    pub measured: &'static [&'static str],
}

fn graph_driver_docker(t: &Target) -> bool {
    t.runtime == Runtime::Docker && !t.at_least(29, 0)
}
fn containerd_like(t: &Target) -> bool {
    matches!(t.runtime, Runtime::Containerd | Runtime::K3s | Runtime::Rke2)
}
fn k3s_like(t: &Target) -> bool {
    matches!(t.runtime, Runtime::K3s | Runtime::Rke2)
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "stream-not-directory",
        code: Code::TargetFormatUnsupported,
        applies: |t| t.runtime != Runtime::Podman,
        check: |_, p| p.is_dir.then(|| "loads a tar file, not a directory".to_string()),
        lifted: "no version; tar the layout first (tar -C DIR -cf OUT.tar .), or use podman, which loads an OCI layout directory",
        source: "docker load / ctr images import read one tar stream; k3s imports files of its images directory",
        measured: &[
            "docker@20.10",
            "docker@26.1",
            "docker@28.5",
            "docker@29",
            "containerd@1.6",
            "containerd@1.7",
            "containerd@2.1",
        ],
    },
    Rule {
        id: "docker-needs-manifest-json",
        code: Code::TargetFormatUnsupported,
        applies: graph_driver_docker,
        check: |_, p| {
            (!p.is_dir && !p.manifest_json && p.index_json)
                .then(|| "docker load reads manifest.json, and this archive has only an OCI index.json".to_string())
        },
        lifted: "docker 29 (the containerd image store, the default from 29; 24-28 with that store enabled); or convert --to docker",
        source: "moby image/tarexport/load.go (manifest.json, else the legacy layout); OCI loading came with the containerd store (moby#43822, moby#44162). Measured: docker 20.10, 26.1 and 28.5 fail with 'open …/blobs/json'",
        measured: &["docker@20.10", "docker@26.1", "docker@28.5"],
    },
    Rule {
        id: "docker-zstd-archive",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Docker && !t.at_least(23, 0),
        check: |_, p| {
            (p.outer == Compression::Zstd).then(|| "docker load cannot decompress a zstd-wrapped archive".into())
        },
        lifted: "docker 23.0 (or decompress first: zstd -dc FILE | docker load)",
        source: "moby#41759 (zstd in pkg/archive DecompressStream, Docker 23.0; docker/cli#4667). Measured: docker 20.10 'archive/tar: invalid tar header'; 26.1 and 28.5 load",
        measured: &["docker@20.10"],
    },
    Rule {
        id: "docker-lz4-archive",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Docker,
        check: |_, p| {
            (p.outer == Compression::Lz4).then(|| "docker load cannot decompress an lz4-wrapped archive".into())
        },
        lifted: "no version (decompress first: lz4 -dc FILE | docker load)",
        source: "moby pkg/archive DecompressStream: gzip, bzip2, xz, zstd; containerd's: gzip, zstd",
        measured: &["docker@20.10", "docker@26.1", "docker@28.5", "docker@29"],
    },
    Rule {
        id: "podman-lz4-archive",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Podman,
        check: |_, p| {
            (p.outer == Compression::Lz4).then(|| "podman load cannot decompress an lz4-wrapped archive".into())
        },
        lifted: "no version (decompress first)",
        source: "containers/image pkg/compression: gzip, bzip2, xz, zstd",
        measured: &["podman@4.3", "podman@5.4"],
    },
    Rule {
        id: "docker-zstd-layers",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Docker && !t.at_least(23, 0),
        check: |_, p| {
            (p.zstd_layers > 0 && p.manifest_json)
                .then(|| format!("{} zstd-compressed layer(s): docker cannot decompress zstd layers", p.zstd_layers))
        },
        lifted: "docker 23.0 (or convert --to docker, which re-compresses zstd layers to gzip)",
        source: "moby#41759 (Docker 23.0). Measured: docker 20.10 'ApplyLayer … archive/tar: invalid tar header'; 26.1 and 28.5 load",
        measured: &["docker@20.10"],
    },
    Rule {
        id: "ctr-plain-tar-only",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Containerd && !t.at_least(2, 0),
        check: |_, p| {
            (!p.is_dir && p.outer != Compression::None)
                .then(|| format!("ctr images import reads a plain tar; this one is {}-compressed", p.outer.as_str()))
        },
        lifted: "containerd 2.0 for gzip and zstd; or decompress first, or place it in k3s/RKE2's agent images directory, whose loader decompresses by extension",
        source: "containerd 1.x core/images/archive/importer.go reads the stream as tar. Measured: ctr 1.6 and 1.7 'archive/tar: invalid tar header' for gzip, zstd, bzip2 and lz4",
        measured: &["containerd@1.6", "containerd@1.7"],
    },
    Rule {
        id: "ctr2-gzip-zstd-only",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Containerd && t.at_least(2, 0),
        check: |_, p| {
            (!p.is_dir && !matches!(p.outer, Compression::None | Compression::Gzip | Compression::Zstd)).then(|| {
                format!(
                    "ctr images import decompresses gzip and zstd only; this one is {}-compressed",
                    p.outer.as_str()
                )
            })
        },
        lifted: "no version (containerd#10241 and #10260, bzip2 and xz, were not merged); decompress first",
        source: "containerd 2 `ctr images import` goes through the transfer service, whose importer decompresses with compression.DecompressStream (gzip, zstd; containerd#9864); `ctr images import --local` still reads a plain tar only. Measured: ctr 2.1 loads gzip and zstd, fails on bzip2 and lz4 ('archive/tar: invalid tar header')",
        measured: &["containerd@2.1"],
    },
    Rule {
        id: "zstd-layer-window-over-go-limit",
        code: Code::TargetCompressionUnsupported,
        applies: |t| !(t.runtime == Runtime::Docker && t.at_least(29, 0)),
        check: |_, p| {
            (p.zstd_layers_over_go_limit > 0).then(|| {
                format!("{} zstd layer(s) need a window over 512 MiB, which Go's zstd decoder refuses ('window size exceeded')", p.zstd_layers_over_go_limit)
            })
        },
        lifted: "no version; recompress the layers (zstd --long=29 or less)",
        source: "klauspost/compress zstd MaxWindowSize = 1<<29, used by moby, containerd and containers/image. Measured: docker 26.1, 28.5, ctr 1.6, 1.7, 2.1, podman 4.3, 5.4 fail on 1 GiB windows and load 512 MiB; docker 28.5 with the containerd image store loads and unpacks even 2 GiB windows (so docker 29 is not held to it)",
        measured: &[
            "docker@20.10",
            "docker@26.1",
            "docker@28.5",
            "containerd@1.6",
            "containerd@1.7",
            "containerd@2.1",
            "podman@4.3",
            "podman@5.4",
        ],
    },
    Rule {
        id: "all-platforms-partial-index",
        code: Code::TargetPlatformMissing,
        applies: containerd_like,
        check: |_, p| {
            (!p.absent_platforms.is_empty()).then(|| {
                format!(
                    "importing all platforms needs every platform's blobs, and {} are absent (a partial export)",
                    p.absent_platforms.join(", ")
                )
            })
        },
        lifted: "no version; export every platform (ctr images export --all-platforms, docker save without --platform), or import without --all-platforms",
        source: "ctr images import --all-platforms; k3s/RKE2 preloadFile imports WithAllPlatforms(true) (k3s pkg/agent/containerd/containerd.go). Measured: ctr 1.6, 1.7, 2.1 'content digest … not found'",
        measured: &["containerd@1.6", "containerd@1.7", "containerd@2.1"],
    },
    Rule {
        id: "k3s-extension",
        code: Code::TargetExtensionMismatch,
        applies: k3s_like,
        check: |_, p| {
            if p.is_dir {
                return None;
            }
            let by_name = by_extension(&p.name);
            match by_name {
                None => Some(format!(
                    "the name {:?} has no extension its loader handles (.tar, .tar.gz/.tgz, .tar.zst/.tzst, .tar.lz4, .tar.bz2/.tbz): it is skipped as an unhandled file type",
                    p.name
                )),
                Some(want) if want != p.outer => Some(format!(
                    "the name {:?} makes its loader read it as {}, but the file is {}",
                    p.name,
                    want.as_str(),
                    p.outer.as_str()
                )),
                Some(_) => None,
            }
        },
        lifted: "no version; name the file for its content",
        source: "k3s pkg/agent/containerd/containerd.go preloadFile: the decompressor follows the file name (RKE2 uses the same agent)",
        measured: &[],
    },
    Rule {
        id: "k3s-zstd-window",
        code: Code::TargetZstdWindow,
        applies: k3s_like,
        check: |_, p| {
            p.outer_zstd_window
                .filter(|w| *w > 1 << 25)
                .map(|w| format!("the zstd frame needs a {} MiB window; the loader allows 32 MiB", w >> 20))
        },
        lifted: "no version; compress with zstd --long=25 or less (as k3s's own airgap tarballs are)",
        source: "k3s preloadFile: zstd.WithDecoderMaxMemory(untar.MaxDecoderMemory), 1<<25 (rancher/wharfie), on the airgap tarball only (layers are unpacked by its containerd, with Go's 512 MiB limit); k3s scripts/package-airgap: zstd --long=25",
        measured: &[],
    },
    Rule {
        id: "podman-zstd-skippable-frame",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Podman,
        check: |_, p| {
            p.outer_zstd_skippable_first.then(|| {
                "podman load does not recognise a zstd stream that starts with a skippable frame (as pzstd writes) and fails ('archive/tar: invalid tar header')".into()
            })
        },
        lifted: "no version; recompress with zstd, or decompress first",
        source: "containers/image pkg/compression detects zstd by the frame magic 28 b5 2f fd only (moby and containerd also accept skippable frames). Measured: podman 4.3.1 and 5.4.2 fail; docker 26.1, 28.5 and ctr 2.1 load",
        measured: &["podman@4.3", "podman@5.4"],
    },
    Rule {
        id: "podman-oci-archive-one-image",
        code: Code::TargetFormatUnsupported,
        applies: |t| t.runtime == Runtime::Podman,
        check: |_, p| {
            (!p.is_dir && p.index_json && !p.manifest_json && p.index_entries > 1).then(|| {
                format!("podman load reads an OCI archive as one image, and index.json lists {} ('more than one image in oci, choose an image')", p.index_entries)
            })
        },
        lifted: "no version; convert --to docker (podman loads every image of a docker-archive), or one image per archive",
        source: "containers/image oci/archive + oci/layout: an index of several images needs a reference. Measured: podman 4.3.1 and 5.4.2",
        measured: &["podman@4.3", "podman@5.4"],
    },
    Rule {
        id: "podman4-layout-directory-name",
        code: Code::TargetFormatUnsupported,
        applies: |t| t.runtime == Runtime::Podman && !t.at_least(5, 0),
        check: |_, p| {
            let path = p.dir_path.as_deref()?;
            (!super::profile::podman4_names_dir(path)).then(|| {
                format!("podman load names an OCI layout directory after its path (localhost/{}), and that is not a valid image name ('invalid reference format')", path.trim_start_matches('/'))
            })
        },
        lifted: "podman 5 (measured: 5.4.2 loads it); or load it from a path of lower-case letters, digits and single separators, or tar it",
        source: "podman 4 load tries the oci: transport with the path as the image name. Measured: podman 4.3.1 fails on a layout under /tmp/.tmpXXXX ('repository name must be lowercase'), podman 5.4.2 loads it",
        measured: &["podman@4.3"],
    },
    Rule {
        id: "podman4-gzip-docker-archive",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Podman && !t.at_least(5, 0),
        check: |_, p| {
            // podman tries the archive as an OCI archive first, which takes an index of exactly
            // one image; otherwise it falls to the docker-archive reader, which fails here.
            let oci_path = p.index_json && p.index_entries == 1;
            (p.outer == Compression::Gzip && p.manifest_json && !oci_path).then(|| {
                "podman load fails on a gzip-wrapped docker-archive ('loading tar component manifest.json: unexpected EOF')".into()
            })
        },
        lifted: "podman 5 (measured: 5.4.2 loads them); or decompress first, or wrap in zstd, which podman 4.3 loads",
        source: "Measured: podman 4.3.1 (containers/image 5.23) fails on every gzip-wrapped docker-archive fixture, and loads the same archives wrapped in zstd; podman 5.4.2 loads both",
        measured: &["podman@4.3"],
    },
    Rule {
        id: "manifest-json-zstd-labelled-gzip",
        code: Code::TargetLoadChanges,
        applies: containerd_like,
        check: |_, p| {
            (p.zstd_layers > 0 && p.manifest_json && !p.index_json).then(|| {
                format!("{} zstd layer(s) are recorded with gzip media types (containerd reads manifest.json that way); they unpack, but the stored manifest says gzip", p.zstd_layers)
            })
        },
        lifted: "load an archive with index.json (convert --to docker or oci-archive)",
        source: "containerd core/images/archive/importer.go (manifest.json layers typed as gzip). ctr 1.6, 1.7 and 2.1 import and unpack it (measured); the recorded media type is not checked by the tests",
        measured: &[],
    },
    Rule {
        id: "docker-skips-artifacts",
        code: Code::TargetLoadChanges,
        applies: graph_driver_docker,
        check: |_, p| {
            (p.artifacts > 0 && p.manifest_json).then(|| {
                format!("{} attestation/signature manifest(s) are not loaded (docker load reads manifest.json's images only)", p.artifacts)
            })
        },
        lifted: "docker 29 (the containerd image store keeps the index)",
        source: "moby image/tarexport/load.go reads manifest.json",
        measured: &[],
    },
    Rule {
        id: "docker-untagged",
        code: Code::TargetLoadChanges,
        applies: |t| t.runtime == Runtime::Docker,
        check: |_, p| {
            (p.untagged > 0 && !p.is_dir)
                .then(|| format!("{} image(s) have no tag and load untagged (<none> in docker images)", p.untagged))
        },
        lifted: "convert --tag NAME:TAG",
        source: "moby image/tarexport/load.go: RepoTags name the images",
        measured: &[],
    },
];

/// What k3s's loader decompresses a file as, by name; `None` for a name it skips.
fn by_extension(name: &str) -> Option<Compression> {
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if ends(&[".tar"]) {
        Some(Compression::None)
    } else if ends(&[".tar.lz4"]) {
        Some(Compression::Lz4)
    } else if ends(&[".tar.bz2", ".tbz"]) {
        Some(Compression::Bzip2)
    } else if ends(&[".tar.gz", ".tgz"]) {
        Some(Compression::Gzip)
    } else if ends(&["tar.zst", ".tzst"]) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

/// The findings of one target for one input.
pub fn evaluate(target: &Target, p: &Profile) -> Vec<Finding> {
    RULES
        .iter()
        .filter(|r| (r.applies)(target))
        .filter_map(|r| {
            let what = (r.check)(target, p)?;
            let measured = target.measured_among(r.measured);
            let how = if measured.is_empty() {
                format!("not measured for {target}; source: {}", r.source)
            } else {
                format!("measured: {}", measured.join(", "))
            };
            let msg = if r.code == Code::TargetLoadChanges {
                format!("{target}: {what} [{}; {how}]", r.id)
            } else {
                format!("{target} will not load this: {what} [{}; lifted: {}; {how}]", r.id, r.lifted)
            };
            Some(Finding::new(r.code, msg))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_runtimes_are_known() {
        for r in RULES {
            for m in r.measured {
                assert!(crate::targets::MEASURED.iter().any(|(n, _)| n == m), "{}: unknown runtime {m}", r.id);
                let t = Target::parse(m).unwrap();
                assert!((r.applies)(&t), "{}: measured with {m}, which it does not apply to", r.id);
            }
        }
    }

    /// A plain docker archive on a file: no rule fires on it for any target.
    fn plain() -> Profile {
        Profile {
            name: "app.tar".into(),
            is_dir: false,
            dir_path: None,
            outer: Compression::None,
            outer_zstd_window: None,
            outer_zstd_skippable_first: false,
            manifest_json: true,
            index_json: false,
            index_entries: 0,
            zstd_layers: 0,
            zstd_layers_over_go_limit: 0,
            absent_platforms: vec![],
            artifacts: 0,
            untagged: 0,
        }
    }

    fn oci_archive(p: &mut Profile) {
        p.manifest_json = false;
        p.index_json = true;
        p.index_entries = 1;
    }

    const TARGETS: &[&str] = &[
        "docker@20.10",
        "docker@23",
        "docker@24",
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

    /// The rules that fire for `target` on `p`, by id.
    fn fired(target: &str, p: &Profile) -> Vec<&'static str> {
        let t = Target::parse(target).unwrap();
        let got: Vec<&str> =
            RULES.iter().filter(|r| (r.applies)(&t) && (r.check)(&t, p).is_some()).map(|r| r.id).collect();
        // `evaluate` reports exactly those, each with its id and its code.
        let findings = evaluate(&t, p);
        assert_eq!(findings.len(), got.len(), "{target}");
        for (f, id) in findings.iter().zip(&got) {
            let rule = RULES.iter().find(|r| r.id == *id).unwrap();
            assert_eq!(f.code, rule.code, "{target} {id}");
            assert!(f.message.contains(&format!("[{id}; ")), "{target}: {}", f.message);
        }
        got
    }

    #[test]
    fn a_plain_docker_archive_fires_no_rule() {
        for t in TARGETS {
            assert_eq!(fired(t, &plain()), Vec::<&str>::new(), "{t}");
        }
    }

    /// A minimal input that triggers a rule: what changes from [`plain`], and for some targets
    /// the rule applies to and some it does not, exactly the rules that fire.
    struct Case {
        what: &'static str,
        change: fn(&mut Profile),
        fires: &'static [(&'static str, &'static [&'static str])],
    }

    const CASES: &[Case] = &[
        Case {
            what: "a layout directory",
            change: |p| {
                oci_archive(p);
                p.is_dir = true;
                p.dir_path = Some("/srv/app-oci".into());
            },
            fires: &[
                ("docker@20.10", &["stream-not-directory"]),
                ("containerd@2", &["stream-not-directory"]),
                ("k3s", &["stream-not-directory"]),
                ("podman@4", &[]),
            ],
        },
        Case {
            what: "a layout directory podman 4 cannot name",
            change: |p| {
                p.is_dir = true;
                p.dir_path = Some("/tmp/.tmpk1H3pL/layout".into());
            },
            fires: &[("podman@4", &["podman4-layout-directory-name"]), ("podman@5", &[])],
        },
        Case {
            what: "an OCI archive",
            change: oci_archive,
            fires: &[
                ("docker@25", &["docker-needs-manifest-json"]),
                ("docker@29", &[]),
                ("podman@4", &[]),
                ("containerd@1.6", &[]),
            ],
        },
        Case {
            what: "an OCI archive of two images",
            change: |p| {
                oci_archive(p);
                p.index_entries = 2;
            },
            fires: &[
                ("podman@5", &["podman-oci-archive-one-image"]),
                ("docker@20.10", &["docker-needs-manifest-json"]),
                ("containerd@2", &[]),
            ],
        },
        Case {
            what: "a zstd-wrapped archive",
            change: |p| zstd_wrapped(p, 8 << 20),
            fires: &[
                ("docker@20.10", &["docker-zstd-archive"]),
                ("docker@23", &[]),
                ("containerd@1.7", &["ctr-plain-tar-only"]),
                ("containerd@2", &[]),
                ("k3s", &[]),
                ("podman@5", &[]),
            ],
        },
        Case {
            what: "a zstd frame with a 64 MiB window",
            change: |p| zstd_wrapped(p, 64 << 20),
            fires: &[("k3s", &["k3s-zstd-window"]), ("rke2", &["k3s-zstd-window"]), ("containerd@2", &[])],
        },
        Case {
            what: "a zstd stream that starts with a skippable frame",
            change: |p| {
                zstd_wrapped(p, 8 << 20);
                p.outer_zstd_skippable_first = true;
            },
            fires: &[
                ("podman@4", &["podman-zstd-skippable-frame"]),
                ("podman@5", &["podman-zstd-skippable-frame"]),
                ("docker@29", &[]),
            ],
        },
        Case {
            what: "an lz4-wrapped archive",
            change: |p| {
                p.name = "app.tar.lz4".into();
                p.outer = Compression::Lz4;
            },
            fires: &[
                ("docker@29", &["docker-lz4-archive"]),
                ("podman@5", &["podman-lz4-archive"]),
                ("containerd@2", &["ctr2-gzip-zstd-only"]),
                ("k3s", &[]),
            ],
        },
        Case {
            what: "a gzip-wrapped docker archive",
            change: gzip_wrapped,
            fires: &[
                ("podman@4", &["podman4-gzip-docker-archive"]),
                ("podman@5", &[]),
                ("containerd@1.6", &["ctr-plain-tar-only"]),
                ("containerd@2", &[]),
                ("docker@20.10", &[]),
            ],
        },
        Case {
            what: "a gzip-wrapped archive of one image, with manifest.json and index.json",
            change: |p| {
                gzip_wrapped(p);
                p.index_json = true;
                p.index_entries = 1;
            },
            fires: &[("podman@4", &[])],
        },
        Case {
            what: "zstd layers beside manifest.json only",
            change: |p| p.zstd_layers = 2,
            fires: &[
                ("docker@20.10", &["docker-zstd-layers"]),
                ("docker@23", &[]),
                ("containerd@1.7", &["manifest-json-zstd-labelled-gzip"]),
                ("k3s", &["manifest-json-zstd-labelled-gzip"]),
                ("podman@5", &[]),
            ],
        },
        Case {
            what: "zstd layers with an index",
            change: |p| {
                p.zstd_layers = 2;
                p.index_json = true;
            },
            fires: &[("containerd@1.7", &[]), ("docker@20.10", &["docker-zstd-layers"])],
        },
        Case {
            what: "a zstd layer with a window over Go's limit",
            change: |p| p.zstd_layers_over_go_limit = 1,
            fires: &[
                ("docker@25", &["zstd-layer-window-over-go-limit"]),
                ("docker@29", &[]),
                ("containerd@2", &["zstd-layer-window-over-go-limit"]),
                ("podman@5", &["zstd-layer-window-over-go-limit"]),
            ],
        },
        Case {
            what: "a partial multi-platform export",
            change: |p| p.absent_platforms = vec!["linux/arm64".into()],
            fires: &[
                ("containerd@1.6", &["all-platforms-partial-index"]),
                ("rke2", &["all-platforms-partial-index"]),
                ("docker@29", &[]),
                ("podman@5", &[]),
            ],
        },
        Case {
            what: "a name k3s does not load",
            change: |p| p.name = "app.img".into(),
            fires: &[("k3s", &["k3s-extension"]), ("rke2", &["k3s-extension"]), ("docker@29", &[])],
        },
        Case {
            what: "a plain tar named .tar.gz",
            change: |p| p.name = "app.tar.gz".into(),
            fires: &[("k3s", &["k3s-extension"]), ("containerd@2", &[])],
        },
        Case {
            what: "signatures beside the images",
            change: |p| p.artifacts = 2,
            fires: &[("docker@25", &["docker-skips-artifacts"]), ("docker@29", &[]), ("containerd@2", &[])],
        },
        Case {
            what: "an untagged image",
            change: |p| p.untagged = 1,
            fires: &[
                ("docker@20.10", &["docker-untagged"]),
                ("docker@29", &["docker-untagged"]),
                ("containerd@2", &[]),
                ("podman@5", &[]),
            ],
        },
    ];

    fn zstd_wrapped(p: &mut Profile, window: u64) {
        p.name = "app.tar.zst".into();
        p.outer = Compression::Zstd;
        p.outer_zstd_window = Some(window);
    }

    fn gzip_wrapped(p: &mut Profile) {
        p.name = "app.tar.gz".into();
        p.outer = Compression::Gzip;
    }

    #[test]
    fn each_rule_fires_on_its_input_and_nowhere_else() {
        let mut seen = std::collections::BTreeSet::new();
        for case in CASES {
            let mut p = plain();
            (case.change)(&mut p);
            for (target, want) in case.fires {
                assert_eq!(fired(target, &p), *want, "{}, {target}", case.what);
                seen.extend(want.iter().copied());
            }
        }
        let all: std::collections::BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(seen, all, "every rule has a case that fires it");
    }
}
