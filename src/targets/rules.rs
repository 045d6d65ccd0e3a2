//! The rule table: what keeps a runtime from loading an input, or changes it on the way,
//! each with the version that lifts it and its source. "Measured" means run here against
//! the real runtime (docker 20.10.24, containerd 1.6.20 `ctr`, podman 4.3.1, Debian
//! bookworm), by tests/targets.rs on every fixture and generated variant.

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
        source: "moby image/tarexport/load.go (manifest.json, else the legacy layout); OCI loading came with the containerd store (moby#43822, moby#44162). Measured: docker 20.10 fails with 'open …/blobs/json'",
    },
    Rule {
        id: "docker-zstd-archive",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Docker && !t.at_least(23, 0),
        check: |_, p| {
            (p.outer == Compression::Zstd).then(|| "docker load cannot decompress a zstd-wrapped archive".into())
        },
        lifted: "docker 23.0 (or decompress first: zstd -dc FILE | docker load)",
        source: "moby#41759 (zstd in pkg/archive DecompressStream, Docker 23.0; docker/cli#4667). Measured: docker 20.10 'archive/tar: invalid tar header'",
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
        source: "moby#41759 (Docker 23.0). Measured: docker 20.10 'ApplyLayer … archive/tar: invalid tar header'",
    },
    Rule {
        id: "ctr-plain-tar-only",
        code: Code::TargetCompressionUnsupported,
        applies: |t| t.runtime == Runtime::Containerd,
        check: |_, p| {
            (!p.is_dir && p.outer != Compression::None)
                .then(|| format!("ctr images import reads a plain tar; this one is {}-compressed", p.outer.as_str()))
        },
        lifted: "no containerd release (containerd#9981; containerd#10241 unmerged); decompress first, or place it in k3s/RKE2's agent images directory, whose loader decompresses by extension",
        source: "containerd core/images/archive/importer.go reads the stream as tar. Measured: ctr 1.6 'archive/tar: invalid tar header' for gzip and zstd",
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
        source: "ctr images import --all-platforms; k3s/RKE2 preloadFile imports WithAllPlatforms(true) (k3s pkg/agent/containerd/containerd.go). Measured: ctr 1.6 'content digest … not found'",
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
        source: "k3s preloadFile: zstd.WithDecoderMaxMemory(untar.MaxDecoderMemory), 1<<25 (rancher/wharfie); k3s scripts/package-airgap: zstd --long=25",
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
        source: "containers/image oci/archive + oci/layout: an index of several images needs a reference. Measured: podman 4.3.1",
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
        lifted: "not known (measured on podman 4.3.1 only; podman 5 is not checked for it); decompress first, or wrap in zstd, which podman 4.3 loads",
        source: "Measured: podman 4.3.1 (containers/image 5.23) on every gzip-wrapped docker-archive fixture; the same archives wrapped in zstd load",
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
        source: "containerd core/images/archive/importer.go (manifest.json layers typed as gzip). Measured: ctr 1.6 imports and unpacks it",
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
            let msg = if r.code == Code::TargetLoadChanges {
                format!("{target}: {what} [{}]", r.id)
            } else {
                format!("{target} will not load this: {what} [{}; lifted: {}]", r.id, r.lifted)
            };
            Some(Finding::new(r.code, msg))
        })
        .collect()
}
