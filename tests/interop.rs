//! `airlock convert` outputs fed to the real tools: skopeo, umoci, docker and containerd (`ctr`).
//!
//! Every test converts a fixture written by a real tool, hands the output to another real tool,
//! and compares what that tool reports (image ID = sha256 of the config, diffIDs, chainIDs,
//! manifest digest, tags) with `fixtures/expected/*.json`, i.e. with what the tools reported about
//! airlock's input.
//!
//! Which daemons a test may touch (tests/common/real_tools.rs): only those
//! `source scripts/real-tools.sh up` started in its state directory (`AIRLOCK_TOOLS_DIR`, default
//! `/tmp/airlock-tools`; it must hold the script's `airlock-real-tools` marker and list the
//! runtime in its `runtimes` file, and the daemon must report its data root there), or one the
//! user names explicitly: `AIRLOCK_INTEROP_DOCKER_HOST_TO_EMPTY=unix:///…` (every image in that
//! Docker is deleted) or `AIRLOCK_INTEROP_CONTAINERD_SOCK_TO_EMPTY=/…/containerd.sock` (the tests
//! import into namespaces `airlock-interop-…` there and remove them). `DOCKER_HOST`,
//! `DOCKER_CONTEXT`, `CONTAINERD_ADDRESS` and `CONTAINER_HOST` are never read. podman always runs
//! on stores in a temporary directory of the test (`--root`, `--runroot`, `--tmpdir`).
//! `interop_touches_only_the_projects_daemons` checks this rule itself.
//!
//! A test whose runtime or tool is missing is skipped with a `SKIPPED interop: …` line on stderr,
//! unless `AIRLOCK_REQUIRE_INTEROP=1` (CI), where it fails instead, and so does every runtime
//! real-tools.sh should have brought up and did not.
//!
//! The docker tests empty their daemon's store first (so that every layer is really loaded), so
//! they hold that daemon's lock; the containerd tests each use their own namespace.

mod common;

use common::real_tools::{self, Entry, Kind, Runtime};

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

// ---------------------------------------------------------------------------------------------
// Availability: skip, or fail under AIRLOCK_REQUIRE_INTEROP=1
// ---------------------------------------------------------------------------------------------

const HINT: &str = "run `source scripts/real-tools.sh up` first";

fn interop_required() -> bool {
    std::env::var("AIRLOCK_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// A test that cannot run here: fails under `AIRLOCK_REQUIRE_INTEROP=1`, otherwise says so on
/// stderr. Written to the process's stderr directly: `eprintln!` is captured by the test harness
/// and only shown for failing tests, and a skip must be visible in a normal `cargo test` run.
fn skip(test: &str, reason: &str) {
    if interop_required() {
        panic!("interop test {test} cannot run: {reason} (AIRLOCK_REQUIRE_INTEROP=1 is set; {HINT})");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED interop: {test}: {reason} ({HINT})");
}

/// A program: an absolute path as is, a bare name searched in PATH.
fn which(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    real_tools::which(name)
}

/// A tool that holds no state outside the paths a test gives it (skopeo, umoci, zstd…). The
/// container runtimes' clients are not tools: they come bound to the project's own daemons
/// through `docker(test)`, `containerd(test)` and `podman(test)`.
fn tool(test: &str, name: &str) -> Option<PathBuf> {
    let base = Path::new(name).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(
        !matches!(base.as_str(), "docker" | "dockerd" | "ctr" | "containerd" | "podman" | "nerdctl" | "buildah"),
        "{test}: `{name}` is a container runtime: use docker(test), containerd(test) or podman(test), which only \
         reach the daemons the project started"
    );
    let found = which(name);
    if found.is_none() {
        skip(test, &format!("`{name}` is not installed"));
    }
    found
}

/// Every runtime of `kind` a test may use. Each one real-tools.sh lists but could not bring
/// up or verify is skipped (a failure under AIRLOCK_REQUIRE_INTEROP=1), and so is each of
/// `real_tools::EXPECTED` that is not listed at all.
fn runtimes(test: &str, kind: Kind) -> Vec<Runtime> {
    let entries = real_tools::entries();
    let mut up = Vec::new();
    for e in entries {
        match e {
            Entry::Up(r) if r.kind == kind => up.push(r.clone()),
            Entry::Up(_) => {}
            Entry::Down { name, why } => {
                if kind_of_name(name) == Some(kind) {
                    skip(test, &format!("{name}: {why}"));
                }
            }
        }
    }
    if up.is_empty() || interop_required() {
        for want in real_tools::EXPECTED.iter().filter(|n| kind_of_name(n) == Some(kind)) {
            if !entries.iter().any(|e| e.name() == *want) {
                let why = real_tools::state_dir_problem().unwrap_or_else(|| "not listed in its runtimes file".into());
                skip(test, &format!("{want}: {why}"));
            }
        }
    }
    up
}

/// The one runtime of `kind` a single-runtime test uses: `preferred` (the system's version)
/// from the state directory, else the opt-in one.
fn one_runtime(test: &str, kind: Kind, preferred: &str) -> Option<Runtime> {
    let entries = real_tools::entries();
    let up = |e: &&Entry| matches!(e, Entry::Up(r) if r.kind == kind);
    if let Some(Entry::Up(r)) = entries.iter().find(|e| e.name() == preferred).filter(up) {
        return Some(r.clone());
    }
    if let Some(Entry::Up(r)) = entries.iter().find(|e| up(e) && matches!(e, Entry::Up(r) if r.opt_in)) {
        return Some(r.clone());
    }
    let why = match entries.iter().find(|e| e.name() == preferred) {
        Some(Entry::Down { why, .. }) => why.clone(),
        _ => real_tools::state_dir_problem().unwrap_or_else(|| "not listed in its runtimes file".into()),
    };
    skip(test, &format!("{preferred}: {why}"));
    None
}

fn kind_of_name(name: &str) -> Option<Kind> {
    match name.split(['@', ' ']).next()? {
        "docker" => Some(Kind::Docker),
        "containerd" => Some(Kind::Containerd),
        "podman" => Some(Kind::Podman),
        n if n == real_tools::DOCKER_OPT_IN => Some(Kind::Docker),
        n if n == real_tools::CONTAINERD_OPT_IN => Some(Kind::Containerd),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run `{}`: {e}", describe(cmd)))
}

/// Runs `cmd` and asserts it succeeded; the failure message holds the exact command line and the
/// tool's own output.
#[track_caller]
fn run_ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "`{}` failed ({}):\n--- stdout\n{}--- stderr\n{}",
        describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_of_bytes(what: &str, b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{what} is not JSON ({e}): {}", String::from_utf8_lossy(b)))
}

fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", common::sha256_hex(b))
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("not a sha256 digest: {digest}"))
}

/// `airlock convert INPUT --to TO -o OUT EXTRA…`, asserted to succeed.
#[track_caller]
fn convert(input: &Path, to: &str, out: &Path, extra: &[&str]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.env("NO_COLOR", "1").arg("convert").arg(input).args(["--to", to, "-q", "-o"]).arg(out).args(extra);
    run_ok(&mut cmd);
}

// ---------------------------------------------------------------------------------------------
// What the real tools reported about the fixtures
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Expected {
    image_id: String,
    diff_ids: Vec<String>,
    chain_ids: Vec<String>,
    /// The manifest stored in the fixture, if it stores one.
    manifest_digest: Option<String>,
}

fn expected_json(fixture: &str) -> Value {
    let p = common::fixture(&format!("expected/{fixture}.json"));
    json_of_bytes(&p.display().to_string(), &std::fs::read(&p).unwrap())
}

/// The expected values of the fixture's image of `platform`.
fn expected(fixture: &str, platform: &str) -> Expected {
    let v = expected_json(fixture);
    let imgs = v["images"].as_array().unwrap();
    let matching: Vec<&Value> = imgs.iter().filter(|i| i["platform"] == platform).collect();
    assert_eq!(matching.len(), 1, "{fixture}: expected one {platform} image in expected/{fixture}.json");
    let i = matching[0];
    let strings =
        |k: &str| -> Vec<String> { i[k].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect() };
    Expected {
        image_id: i["image_id"].as_str().unwrap().to_string(),
        diff_ids: strings("diff_ids"),
        chain_ids: strings("chain_ids"),
        manifest_digest: i["manifest_digest"].as_str().map(str::to_string),
    }
}

fn amd64(fixture: &str) -> Expected {
    expected(fixture, "linux/amd64")
}

// ---------------------------------------------------------------------------------------------
// Reading airlock's outputs
// ---------------------------------------------------------------------------------------------

/// index.json of an `oci` output directory, or of a tar output (`oci-archive`, `docker`).
fn index_json(out: &Path) -> Value {
    let bytes = if out.is_dir() {
        std::fs::read(out.join("index.json")).unwrap()
    } else {
        let ms = common::read_tar(out);
        let m = ms.iter().find(|m| m.path == "index.json" || m.path == "./index.json");
        m.unwrap_or_else(|| panic!("{}: no index.json", out.display())).data.clone()
    };
    json_of_bytes("index.json", &bytes)
}

/// The digest of index.json's single descriptor: what containerd, skopeo and umoci resolve.
fn index_digest(out: &Path) -> String {
    let idx = index_json(out);
    let ms = idx["manifests"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{}: index.json: one descriptor expected: {idx}", out.display());
    ms[0]["digest"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// skopeo
// ---------------------------------------------------------------------------------------------

struct Skopeo {
    bin: PathBuf,
}

fn skopeo(test: &str) -> Option<Skopeo> {
    tool(test, "skopeo").map(|bin| Skopeo { bin })
}

impl Skopeo {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("NO_COLOR", "1");
        c
    }

    fn inspect(&self, src: &str, extra: &[&str]) -> Vec<u8> {
        run_ok(self.cmd().arg("inspect").args(extra).arg(src)).stdout
    }

    /// `skopeo copy SRC dir:…`: skopeo verifies every blob's digest (and size) while copying.
    /// Returns the directory.
    fn copy_to_dir(&self, src: &str, tmp: &Path, name: &str, extra: &[&str]) -> PathBuf {
        let dst = tmp.join(name);
        let dst_ref = format!("dir:{}", dst.display());
        run_ok(self.cmd().args(["copy", "--insecure-policy"]).args(extra).args([src, dst_ref.as_str()]));
        dst
    }

    /// Checks one image as skopeo sees it in `src`: copies it (blob digests verified), then its
    /// config digest, config bytes and diffIDs against `exp`. Returns the raw manifest bytes.
    #[track_caller]
    fn check_image(&self, src: &str, exp: &Expected, tmp: &Path, name: &str) -> Vec<u8> {
        let copied = self.copy_to_dir(src, tmp, name, &[]);
        let raw = self.inspect(src, &["--raw"]);
        let m = json_of_bytes(&format!("skopeo inspect --raw {src}"), &raw);
        assert_eq!(m["config"]["digest"], exp.image_id.as_str(), "{src}: config digest (image ID) in {m}");
        assert_eq!(
            m["layers"].as_array().map(Vec::len),
            Some(exp.diff_ids.len()),
            "{src}: number of layers in the manifest {m}"
        );
        let config = self.inspect(src, &["--config", "--raw"]);
        assert_eq!(sha256(&config), exp.image_id, "{src}: sha256 of the config skopeo read");
        let c = json_of_bytes(&format!("skopeo inspect --config --raw {src}"), &config);
        assert_eq!(c["rootfs"]["diff_ids"], serde_json::json!(exp.diff_ids), "{src}: config rootfs.diff_ids");
        // What skopeo copied: the same config, every blob there under its digest.
        let dm = json_of_bytes("manifest.json of the dir: copy", &std::fs::read(copied.join("manifest.json")).unwrap());
        assert_eq!(dm["config"]["digest"], exp.image_id.as_str(), "{src}: config digest skopeo copied");
        let config_copy = std::fs::read(copied.join(hex(&exp.image_id))).unwrap();
        assert_eq!(sha256(&config_copy), exp.image_id, "{src}: config skopeo copied");
        for l in dm["layers"].as_array().unwrap() {
            let d = l["digest"].as_str().unwrap();
            let b = std::fs::read(copied.join(hex(d))).unwrap_or_else(|e| panic!("{src}: layer {d} not copied: {e}"));
            assert_eq!(sha256(&b), d, "{src}: layer blob skopeo copied");
        }
        raw
    }

    /// diffIDs recomputed by skopeo: `skopeo copy SRC docker-archive:…` decompresses every layer
    /// and names it by the sha256 of its uncompressed bytes. (skopeo 1.9 cannot write zstd layers
    /// to a docker-archive: only for uncompressed and gzip sources.)
    fn recomputed_diff_ids(&self, src: &str, tmp: &Path, name: &str) -> Vec<String> {
        let dst = tmp.join(format!("{name}.tar"));
        let dst_ref = format!("docker-archive:{}:airlock/recomputed:1", dst.display());
        run_ok(self.cmd().args(["copy", "--insecure-policy", src, dst_ref.as_str()]));
        let ms = common::read_tar(&dst);
        let manifest = ms.iter().find(|m| m.path == "manifest.json").expect("skopeo's manifest.json");
        let v = common::json_of(manifest);
        v[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let f = l.as_str().unwrap();
                let h = f.strip_suffix(".tar").unwrap_or_else(|| panic!("skopeo layer name {f}"));
                format!("sha256:{h}")
            })
            .collect()
    }
}

fn oci_ref(dir: &Path, r: &str) -> String {
    format!("oci:{}:{r}", dir.display())
}

fn oci_archive_ref(file: &Path, r: &str) -> String {
    format!("oci-archive:{}:{r}", file.display())
}

fn docker_archive_ref(file: &Path, tag: Option<&str>) -> String {
    match tag {
        Some(t) => format!("docker-archive:{}:{t}", file.display()),
        None => format!("docker-archive:{}", file.display()),
    }
}

#[test]
fn skopeo_reads_oci_layout_target() {
    let Some(sk) = skopeo("skopeo_reads_oci_layout_target") else { return };
    let exp = amd64("docker-save-legacy.tar");
    let tmp = common::tempdir();
    // docker save (uncompressed layers) → OCI layout, in every layer compression.
    for compression in ["keep", "gzip", "zstd", "none"] {
        let out = tmp.path().join(format!("oci-{compression}"));
        convert(&common::fixture("docker-save-legacy.tar"), "oci", &out, &["--compression", compression]);
        let src = oci_ref(&out, "1");
        let raw = sk.check_image(&src, &exp, tmp.path(), &format!("copy-{compression}"));
        // skopeo resolved ref "1" to the manifest index.json points at.
        assert_eq!(sha256(&raw), index_digest(&out), "{src}: manifest digest vs index.json");
        let info = json_of_bytes("skopeo inspect", &sk.inspect(&src, &[]));
        assert_eq!(info["Digest"], index_digest(&out).as_str(), "{src}: skopeo inspect .Digest");
        let media = json_of_bytes("manifest", &raw)["layers"][0]["mediaType"].as_str().unwrap().to_string();
        let want_media = match compression {
            "gzip" => "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd" => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => "application/vnd.oci.image.layer.v1.tar",
        };
        assert_eq!(media, want_media, "{src}: layer media type");
        if compression != "zstd" {
            let recomputed = sk.recomputed_diff_ids(&src, tmp.path(), &format!("re-{compression}"));
            assert_eq!(recomputed, exp.diff_ids, "{src}: diffIDs skopeo recomputed from the layers");
        }
    }
}

#[test]
fn skopeo_reads_oci_archive_target() {
    let Some(sk) = skopeo("skopeo_reads_oci_archive_target") else { return };
    let tmp = common::tempdir();

    // skopeo's own OCI layout (gzip) → oci-archive: nothing changes, the manifest keeps its digest.
    let exp = amd64("skopeo-oci-gzip");
    let out = tmp.path().join("gzip.oci.tar");
    convert(&common::fixture("skopeo-oci-gzip"), "oci-archive", &out, &[]);
    let src = oci_archive_ref(&out, "app-1");
    let raw = sk.check_image(&src, &exp, tmp.path(), "copy-gzip");
    assert_eq!(Some(sha256(&raw)), exp.manifest_digest, "{src}: the manifest digest survives");
    assert_eq!(index_digest(&out), sha256(&raw), "{src}: index.json descriptor");
    assert_eq!(sk.recomputed_diff_ids(&src, tmp.path(), "re-gzip"), exp.diff_ids, "{src}: recomputed diffIDs");

    // zstd → gzip: every layer re-compressed, the config (image ID) unchanged.
    let exp = amd64("skopeo-oci-zstd");
    let out = tmp.path().join("zstd-to-gzip.oci.tar");
    convert(&common::fixture("skopeo-oci-zstd"), "oci-archive", &out, &["--compression", "gzip"]);
    let src = oci_archive_ref(&out, "app-1");
    let raw = sk.check_image(&src, &exp, tmp.path(), "copy-zstd-gzip");
    assert_eq!(index_digest(&out), sha256(&raw), "{src}: index.json descriptor");
    assert_eq!(sk.recomputed_diff_ids(&src, tmp.path(), "re-zstd-gzip"), exp.diff_ids, "{src}: recomputed diffIDs");

    // docker save → oci-archive (zstd layers): skopeo reads and verifies the zstd blobs.
    let exp = amd64("docker-save-legacy.tar");
    let out = tmp.path().join("zstd.oci.tar");
    convert(&common::fixture("docker-save-legacy.tar"), "oci-archive", &out, &["--compression", "zstd"]);
    let src = oci_archive_ref(&out, "1");
    let raw = sk.check_image(&src, &exp, tmp.path(), "copy-zstd");
    assert_eq!(index_digest(&out), sha256(&raw), "{src}: index.json descriptor");
}

#[test]
fn skopeo_reads_docker_target() {
    let Some(sk) = skopeo("skopeo_reads_docker_target") else { return };
    let tmp = common::tempdir();

    // Legacy docker save → the Docker 25+ layout.
    let exp = amd64("docker-save-legacy.tar");
    let out = tmp.path().join("docker.tar");
    convert(&common::fixture("docker-save-legacy.tar"), "docker", &out, &[]);
    // As a docker-archive (manifest.json), whole and selected by its tag.
    sk.check_image(&docker_archive_ref(&out, None), &exp, tmp.path(), "copy-archive");
    sk.check_image(&docker_archive_ref(&out, Some("airlock/app:1")), &exp, tmp.path(), "copy-archive-tag");
    let re = sk.recomputed_diff_ids(&docker_archive_ref(&out, None), tmp.path(), "re-archive");
    assert_eq!(re, exp.diff_ids, "diffIDs skopeo recomputed from the docker target");
    // And the same file as an OCI archive (index.json, ref.name = the tag).
    let src = oci_archive_ref(&out, "1");
    let raw = sk.check_image(&src, &exp, tmp.path(), "copy-oci-side");
    assert_eq!(index_digest(&out), sha256(&raw), "{src}: index.json descriptor");

    // zstd OCI → docker: zstd layers become gzip for Docker < 23.
    let exp = amd64("skopeo-oci-zstd");
    let out = tmp.path().join("docker-from-zstd.tar");
    convert(&common::fixture("skopeo-oci-zstd"), "docker", &out, &["--tag", "airlock/app:zstd"]);
    sk.check_image(&docker_archive_ref(&out, Some("airlock/app:zstd")), &exp, tmp.path(), "copy-from-zstd");
    let re = sk.recomputed_diff_ids(&docker_archive_ref(&out, None), tmp.path(), "re-from-zstd");
    assert_eq!(re, exp.diff_ids, "diffIDs skopeo recomputed from the docker target (zstd → gzip)");
}

#[test]
fn skopeo_reads_crane_target() {
    let Some(sk) = skopeo("skopeo_reads_crane_target") else { return };
    let tmp = common::tempdir();
    for (fixture, tag) in
        [("docker-save-legacy.tar", "airlock/app:1"), ("crane-tarball.tar", "localhost:45123/airlock/app:1")]
    {
        let exp = amd64(fixture);
        let out = tmp.path().join(format!("{fixture}.crane.tar"));
        convert(&common::fixture(fixture), "crane", &out, &[]);
        sk.check_image(&docker_archive_ref(&out, Some(tag)), &exp, tmp.path(), &format!("copy-{fixture}"));
        let re = sk.recomputed_diff_ids(&docker_archive_ref(&out, None), tmp.path(), &format!("re-{fixture}"));
        assert_eq!(re, exp.diff_ids, "{fixture} → crane: diffIDs skopeo recomputed");
    }
}

#[test]
fn skopeo_reads_multi_platform_oci_target() {
    let Some(sk) = skopeo("skopeo_reads_multi_platform_oci_target") else { return };
    let tmp = common::tempdir();
    let fixture = "multi-platform-oci";
    let index_digest_expected = expected_json(fixture)["index_digest"].as_str().unwrap().to_string();
    let out = tmp.path().join("multi");
    convert(&common::fixture(fixture), "oci", &out, &[]);
    let src = oci_ref(&out, "1");
    // The nested index keeps its bytes and digest.
    let raw = sk.inspect(&src, &["--raw"]);
    assert_eq!(sha256(&raw), index_digest_expected, "{src}: index digest");
    assert_eq!(index_digest(&out), index_digest_expected, "{src}: index.json descriptor");
    // Every platform, copied as a whole (skopeo verifies every blob of both images).
    let all = sk.copy_to_dir(&src, tmp.path(), "copy-all", &["--all"]);
    let list = std::fs::read(all.join("manifest.json")).unwrap();
    assert_eq!(sha256(&list), index_digest_expected, "skopeo copy --all: the index it copied");
    for (platform, arch) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let exp = expected(fixture, platform);
        let m = exp.manifest_digest.clone().unwrap();
        let b = std::fs::read(all.join(format!("{}.manifest.json", hex(&m)))).unwrap();
        assert_eq!(sha256(&b), m, "{platform}: manifest copied by skopeo --all");
        let config = sk.inspect(&src, &["--config", "--raw", "--override-os", "linux", "--override-arch", arch]);
        assert_eq!(sha256(&config), exp.image_id, "{src} {platform}: config (image ID)");
        let c = json_of_bytes("config", &config);
        assert_eq!(c["rootfs"]["diff_ids"], serde_json::json!(exp.diff_ids), "{src} {platform}: diffIDs");
    }
}

// ---------------------------------------------------------------------------------------------
// umoci
// ---------------------------------------------------------------------------------------------

/// The app fixture's root filesystem after all its layers: what `docker build` made.
#[track_caller]
fn assert_app_rootfs(rootfs: &Path, what: &str) {
    let motd = std::fs::read_to_string(rootfs.join("etc/motd")).unwrap_or_else(|e| panic!("{what}: etc/motd: {e}"));
    assert!(motd.contains("written by RUN"), "{what}: etc/motd = {motd:?}");
    assert!(rootfs.join("etc/issue").is_file(), "{what}: etc/issue (base layer)");
    assert!(rootfs.join("bin/fixture-tool").is_file(), "{what}: bin/fixture-tool (base layer)");
    let link = std::fs::read_link(rootfs.join("bin/hello")).unwrap_or_else(|e| panic!("{what}: bin/hello: {e}"));
    assert_eq!(link, Path::new("fixture-tool"), "{what}: bin/hello symlink");
    assert!(rootfs.join("data/data.txt").is_file(), "{what}: data/data.txt");
    assert!(rootfs.join("data/nested/deep.txt").is_file(), "{what}: data/nested/deep.txt");
    assert!(rootfs.join("top.txt").is_file(), "{what}: top.txt (re-added by the last layer)");
    assert!(std::fs::symlink_metadata(rootfs.join("etc/remove-me")).is_err(), "{what}: etc/remove-me (whited out)");
    for e in walkdir::WalkDir::new(rootfs) {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy();
        assert!(!n.starts_with(".wh."), "{what}: whiteout left in the rootfs: {}", e.path().display());
    }
}

#[test]
fn umoci_unpacks_oci_target() {
    let test = "umoci_unpacks_oci_target";
    let Some(umoci) = tool(test, "umoci") else { return };
    let tmp = common::tempdir();
    // (fixture, --compression, ref name in the output). umoci 0.4 has no zstd: gzip and none only.
    let cases = [
        ("docker-save-legacy.tar", "keep", "1"),
        ("docker-save-legacy.tar", "gzip", "1"),
        ("skopeo-oci-gzip", "keep", "app-1"),
        ("skopeo-oci-zstd", "gzip", "app-1"),
        ("skopeo-oci-zstd", "none", "app-1"),
        ("crane-tarball.tar", "keep", "1"),
    ];
    for (i, (fixture, compression, r)) in cases.into_iter().enumerate() {
        let what = format!("{fixture} → oci --compression {compression}");
        let out = tmp.path().join(format!("oci-{i}"));
        convert(&common::fixture(fixture), "oci", &out, &["--compression", compression]);
        let bundle = tmp.path().join(format!("bundle-{i}"));
        let image = format!("{}:{r}", out.display());
        run_ok(Command::new(&umoci).args(["unpack", "--rootless", "--image", image.as_str()]).arg(&bundle));
        assert_app_rootfs(&bundle.join("rootfs"), &what);
        assert!(bundle.join("config.json").is_file(), "{what}: umoci wrote no runtime config");
        // umoci names its mtree after the manifest it unpacked.
        let mtree = bundle.join(format!("sha256_{}.mtree", hex(&index_digest(&out))));
        assert!(mtree.is_file(), "{what}: {} missing: umoci unpacked another manifest?", mtree.display());
    }
}

// ---------------------------------------------------------------------------------------------
// docker
// ---------------------------------------------------------------------------------------------

/// One lock per daemon (docker or containerd): its tests empty its store, one at a time.
fn daemon_lock(name: &str) -> MutexGuard<'static, ()> {
    static LOCKS: Mutex<BTreeMap<String, &'static Mutex<()>>> = Mutex::new(BTreeMap::new());
    let lock = *LOCKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(name.to_string())
        .or_insert_with(|| Box::leak(Box::new(Mutex::new(()))));
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Docker {
    rt: Runtime,
    _lock: MutexGuard<'static, ()>,
}

/// The system's docker (20.10) that real-tools.sh started, or the opt-in one; holds its lock.
fn docker(test: &str) -> Option<Docker> {
    let rt = one_runtime(test, Kind::Docker, "docker@20.10")?;
    Some(Docker { _lock: daemon_lock(&rt.name), rt })
}

/// Every docker that real-tools.sh started (each version, each image store), one at a time:
/// each `Docker` holds its own lock, so take them one by one.
#[allow(dead_code)] // offered to tests that check every version
fn dockers(test: &str) -> Vec<Runtime> {
    runtimes(test, Kind::Docker)
}

impl Docker {
    fn of(rt: Runtime) -> Docker {
        Docker { _lock: daemon_lock(&rt.name), rt }
    }
    /// The docker CLI, talking to this daemon only.
    fn cmd(&self) -> Command {
        self.rt.command()
    }

    fn image_ids(&self) -> BTreeSet<String> {
        let out = run_ok(self.cmd().args(["images", "-aq", "--no-trunc"]));
        stdout_of(&out).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    /// Nothing left for a load to reuse: no container, no image, no layer on disk
    /// (`Runtime::empty_docker_store`).
    fn empty_store(&self) {
        self.rt.empty_docker_store();
    }

    /// `docker load -i FILE`; returns its stdout.
    fn load(&self, file: &Path) -> String {
        stdout_of(&run_ok(self.cmd().arg("load").arg("-i").arg(file)))
    }

    fn inspect(&self, tag: &str) -> Value {
        let out = run_ok(self.cmd().args(["image", "inspect", tag]));
        json_of_bytes(&format!("docker image inspect {tag}"), &out.stdout)[0].clone()
    }

    /// The store holds exactly the expected image, under `tag`, with the expected ID and layers.
    #[track_caller]
    fn assert_loaded(&self, what: &str, load_out: &str, tag: &str, exp: &Expected) {
        assert!(load_out.contains(&format!("Loaded image: {tag}")), "{what}: docker load said {load_out:?}");
        let v = self.inspect(tag);
        assert_eq!(v["Id"], exp.image_id.as_str(), "{what}: docker inspect {tag} .Id");
        assert_eq!(v["RootFS"]["Layers"], serde_json::json!(exp.diff_ids), "{what}: docker inspect .RootFS.Layers");
        assert_eq!(v["Os"], "linux", "{what}: .Os");
        let tags: Vec<&str> = v["RepoTags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(tags, [tag], "{what}: .RepoTags");
        let ids = self.image_ids();
        assert_eq!(ids, BTreeSet::from([exp.image_id.clone()]), "{what}: images in the store after the load");
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        // Leave the shared daemon empty (best effort; the next test empties it anyway).
        if let Ok(out) = self.cmd().args(["images", "-aq", "--no-trunc"]).output() {
            let ids: BTreeSet<String> = stdout_of(&out).lines().map(str::to_string).collect();
            if !ids.is_empty() {
                let _ = self.cmd().args(["rmi", "-f"]).args(&ids).output();
            }
        }
    }
}

/// The check `empty_store` ends with: a layer that no image uses, in either kind of docker
/// store, is found (laid out as docker 26.1 and docker 28.5 with the containerd store keep them).
#[test]
fn a_layer_left_in_an_emptied_docker_store_is_found() {
    use real_tools::{Store, stored_layers};
    let tmp = common::tempdir();
    let root = tmp.path();
    // What a daemon with nothing in it holds: the directories, no entries.
    let layerdb = root.join("image/vfs/layerdb/sha256");
    let content = root.join("containerd/daemon/io.containerd.content.v1.content/blobs/sha256");
    let snapshots = root.join("containerd/daemon/io.containerd.snapshotter.v1.native/snapshots");
    for d in [&layerdb, &content, &snapshots] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::create_dir_all(root.join("containerd/daemon/io.containerd.metadata.v1.bolt")).unwrap();
    assert_eq!(stored_layers(root, "vfs", Store::Graph), Vec::<PathBuf>::new());
    assert_eq!(stored_layers(root, "native", Store::Containerd), Vec::<PathBuf>::new());
    // Not there at all (a daemon that never loaded anything): nothing either.
    assert_eq!(stored_layers(root, "overlay2", Store::Graph), Vec::<PathBuf>::new());

    let chain = layerdb.join("5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
    std::fs::create_dir(&chain).unwrap();
    assert_eq!(stored_layers(root, "vfs", Store::Graph), [chain]);
    let blob = content.join("a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4");
    std::fs::write(&blob, b"").unwrap();
    let snapshot = snapshots.join("1");
    std::fs::create_dir(&snapshot).unwrap();
    assert_eq!(stored_layers(root, "native", Store::Containerd), [blob, snapshot]);
}

#[test]
fn docker_loads_docker_target() {
    let tmp = common::tempdir();
    // (fixture, the tag the output must carry). podman's OCI archive names the image by a full
    // reference in its ref.name: airlock takes the tag from it.
    let cases = [("docker-save-legacy.tar", "airlock/app:1"), ("podman-oci-archive.tar", "localhost/airlock/app:1")];
    let mut outs = Vec::new();
    for (fixture, tag) in cases {
        let out = tmp.path().join(format!("{fixture}.docker.tar"));
        convert(&common::fixture(fixture), "docker", &out, &[]);
        outs.push((fixture, tag, out));
    }
    let Some(d) = docker("docker_loads_docker_target") else { return };
    for (fixture, tag, out) in outs {
        d.empty_store();
        let loaded = d.load(&out);
        d.assert_loaded(&format!("{fixture} → docker"), &loaded, tag, &amd64(fixture));
    }
}

#[test]
fn docker_loads_an_image_taken_out_of_bundles() {
    // From a Harbor installer (an archive inside the .tgz) and from a Zarf package (a layout
    // inside the .tar.zst), the image docker loads is the one the real tools wrote.
    let tmp = common::tempdir();
    let harbor = tmp.path().join("harbor-app.tar");
    convert(
        &common::fixture("bundles/harbor-offline-installer-v2.10.0.tgz"),
        "docker",
        &harbor,
        &["--image", "airlock/app:1"],
    );
    let zarf = tmp.path().join("zarf-amd64.tar");
    convert(
        &common::fixture("bundles/zarf-package-airlock-amd64-0.0.1.tar.zst"),
        "docker",
        &zarf,
        &["--platform", "linux/amd64"],
    );
    let Some(d) = docker("docker_loads_an_image_taken_out_of_bundles") else { return };
    d.empty_store();
    // The same app image as the single-image docker save.
    let exp = amd64("docker-save-legacy.tar");
    let loaded = d.load(&harbor);
    assert!(loaded.contains("Loaded image: airlock/app:1"), "{loaded}");
    let v = d.inspect("airlock/app:1");
    assert_eq!(v["Id"], exp.image_id.as_str());
    assert_eq!(v["RootFS"]["Layers"], serde_json::json!(exp.diff_ids));
    d.empty_store();
    let loaded = d.load(&zarf);
    d.assert_loaded(
        "zarf → docker (amd64)",
        &loaded,
        "localhost/airlock/multi:1",
        &expected("multi-platform-oci", "linux/amd64"),
    );
}

#[test]
fn docker_loads_docker_target_from_zstd_oci() {
    // zstd layers are re-compressed to gzip: Docker 20.10 cannot read zstd.
    let tmp = common::tempdir();
    let out = tmp.path().join("app.tar");
    convert(&common::fixture("skopeo-oci-zstd"), "docker", &out, &["--tag", "airlock/app:zstd"]);
    let Some(d) = docker("docker_loads_docker_target_from_zstd_oci") else { return };
    d.empty_store();
    let loaded = d.load(&out);
    d.assert_loaded("skopeo-oci-zstd → docker", &loaded, "airlock/app:zstd", &amd64("skopeo-oci-zstd"));
}

#[test]
fn docker_loads_docker_target_multi_platform() {
    let tmp = common::tempdir();
    let out = tmp.path().join("multi-amd64.tar");
    let input = common::fixture("multi-platform-oci");
    convert(&input, "docker", &out, &["--platform", "linux/amd64", "--tag", "airlock/multi:1"]);
    let Some(d) = docker("docker_loads_docker_target_multi_platform") else { return };
    d.empty_store();
    let loaded = d.load(&out);
    d.assert_loaded(
        "multi-platform-oci → docker (amd64)",
        &loaded,
        "airlock/multi:1",
        &expected("multi-platform-oci", "linux/amd64"),
    );
}

#[test]
fn docker_loads_crane_target() {
    let tmp = common::tempdir();
    let cases = [
        ("docker-save-legacy.tar", "airlock/app:1", &[][..]),
        ("crane-tarball.tar", "localhost:45123/airlock/app:1", &[][..]),
        ("skopeo-oci-zstd", "airlock/app:crane", &["--tag", "airlock/app:crane"][..]),
    ];
    let mut outs = Vec::new();
    for (fixture, tag, extra) in cases {
        let out = tmp.path().join(format!("{fixture}.crane.tar"));
        convert(&common::fixture(fixture), "crane", &out, extra);
        outs.push((fixture, tag, out));
    }
    let Some(d) = docker("docker_loads_crane_target") else { return };
    for (fixture, tag, out) in outs {
        d.empty_store();
        let loaded = d.load(&out);
        d.assert_loaded(&format!("{fixture} → crane"), &loaded, tag, &amd64(fixture));
    }
}

#[test]
fn docker_loads_docker_target_from_stdout() {
    // The README's pipe: `airlock convert app.tar.zst --to docker -o - | docker load`.
    let Some(d) = docker("docker_loads_docker_target_from_stdout") else { return };
    d.empty_store();
    let mut conv = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .env("NO_COLOR", "1")
        .args(["convert", "--to", "docker", "-q", "-o", "-"])
        .arg(common::fixture("docker-save-legacy.tar.zst"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run airlock");
    let pipe = conv.stdout.take().unwrap();
    let load = d.cmd().arg("load").stdin(Stdio::from(pipe)).output().expect("run docker load");
    let conv = conv.wait_with_output().unwrap();
    assert!(conv.status.success(), "airlock convert … -o - failed: {}", String::from_utf8_lossy(&conv.stderr));
    assert!(
        load.status.success(),
        "`airlock convert docker-save-legacy.tar.zst --to docker -o - | docker load` failed: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    d.assert_loaded(
        "docker-save-legacy.tar.zst → docker on stdout",
        &stdout_of(&load),
        "airlock/app:1",
        &amd64("docker-save-legacy.tar.zst"),
    );
}

// ---------------------------------------------------------------------------------------------
// containerd (ctr)
// ---------------------------------------------------------------------------------------------

/// `ctr` against a containerd the project started, in a namespace of this test's own (removed
/// on drop). It holds that daemon's lock: containerd shares content between namespaces (a blob
/// another test's import wrote lets an archive that lacks it load: measured with containerd
/// 2.1 and "a layer blob missing"), so each test imports from an empty content store.
struct Ctr {
    rt: Runtime,
    ns: String,
    _lock: MutexGuard<'static, ()>,
}

/// The system's containerd (1.6) that real-tools.sh started, or the opt-in one.
fn containerd(test: &str) -> Option<Ctr> {
    one_runtime(test, Kind::Containerd, "containerd@1.6").map(|rt| Ctr::of(rt, test))
}

/// The system's podman (4.3), as real-tools.sh found it. Run it with `podman_command(stores)`
/// only: on stores in a directory of the test.
#[allow(dead_code)] // offered to tests that need podman
fn podman(test: &str) -> Option<Runtime> {
    one_runtime(test, Kind::Podman, "podman@4.3")
}

/// Every containerd that real-tools.sh started.
#[allow(dead_code)] // offered to tests that check every version
fn containerds(test: &str) -> Vec<Ctr> {
    runtimes(test, Kind::Containerd).into_iter().map(|rt| Ctr::of(rt, test)).collect()
}

/// One line of `ctr images ls`.
#[derive(Debug)]
struct CtrImage {
    name: String,
    media_type: String,
    digest: String,
    platforms: String,
}

impl Ctr {
    fn of(rt: Runtime, test: &str) -> Ctr {
        let ns = format!("airlock-interop-{}-{}", std::process::id(), test.replace('_', "-"));
        let ctr = Ctr { _lock: daemon_lock(&rt.name), rt, ns };
        ctr.empty_daemon();
        ctr
    }

    /// Removes every image and blob of every namespace of this daemon (one the project
    /// started; this test holds its lock). containerd shares content between namespaces: a
    /// blob left by an earlier run or an interrupted test let containerd 2.1 import an
    /// archive that lacks it ("a layer blob missing"), so each test starts from nothing.
    fn empty_daemon(&self) {
        let Ok(out) = self.rt.command().args(["namespaces", "ls", "-q"]).output() else { return };
        for ns in stdout_of(&out).split_whitespace() {
            let each = |args: &[&str]| {
                let mut c = self.rt.command();
                c.args(["-n", ns]).args(args);
                c
            };
            if let Ok(imgs) = each(&["images", "ls", "-q"]).output() {
                for img in stdout_of(&imgs).split_whitespace() {
                    let _ = each(&["images", "rm", "--sync", img]).output();
                }
            }
            if let Ok(blobs) = each(&["content", "ls", "-q"]).output() {
                let text = stdout_of(&blobs);
                let blobs: Vec<&str> = text.split_whitespace().collect();
                if !blobs.is_empty() {
                    let _ = each(&["content", "rm"]).args(&blobs).output();
                }
            }
            // Snapshots are per namespace; one left by an interrupted run lets an import of an
            // archive whose layer cannot be unpacked "succeed" (the snapshot of that diffID is
            // there already). Children go before their parents: remove what can be, again.
            for _ in 0..16 {
                let keys = snapshot_keys(each(&["snapshots", "ls"]));
                if keys.is_empty() {
                    break;
                }
                for k in &keys {
                    let _ = each(&["snapshots", "rm", k.as_str()]).output();
                }
            }
            let left = snapshot_keys(each(&["snapshots", "ls"]));
            assert!(
                left.is_empty(),
                "{}: namespace {ns} keeps snapshots {left:?}: start the daemon afresh",
                self.rt.name
            );
        }
    }

    fn cmd(&self) -> Command {
        let mut c = self.rt.command();
        c.args(["-n", self.ns.as_str()]);
        c
    }

    fn import(&self, file: &Path, extra: &[&str]) -> String {
        stdout_of(&run_ok(self.cmd().args(["images", "import"]).args(extra).arg(file)))
    }

    fn images(&self) -> Vec<CtrImage> {
        let out = stdout_of(&run_ok(self.cmd().args(["images", "ls"])));
        out.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                // REF TYPE DIGEST SIZE(number unit) PLATFORMS LABELS
                let f: Vec<&str> = l.split_whitespace().collect();
                assert!(f.len() >= 6, "ctr images ls line: {l:?}");
                CtrImage { name: f[0].into(), media_type: f[1].into(), digest: f[2].into(), platforms: f[5].into() }
            })
            .collect()
    }

    /// Committed snapshot keys: containerd names each unpacked layer's snapshot by its chainID.
    fn snapshots(&self) -> BTreeSet<String> {
        let out = stdout_of(&run_ok(self.cmd().args(["snapshots", "ls"])));
        out.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
    }

    /// Imports `file` into an empty namespace and checks the image containerd lists: its name, the
    /// manifest digest (when given), that all its content is there and that it was unpacked
    /// (containerd checks every layer's diffID against the config while unpacking, and names the
    /// snapshots by chainID).
    #[track_caller]
    fn check_import(
        &self,
        what: &str,
        file: &Path,
        extra: &[&str],
        name: &str,
        digest: Option<&str>,
        exp: &Expected,
    ) -> CtrImage {
        assert!(self.images().is_empty(), "{what}: namespace {} is not empty", self.ns);
        let said = self.import(file, extra);
        let imgs = self.images();
        assert_eq!(imgs.len(), 1, "{what}: ctr images ls after import ({said}): {imgs:?}");
        let img = imgs.into_iter().next().unwrap();
        assert_eq!(img.name, name, "{what}: image name");
        if let Some(d) = digest {
            assert_eq!(img.digest, d, "{what}: manifest digest containerd recorded");
        }
        let check = stdout_of(&run_ok(self.cmd().args(["images", "check"])));
        let line =
            check.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{what}: ctr images check: {check}"));
        assert!(line.contains("complete"), "{what}: content incomplete: {line}");
        assert!(line.trim_end().ends_with("true"), "{what}: not unpacked: {line}");
        let snaps = self.snapshots();
        for c in &exp.chain_ids {
            assert!(snaps.contains(c), "{what}: no snapshot for chainID {c}; snapshots: {snaps:?}");
        }
        img
    }

    /// Removes every image (synchronous GC: content and snapshots go too).
    fn clear(&self) {
        for img in self.images() {
            run_ok(self.cmd().args(["images", "rm", "--sync", img.name.as_str()]));
        }
    }
}

/// The keys of `ctr snapshots ls` (KEY PARENT KIND, a header line first); a `ctr` that cannot
/// list them fails the test, naming why, rather than reading as "none left".
fn snapshot_keys(mut ls: Command) -> Vec<String> {
    let out = ls.output().expect("run ctr snapshots ls");
    assert!(out.status.success(), "ctr snapshots ls: {}", String::from_utf8_lossy(&out.stderr));
    stdout_of(&out).lines().skip(1).filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect()
}

impl Drop for Ctr {
    fn drop(&mut self) {
        // Best effort: remove the images (GC takes content and snapshots), then the namespace.
        let mut ls = self.cmd();
        ls.args(["images", "ls", "-q"]);
        if let Ok(out) = ls.output() {
            for name in stdout_of(&out).lines().filter(|l| !l.is_empty()) {
                let _ = self.cmd().args(["images", "rm", "--sync", name]).output();
            }
        }
        let _ = self.rt.command().args(["namespaces", "rm", self.ns.as_str()]).output();
    }
}

#[test]
fn ctr_imports_docker_target() {
    let Some(ctr) = containerd("ctr_imports_docker_target") else { return };
    let tmp = common::tempdir();

    // Legacy docker save → docker: airlock writes the manifest; containerd must list that digest.
    let out = tmp.path().join("legacy.tar");
    convert(&common::fixture("docker-save-legacy.tar"), "docker", &out, &[]);
    let digest = index_digest(&out);
    let exp = amd64("docker-save-legacy.tar");
    ctr.check_import("docker save → docker", &out, &[], "docker.io/airlock/app:1", Some(&digest), &exp);
    ctr.clear();

    // skopeo's OCI layout → docker: the manifest keeps its bytes, so containerd lists the digest
    // skopeo reported.
    let out = tmp.path().join("from-oci.tar");
    convert(&common::fixture("skopeo-oci-gzip"), "docker", &out, &["--tag", "airlock/app:1"]);
    let exp = amd64("skopeo-oci-gzip");
    let want = exp.manifest_digest.clone().unwrap();
    assert_eq!(index_digest(&out), want, "skopeo-oci-gzip → docker: index.json keeps the manifest digest");
    ctr.check_import("skopeo-oci-gzip → docker", &out, &[], "docker.io/airlock/app:1", Some(&want), &exp);
    ctr.clear();

    // podman's OCI archive (ref.name = a full reference) → docker, untagged: the name comes from
    // the ref.name, the manifest keeps its bytes.
    let out = tmp.path().join("from-podman.tar");
    convert(&common::fixture("podman-oci-archive.tar"), "docker", &out, &[]);
    let exp = amd64("podman-oci-archive.tar");
    let want = exp.manifest_digest.clone().unwrap();
    ctr.check_import("podman-oci-archive.tar → docker", &out, &[], "localhost/airlock/app:1", Some(&want), &exp);
    ctr.clear();

    // zstd OCI → docker (re-compressed to gzip: a new manifest).
    let out = tmp.path().join("from-zstd.tar");
    convert(&common::fixture("skopeo-oci-zstd"), "docker", &out, &["--tag", "airlock/app:zstd"]);
    let digest = index_digest(&out);
    let exp = amd64("skopeo-oci-zstd");
    ctr.check_import("skopeo-oci-zstd → docker", &out, &[], "docker.io/airlock/app:zstd", Some(&digest), &exp);
}

#[test]
fn ctr_imports_oci_archive_target() {
    let Some(ctr) = containerd("ctr_imports_oci_archive_target") else { return };
    let tmp = common::tempdir();

    // docker save → oci-archive, uncompressed and zstd (containerd unpacks zstd and checks the
    // diffIDs it gets from it).
    for compression in ["keep", "zstd", "gzip"] {
        let out = tmp.path().join(format!("legacy-{compression}.oci.tar"));
        convert(&common::fixture("docker-save-legacy.tar"), "oci-archive", &out, &["--compression", compression]);
        let digest = index_digest(&out);
        let exp = amd64("docker-save-legacy.tar");
        let what = format!("docker save → oci-archive --compression {compression}");
        let img = ctr.check_import(&what, &out, &[], "docker.io/airlock/app:1", Some(&digest), &exp);
        assert_eq!(img.media_type, "application/vnd.oci.image.manifest.v1+json", "{what}");
        ctr.clear();
    }

    // The multi-platform index, whole. Its index.json entry has only a ref.name ("1"), as podman
    // wrote it, so the repository comes from --base-name. containerd unpacks the host platform.
    let fixture = "multi-platform-oci";
    let out = tmp.path().join("multi.oci.tar");
    convert(&common::fixture(fixture), "oci-archive", &out, &[]);
    let want = expected_json(fixture)["index_digest"].as_str().unwrap().to_string();
    assert_eq!(index_digest(&out), want, "multi-platform-oci → oci-archive: index.json keeps the index digest");
    let exp = expected(fixture, "linux/amd64");
    let args = ["--base-name", "docker.io/airlock/multi", "--all-platforms"];
    let img = ctr.check_import(
        "multi-platform-oci → oci-archive",
        &out,
        &args,
        "docker.io/airlock/multi:1",
        Some(&want),
        &exp,
    );
    assert_eq!(img.media_type, "application/vnd.oci.image.index.v1+json", "multi-platform: listed as an index");
    let platforms: BTreeSet<&str> = img.platforms.split(',').collect();
    assert_eq!(platforms, BTreeSet::from(["linux/amd64", "linux/arm64"]), "multi-platform: platforms containerd lists");
}

#[test]
fn ctr_imports_crane_target() {
    let Some(ctr) = containerd("ctr_imports_crane_target") else { return };
    let tmp = common::tempdir();
    let out = tmp.path().join("app.crane.tar");
    convert(&common::fixture("docker-save-legacy.tar"), "crane", &out, &[]);
    // A crane tarball stores no manifest: containerd makes one, so only name and layers compare.
    ctr.check_import(
        "docker save → crane",
        &out,
        &[],
        "docker.io/airlock/app:1",
        None,
        &amd64("docker-save-legacy.tar"),
    );
}

// ---------------------------------------------------------------------------------------------
// Parser differentials: what docker really loads from an archive airlock refuses
// ---------------------------------------------------------------------------------------------

/// manifest.json with `"Config": good` and then `"config": evil`: Go's case-insensitive
/// decoder (docker load) takes the last match, the evil config. airlock must refuse the
/// archive (it would otherwise have verified the good one).
#[test]
fn docker_loads_the_folded_key() {
    use common::{find, json_of, read_tar, regular, sha256_hex, write_tar};
    let tmp = common::tempdir();
    let mut ms = read_tar(&common::fixture("docker-save-legacy.tar"));
    let man = json_of(find(&mut ms, "manifest.json"));
    let good = man[0]["Config"].as_str().unwrap().to_string();
    let mut cfg = json_of(find(&mut ms, &good));
    cfg["config"]["Labels"] = serde_json::json!({"evil": "yes"});
    let evil_bytes = serde_json::to_vec(&cfg).unwrap();
    let evil_id = format!("sha256:{}", sha256_hex(&evil_bytes));
    let evil = format!("{}.json", sha256_hex(&evil_bytes));
    ms.push(regular(&evil, evil_bytes));
    let layers = serde_json::to_string(&man[0]["Layers"]).unwrap();
    find(&mut ms, "manifest.json").data =
        format!(r#"[{{"Config":"{good}","RepoTags":["airlock/folded:1"],"Layers":{layers},"config":"{evil}"}}]"#)
            .into_bytes();
    let archive = tmp.path().join("folded.tar");
    write_tar(&archive, &ms);

    let run = common::verify(&archive, &[]);
    common::assert_codes(&run, &["manifest-invalid"], &[]);

    let Some(d) = docker("docker_loads_the_folded_key") else { return };
    d.empty_store();
    d.load(&archive);
    let v = d.inspect("airlock/folded:1");
    assert_eq!(v["Id"], evil_id.as_str(), "docker 20.10 loaded the config of the lower-case key");
}

/// Every tar differential of tests/common/tar_cases.rs, as the layer of a docker-save
/// archive, loaded by docker 20.10: docker refuses it, or extracts exactly the files Go's
/// archive/tar names (read back with `docker create` + `docker export`); and airlock's
/// verdict is the one each case expects (it refuses an entry whose Go name leaves the root,
/// even though docker's chroot clamps it).
#[test]
fn docker_agrees_on_tar_differentials() {
    use common::tar_cases::{Go, cases};
    let tmp = common::tempdir();
    let mut archives = Vec::new();
    for c in cases() {
        let p = tmp.path().join(format!("{}.tar", c.name));
        common::docker_archive(&p, &[c.layer], &format!("airlock/{}:1", c.name));
        let run = common::verify(&p, &[]);
        common::assert_codes(&run, c.airlock_errors, &[]);
        archives.push((c.name, p, c.go));
    }
    let Some(d) = docker("docker_agrees_on_tar_differentials") else { return };
    let mut table = Vec::new();
    for (name, p, go) in archives {
        d.empty_store();
        let out = run(d.cmd().arg("load").arg("-i").arg(&p));
        let seen = if out.status.success() {
            let tag = format!("airlock/{name}:1");
            let id = stdout_of(&run_ok(d.cmd().args(["create", &tag])));
            let id = id.trim();
            let export = run_ok(d.cmd().args(["export", id]));
            let _ = run(d.cmd().args(["rm", id]));
            let mut files: Vec<String> = Vec::new();
            let mut a = tar::Archive::new(&export.stdout[..]);
            for e in a.entries().unwrap() {
                let e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                // docker's own init layer of every container.
                let init = [".dockerenv", "dev/console", "etc/hostname", "etc/hosts", "etc/resolv.conf"];
                if e.header().entry_type().is_file() && !init.contains(&path.as_str()) {
                    files.push(path);
                }
            }
            files.sort();
            Some(files)
        } else {
            None
        };
        table.push(format!("{name}: {seen:?}"));
        match go {
            Go::Refuses => assert!(seen.is_none(), "{name}: docker loaded it and extracted {seen:?}"),
            Go::Extracts(want) => {
                let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
                assert_eq!(
                    seen.as_ref(),
                    Some(&want),
                    "{name}: docker load said {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
    }
    let _ = writeln!(std::io::stderr(), "tar differentials vs docker 20.10: {}", table.join("; "));
}

// ---------------------------------------------------------------------------------------------
// --target: airlock's load prediction against what the real runtime does
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// What a runtime loads out of a bundle is what verify reported (issue 14)
// ---------------------------------------------------------------------------------------------

/// `airlock verify --json BUNDLE`: the image IDs it reported for the archive or layout named
/// `BUNDLE!part`.
fn reported_ids(bundle: &Path, part: &str) -> BTreeSet<String> {
    let out = run(Command::new(env!("CARGO_BIN_EXE_airlock")).args(["verify", "--json", "-q"]).arg(bundle));
    let v = json_of_bytes("airlock verify --json", &out.stdout);
    let name = format!("{}!{part}", bundle.display());
    let input = v["inputs"].as_array().unwrap().iter().find(|i| i["path"] == name.as_str());
    let input = input.unwrap_or_else(|| panic!("verify reported no {name}: {v}"));
    input["images"].as_array().unwrap().iter().map(|i| i["config_digest"].as_str().unwrap().to_string()).collect()
}

/// `tar -xf BUNDLE` into a new directory of `tmp` (`-z` for a .tgz).
fn extracted(bundle: &Path, tmp: &Path) -> PathBuf {
    let dir = tmp.join(bundle.file_name().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    let z = if bundle.extension().is_some_and(|e| e == "tgz") { "-xzf" } else { "-xf" };
    run_ok(Command::new("tar").arg("-C").arg(&dir).arg(z).arg(bundle));
    dir
}

#[test]
fn docker_loads_what_verify_reported_inside_bundles() {
    // Each bundle fixture extracted as an operator would; the file its install.sh names, the
    // archive beside a layout, or the hard link to a layer that is an image archive, given to
    // `docker load -i`: docker holds exactly the images verify reported for that archive
    // (before issue 14, verify never opened any of them). The hard link and the symlink lead
    // to one blob, reported under the first of its names.
    let tmp = common::tempdir();
    let cases = [
        ("harbor-broken-trailing.tgz", "harbor/harbor.v2.10.0.tar.gz", "harbor/harbor.v2.10.0.tar.gz"),
        ("harbor-xz-inner.tgz", "harbor/harbor.v2.10.0.tar.xz", "harbor/harbor.v2.10.0.tar.xz"),
        ("bundle-archive-beside-layout.tar", "images/evil.tar", "images/evil.tar"),
        ("bundle-archive-through-links.tar", "load-me.tar", "also.tar"),
    ];
    let mut runs = Vec::new();
    for (fixture, load, part) in cases {
        let bundle = common::fixture(&format!("bundles/{fixture}"));
        let want = reported_ids(&bundle, part);
        assert!(!want.is_empty(), "{fixture}: verify reported images for {part}");
        runs.push((fixture, extracted(&bundle, tmp.path()).join(load), want));
    }
    let Some(d) = docker("docker_loads_what_verify_reported_inside_bundles") else { return };
    for (fixture, file, want) in runs {
        d.empty_store();
        d.load(&file);
        assert_eq!(d.image_ids(), want, "{fixture}: docker load -i {} holds what verify reported", file.display());
    }
}

#[test]
fn skopeo_reads_what_verify_reported_in_a_deep_layout() {
    // A layout five directories down was never searched; skopeo reads it as oci:a/b/c/d/e.
    let tmp = common::tempdir();
    let bundle = common::fixture("bundles/bundle-deep-layout.tar");
    let want = reported_ids(&bundle, "a/b/c/d/e/");
    let dir = extracted(&bundle, tmp.path()).join("a/b/c/d/e");
    let Some(sk) = skopeo("skopeo_reads_what_verify_reported_in_a_deep_layout") else { return };
    let raw = sk.inspect(&format!("oci:{}", dir.display()), &["--raw"]);
    let m = json_of_bytes("skopeo inspect --raw", &raw);
    let got: BTreeSet<String> = [m["config"]["digest"].as_str().unwrap().to_string()].into();
    assert_eq!(got, want, "skopeo inspect oci:a/b/c/d/e reads the image verify reported");
}

/// The archives users carry, from every fixture: as written, tarred (layouts), wrapped in gzip
/// and zstd (unless the fixture already is that wrapper), a Docker 25+-style archive with zstd
/// layers (manifest.json and index.json), zstd streams that start with a skippable frame (as
/// pzstd writes), and one layout directory as it is.
fn target_corpus(dir: &Path) -> Vec<PathBuf> {
    let fx = common::fixture("");
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&fx)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !n.starts_with('.')
                && !n.ends_with(".sh")
                && !n.ends_with(".md")
                && !matches!(n.as_str(), "expected" | "src" | "bundles" | "signed" | "export" | "release")
        })
        .collect();
    names.sort();
    for n in names {
        let src = fx.join(&n);
        let tar = if src.is_dir() {
            let t = dir.join(format!("{n}.tar"));
            run_ok(Command::new("tar").arg("-C").arg(&src).arg("-cf").arg(&t).arg("."));
            t
        } else {
            let t = dir.join(&n);
            std::fs::copy(&src, &t).unwrap();
            t
        };
        if n.ends_with(".tar") || src.is_dir() {
            for (ext, tool) in [("gz", "gzip"), ("zst", "zstd")] {
                let w = dir.join(format!("{}.{ext}", tar.file_name().unwrap().to_string_lossy()));
                if fx.join(w.file_name().unwrap()).exists() {
                    continue; // the fixture is this wrapper already (docker-save-legacy.tar.gz)
                }
                let o = run_ok(Command::new(tool).arg("-c").arg(&tar));
                std::fs::write(&w, o.stdout).unwrap();
                out.push(w);
            }
        }
        // bzip2 and lz4 (k3s/RKE2's .tar.bz2 and .tar.lz4) for one of each layout.
        if matches!(n.as_str(), "docker-save-legacy.tar" | "ctr-export.tar" | "skopeo-oci-zstd") {
            let bytes = std::fs::read(&tar).unwrap();
            for ext in ["bz2", "lz4"] {
                let w = dir.join(format!("{}.{ext}", tar.file_name().unwrap().to_string_lossy()));
                std::fs::write(&w, common::wrap(&bytes, ext)).unwrap();
                out.push(w);
            }
        }
        out.push(tar);
    }
    // zstd layers under manifest.json: the zstd layout plus a manifest.json naming its blobs.
    let d = dir.join("zstd-docker");
    common::copy_dir(&common::fixture("skopeo-oci-zstd"), &d);
    let (_, man) = common::first_manifest(&d);
    let blob = |v: &Value| format!("blobs/sha256/{}", v["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let layers: Vec<String> = man["layers"].as_array().unwrap().iter().map(blob).collect();
    let mj = serde_json::json!([{"Config": blob(&man["config"]), "RepoTags": ["airlock/zstd:1"], "Layers": layers}]);
    std::fs::write(d.join("manifest.json"), serde_json::to_vec(&mj).unwrap()).unwrap();
    let t = dir.join("zstd-layers-docker.tar");
    run_ok(Command::new("tar").arg("-C").arg(&d).arg("-cf").arg(&t).arg("."));
    out.push(t);
    // Two images in an OCI-only archive: ctr's export without its manifest.json.
    let d = dir.join("oci-two-images");
    std::fs::create_dir(&d).unwrap();
    run_ok(Command::new("tar").arg("-C").arg(&d).arg("-xf").arg(common::fixture("ctr-export-multi.tar")));
    std::fs::remove_file(d.join("manifest.json")).unwrap();
    let t = dir.join("oci-two-images.tar");
    run_ok(Command::new("tar").arg("-C").arg(&d).arg("-cf").arg(&t).arg("."));
    out.push(t);
    // A skippable frame first (pzstd's layout), before a docker-save and an OCI archive.
    for fixture in ["docker-save-legacy.tar", "ctr-export.tar"] {
        let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend(common::wrap(&std::fs::read(common::fixture(fixture)).unwrap(), "zst"));
        let w = dir.join(format!("skippable-frame-{fixture}.zst"));
        std::fs::write(&w, bytes).unwrap();
        out.push(w);
    }
    // zstd layers whose frames declare 512 MiB (Go's limit) and 1 GiB windows.
    for window_log in [29, 30] {
        out.push(long_window_layers(dir, window_log));
    }
    // A layout directory, as it is (podman loads one; the others read a file).
    let d = dir.join("layout-directory");
    common::copy_dir(&common::fixture("skopeo-oci-gzip"), &d);
    out.push(d);
    out
}

/// skopeo's zstd layout with every layer re-compressed with a `2^window_log` window (declared
/// in each frame), as an archive with index.json and manifest.json (the Docker 25+ layout).
fn long_window_layers(dir: &Path, window_log: u32) -> PathBuf {
    use std::io::Write as _;
    let d = dir.join(format!("window-{window_log}"));
    common::copy_dir(&common::fixture("skopeo-oci-zstd"), &d);
    let (mpath, mut man) = common::first_manifest(&d);
    let blobs = d.join("blobs/sha256");
    let put = |b: &[u8]| {
        let hex = common::sha256_hex(b);
        std::fs::write(blobs.join(&hex), b).unwrap();
        (format!("sha256:{hex}"), b.len())
    };
    let mut replaced = BTreeSet::new();
    for l in man["layers"].as_array_mut().unwrap() {
        let old = blobs.join(l["digest"].as_str().unwrap().trim_start_matches("sha256:"));
        let plain = zstd::decode_all(&std::fs::read(&old).unwrap()[..]).unwrap();
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.window_log(window_log).unwrap();
        enc.write_all(&plain).unwrap();
        let (digest, size) = put(&enc.finish().unwrap());
        l["digest"] = digest.into();
        l["size"] = size.into();
        replaced.insert(old);
    }
    // The layers' old blobs go (two layers may share one): nothing is left unreferenced.
    for old in replaced {
        std::fs::remove_file(old).unwrap();
    }
    std::fs::remove_file(mpath).unwrap();
    let (md, ms) = put(&serde_json::to_vec(&man).unwrap());
    let tag = format!("airlock/window:{window_log}");
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms, "annotations": {"io.containerd.image.name": format!("docker.io/{tag}"),
        "org.opencontainers.image.ref.name": window_log.to_string()}}]});
    std::fs::write(d.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let blob = |v: &Value| format!("blobs/sha256/{}", v["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let layers: Vec<String> = man["layers"].as_array().unwrap().iter().map(blob).collect();
    let mj = serde_json::json!([{"Config": blob(&man["config"]), "RepoTags": [tag], "Layers": layers}]);
    std::fs::write(d.join("manifest.json"), serde_json::to_vec(&mj).unwrap()).unwrap();
    let t = dir.join(format!("zstd-window-{window_log}-layers.tar"));
    run_ok(Command::new("tar").arg("-C").arg(&d).arg("-cf").arg(&t).arg("."));
    t
}

/// airlock's predictions for several targets at once: does it say each runtime loads the
/// input, and which of its rules say it does not (the ids in the `target-…` errors)?
fn predicts_load(input: &Path, targets: &[String]) -> Vec<(bool, BTreeSet<String>)> {
    let mut args = Vec::new();
    for t in targets {
        args.extend(["--target", t.as_str()]);
    }
    let r = common::verify(input, &args);
    let verdicts = r.json["inputs"][0]["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(verdicts.len(), targets.len(), "{}: target verdicts: {}", input.display(), r.json);
    let findings = r.json["inputs"][0]["findings"].as_array().cloned().unwrap_or_default();
    verdicts
        .iter()
        .map(|v| {
            let prefix = format!("{} will not load this: ", v["target"].as_str().unwrap());
            let rules = findings
                .iter()
                .filter_map(|f| f["message"].as_str())
                .filter(|m| m.starts_with(&prefix))
                .filter_map(|m| m.rsplit_once(" [").and_then(|(_, r)| r.split(';').next()).map(str::to_string))
                .collect();
            (v["loads"].as_bool().unwrap(), rules)
        })
        .collect()
}

/// What one runtime did with one archive: loaded it, or its error.
struct Outcome {
    runtime: String,
    file: PathBuf,
    loaded: bool,
    err: String,
}

fn outcome(runtime: &str, file: &Path, out: &Output) -> Outcome {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Outcome { runtime: runtime.to_string(), file: file.to_path_buf(), loaded: out.status.success(), err }
}

/// Loads every archive into one runtime the way users do, from an empty store each time:
/// `docker load -i`, `ctr images import --all-platforms`, `podman load -i`.
fn load_each(rt: &Runtime, test: &str, files: &[PathBuf]) -> Vec<Outcome> {
    let mut outs = Vec::new();
    match rt.kind {
        Kind::Docker => {
            let d = Docker::of(rt.clone());
            for f in files {
                d.empty_store();
                outs.push(outcome(&rt.name, f, &run(d.cmd().arg("load").arg("-i").arg(f))));
            }
        }
        Kind::Containerd => {
            let c = Ctr::of(rt.clone(), test);
            for f in files {
                outs.push(outcome(&rt.name, f, &run(c.cmd().args(["images", "import", "--all-platforms"]).arg(f))));
                c.clear();
            }
        }
        Kind::Podman => {
            for f in files {
                let stores = common::tempdir();
                let out = run(rt.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(f));
                outs.push(outcome(&rt.name, f, &out));
            }
        }
    }
    outs
}

/// Every runtime real-tools.sh brought up (and the opt-in ones), each on its own thread.
fn load_everywhere(test: &str, files: &[PathBuf]) -> Vec<Outcome> {
    let all: Vec<Runtime> =
        [Kind::Docker, Kind::Containerd, Kind::Podman].into_iter().flat_map(|k| runtimes(test, k)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = all.iter().map(|rt| s.spawn(move || load_each(rt, test, files))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[test]
fn target_predictions_match_the_real_runtimes() {
    let test = "target_predictions_match_the_real_runtimes";
    let tmp = common::tempdir();
    let corpus = target_corpus(tmp.path());
    assert!(corpus.len() >= 40, "corpus of {} archives", corpus.len());
    let outcomes = load_everywhere(test, &corpus);
    let names: Vec<String> = outcomes.iter().map(|o| o.runtime.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let predicted: BTreeMap<&Path, Vec<(bool, BTreeSet<String>)>> = corpus
        .iter()
        .map(|f| (f.as_path(), if names.is_empty() { Vec::new() } else { predicts_load(f, &names) }))
        .collect();
    let mut wrong = Vec::new();
    let mut summary = Vec::new();
    let mut table = String::from("runtime\tarchive\tloaded\tpredicted\trules\terror\n");
    // (rule, runtime) pairs that fired, each on an archive the runtime then refused.
    let mut fired: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, rt) in names.iter().enumerate() {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| &o.runtime == rt).collect();
        let (mut right, mut loads) = (0, 0);
        for o in &mine {
            let (says, rules) = &predicted[o.file.as_path()][i];
            let name = o.file.file_name().unwrap().to_string_lossy();
            if *says == o.loaded {
                right += 1;
                fired.extend(rules.iter().map(|r| (r.clone(), rt.clone())));
            } else {
                wrong.push(format!("{rt} {name}: airlock says {says}, the runtime {} ({})", o.loaded, o.err));
            }
            loads += usize::from(o.loaded);
            let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
            let err = o.err.lines().last().unwrap_or("").replace('\t', " ");
            table.push_str(&format!("{rt}\t{name}\t{}\t{says}\t{}\t{err}\n", o.loaded, rules.join(",")));
        }
        summary.push(format!("{rt}: {right}/{} right ({loads} load, {} do not)", mine.len(), mine.len() - loads));
    }
    // The whole table, for whoever updates the README's figures.
    let tsv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("target-predictions.tsv");
    let _ = std::fs::write(&tsv, table);
    let _ = writeln!(
        std::io::stderr(),
        "target predictions vs real runtimes ({} archives; table in {}): {}",
        corpus.len(),
        tsv.display(),
        summary.join("; ")
    );
    assert!(wrong.is_empty(), "wrong predictions:\n{}", wrong.join("\n"));
    // Each rule says which of these runtimes it was measured with: exactly those where it fired.
    if names.len() == real_tools::EXPECTED.len() {
        let claimed: BTreeSet<(String, String)> = airlock::testing::TARGET_RULES
            .iter()
            .filter(|r| r.code != airlock::finding::Code::TargetLoadChanges)
            .flat_map(|r| r.measured.iter().map(|m| (r.id.to_string(), m.to_string())))
            .collect();
        let unbacked: Vec<_> = claimed.difference(&fired).collect();
        let unclaimed: Vec<_> = fired.difference(&claimed).collect();
        assert!(unbacked.is_empty(), "rules claim a measurement no archive here backs: {unbacked:?}");
        assert!(unclaimed.is_empty(), "rules measured here that do not say so: {unclaimed:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The rule itself: the tests touch the project's own daemons only
// ---------------------------------------------------------------------------------------------

/// A unix socket that records the request line of everything sent to it. As a `fake_docker`,
/// it answers `/_ping` and `/info` the way a dockerd whose data root is /var/lib/docker would;
/// otherwise it closes every connection at once.
struct Recorder {
    seen: std::sync::Arc<Mutex<Vec<String>>>,
}

fn recorder(path: &Path, fake_docker: bool) -> Recorder {
    use std::io::{BufRead as _, BufReader};
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            log.lock().unwrap_or_else(PoisonError::into_inner).push(first.trim().to_string());
            if !fake_docker {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = if first.contains("/info") {
                r#"{"ID":"fake","DockerRootDir":"/var/lib/docker","ServerVersion":"20.10.24","Driver":"vfs"}"#
            } else {
                "OK"
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            if !first.starts_with("HEAD") {
                let _ = conn.write_all(body.as_bytes());
            }
        }
    });
    Recorder { seen }
}

impl Recorder {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Runs this test binary again (every test but the tool-only ones), with `DOCKER_HOST`,
/// `CONTAINERD_ADDRESS` and `CONTAINER_HOST` on recording sockets, and a state directory that
/// holds real-tools.sh's marker but lists: a "dockerd" in it whose data root is elsewhere, a
/// docker and a containerd whose sockets are outside it, a podman whose stores would be
/// outside it, and a containerd that did not come up. No test may send the environment's
/// daemons anything, nor the fake dockerd more than the identity check (`/_ping`, `/info`).
#[test]
fn interop_touches_only_the_projects_daemons() {
    if std::env::var_os("AIRLOCK_INTEROP_GATE_CHILD").is_some() {
        return;
    }
    let test = "interop_touches_only_the_projects_daemons";
    let (Some(docker_cli), Some(ctr_cli)) = (real_tools::which("docker"), real_tools::which("ctr")) else {
        skip(test, "needs the docker and ctr clients");
        return;
    };
    let tmp = common::tempdir();
    let base = tmp.path().canonicalize().unwrap();
    let outside = base.join("outside");
    let state = base.join("state");
    for d in [&outside, &state.join("docker"), &state.join("podman-4.3")] {
        std::fs::create_dir_all(d).unwrap();
    }
    let env_docker = recorder(&outside.join("docker.sock"), false);
    let env_containerd = recorder(&outside.join("containerd.sock"), false);
    let env_podman = recorder(&outside.join("podman.sock"), false);
    let fake_dockerd = recorder(&state.join("docker/sock"), true);
    std::fs::write(state.join(real_tools::MARKER), format!("{}\n", real_tools::MARKER_LINE)).unwrap();
    let (d, c, o) = (docker_cli.display(), ctr_cli.display(), outside.display());
    let lines = [
        format!("docker@20.10\tdocker\tup\tunix://{}/docker/sock\t{d}\t20.10.24", state.display()),
        format!("docker@26.1\tdocker\tup\tunix://{o}/docker.sock\t{d}\t26.1.5"),
        format!("containerd@1.6\tcontainerd\tup\t{o}/containerd.sock\t{c}\t1.6.20"),
        format!(
            "containerd@1.7\tcontainerd\tfailed\t{}/containerd-1.7/sock\t{c}\tcontainerd did not come up",
            state.display()
        ),
        format!("podman@4.3\tpodman\tup\t{o}\t/usr/bin/podman\t4.3.1"),
    ];
    std::fs::write(state.join("runtimes"), lines.join("\n") + "\n").unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--skip", test, "--skip", "skopeo_", "--skip", "umoci_", "--test-threads", "4"]);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("AIRLOCK_") || k.starts_with("DOCKER_") || k.starts_with("CONTAINER") {
            child.env_remove(&k);
        }
    }
    child
        .env("AIRLOCK_INTEROP_GATE_CHILD", "1")
        .env("AIRLOCK_TOOLS_DIR", &state)
        .env("DOCKER_HOST", format!("unix://{o}/docker.sock"))
        .env("CONTAINERD_ADDRESS", outside.join("containerd.sock"))
        .env("CONTAINER_HOST", format!("unix://{o}/podman.sock"));
    let out = run(&mut child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the interop tests failed without daemons:\n{}{stderr}", stdout_of(&out));

    assert_eq!(env_docker.seen(), Vec::<String>::new(), "DOCKER_HOST's daemon was asked");
    assert_eq!(env_containerd.seen(), Vec::<String>::new(), "CONTAINERD_ADDRESS's daemon was asked");
    assert_eq!(env_podman.seen(), Vec::<String>::new(), "CONTAINER_HOST's service was asked");
    let asked = fake_dockerd.seen();
    assert!(!asked.is_empty(), "the fake dockerd in the state directory was never checked");
    for r in &asked {
        let path = r.split_whitespace().nth(1).unwrap_or("");
        assert!(path == "/_ping" || path.ends_with("/info"), "the unverified dockerd was asked {r:?} (all: {asked:?})");
    }
    // Each refusal says why.
    let state_s = state.display().to_string();
    for why in [
        format!("docker@20.10: the daemon on unix://{state_s}/docker/sock keeps its data in \"/var/lib/docker\""),
        format!("docker@26.1: unix://{o}/docker.sock is not inside the state directory {state_s}"),
        format!("containerd@1.6: {o}/containerd.sock is not inside the state directory"),
        "containerd@1.7: real-tools.sh could not bring it up: containerd did not come up".to_string(),
        format!("podman@4.3: {o} is not inside the state directory"),
    ] {
        assert!(stderr.contains(&why), "no skip line saying {why:?}:\n{stderr}");
    }
}

/// podman is run on stores under the test's directory only, never through a remote service.
#[test]
fn podman_runs_on_private_stores() {
    let rt = Runtime {
        name: "podman@4.3".into(),
        kind: Kind::Podman,
        cli: PathBuf::from("/usr/bin/podman"),
        endpoint: "/nonexistent".into(),
        detail: String::new(),
        opt_in: false,
    };
    let stores = Path::new("/tmp/airlock-test-stores");
    let cmd = rt.podman_command(stores);
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    for (flag, dir) in [("--root", "root"), ("--runroot", "run"), ("--tmpdir", "tmp")] {
        let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("no {flag} in {args:?}"));
        assert_eq!(Path::new(&args[at + 1]), stores.join(dir), "{flag}");
    }
    assert!(args.contains(&"--remote=false".to_string()), "{args:?}");
    let removed: BTreeSet<String> =
        cmd.get_envs().filter(|(_, v)| v.is_none()).map(|(k, _)| k.to_string_lossy().into_owned()).collect();
    for k in ["CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"] {
        assert!(removed.contains(k), "{k} not dropped: {removed:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Broken archives: which runtimes load what verify refuses
// ---------------------------------------------------------------------------------------------

/// Flips one byte of the first regular file's content in a layer tar: the tar stays valid, its
/// diffID changes.
fn flip_file_byte(layer: &mut [u8]) {
    let mut a = tar::Archive::new(&layer[..]);
    let at = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.header().entry_type().is_file() && e.size() > 0)
        .map(|e| e.raw_file_position() as usize)
        .expect("a layer with a regular file");
    layer[at] ^= 0x01;
}

/// The broken archives of tests/broken.rs that still look loadable, made from docker save's
/// legacy layout and from the Docker 25+ layout (ctr's export: index.json and manifest.json),
/// each with the error code verify must give.
fn broken_archives(dir: &Path) -> Vec<(&'static str, Expect, PathBuf)> {
    use common::{find, json_of, read_tar, regular, sha256_hex, write_tar};
    type Edit = fn(&mut Vec<common::M>);
    let legacy: Vec<(&str, Expect, Edit)> = vec![
        ("legacy: a layer's bit flipped", (&["diff-id-mismatch"], &[]), |ms| {
            let man = json_of(find(ms, "manifest.json"));
            flip_file_byte(&mut find(ms, man[0]["Layers"][1].as_str().unwrap()).data);
        }),
        ("legacy: the config lies about a diffID", (&["diff-id-mismatch"], &[]), |ms| {
            let mut man = json_of(find(ms, "manifest.json"));
            let name = man[0]["Config"].as_str().unwrap().to_string();
            let mut cfg = json_of(find(ms, &name));
            cfg["rootfs"]["diff_ids"][1] = format!("sha256:{}", sha256_hex(b"lie")).into();
            let bytes = serde_json::to_vec(&cfg).unwrap();
            let new = format!("{}.json", sha256_hex(&bytes));
            ms.retain(|m| m.path != name);
            ms.push(regular(&new, bytes));
            man[0]["Config"] = new.into();
            find(ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
        }),
        ("legacy: one layer fewer than the config", (&["history-mismatch", "layer-count-mismatch"], &[]), |ms| {
            let mut man = json_of(find(ms, "manifest.json"));
            man[0]["Layers"].as_array_mut().unwrap().pop();
            find(ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
        }),
        ("legacy: a layer file missing", (&["blob-missing"], &[]), |ms| {
            let man = json_of(find(ms, "manifest.json"));
            let gone = man[0]["Layers"][1].as_str().unwrap().to_string();
            ms.retain(|m| m.path != gone);
        }),
        ("legacy: the config edited under its old name", (&["blob-digest-mismatch"], &[]), |ms| {
            let man = json_of(find(ms, "manifest.json"));
            let m = find(ms, man[0]["Config"].as_str().unwrap());
            let mut cfg = json_of(m);
            cfg["config"]["Env"] = serde_json::json!(["EVIL=1"]);
            m.data = serde_json::to_vec(&cfg).unwrap();
        }),
    ];
    let oci: Vec<(&str, Expect, Edit)> = vec![
        ("Docker 25+ layout: a layer's bit flipped", (&["blob-digest-mismatch", "diff-id-mismatch"], &[]), |ms| {
            let man = json_of(find(ms, "manifest.json"));
            flip_file_byte(&mut find(ms, man[0]["Layers"][1].as_str().unwrap()).data);
        }),
        ("Docker 25+ layout: the config lies about a diffID", (&["diff-id-mismatch"], &["unreferenced-blob"]), |ms| {
            oci_edit(ms, OciEdit::DiffIdLie)
        }),
        (
            "Docker 25+ layout: one layer fewer than the config",
            (&["history-mismatch", "layer-count-mismatch"], &["unreferenced-blob"]),
            |ms| oci_edit(ms, OciEdit::DropLayer),
        ),
        ("Docker 25+ layout: a layer blob missing", (&["blob-missing"], &[]), |ms| {
            let man = json_of(find(ms, "manifest.json"));
            let gone = man[0]["Layers"][1].as_str().unwrap().to_string();
            ms.retain(|m| m.path != gone);
        }),
        (
            "Docker 25+ layout: the manifest edited under its old digest",
            (&["blob-digest-mismatch", "blob-size-mismatch"], &[]),
            |ms| oci_edit(ms, OciEdit::ManifestInPlace),
        ),
        (
            "Docker 25+ layout: a layer descriptor's size wrong",
            (&["blob-size-mismatch"], &["unreferenced-blob"]),
            |ms| oci_edit(ms, OciEdit::LayerSize),
        ),
    ];
    let mut out = Vec::new();
    for (fixture, cases) in [("docker-save-legacy.tar", legacy), ("ctr-export.tar", oci)] {
        for (i, (name, code, edit)) in cases.into_iter().enumerate() {
            let mut ms = read_tar(&common::fixture(fixture));
            edit(&mut ms);
            let p = dir.join(format!("broken-{}-{i}.tar", fixture.trim_end_matches(".tar")));
            write_tar(&p, &ms);
            out.push((name, code, p));
        }
    }
    out
}

enum OciEdit {
    DiffIdLie,
    DropLayer,
    ManifestInPlace,
    LayerSize,
}

/// Edits the Docker 25+ layout's manifest (and its config), keeping index.json and
/// manifest.json pointing at what they should, so only the edit is wrong.
fn oci_edit(ms: &mut Vec<common::M>, how: OciEdit) {
    use common::{find, json_of, regular, sha256_hex};
    let blob = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let mut index = json_of(find(ms, "index.json"));
    let mdigest = index["manifests"][0]["digest"].as_str().unwrap().to_string();
    let mut man = json_of(find(ms, &blob(&mdigest)));
    let put = |ms: &mut Vec<common::M>, bytes: Vec<u8>| {
        let d = format!("sha256:{}", sha256_hex(&bytes));
        ms.push(regular(&blob(&d), bytes.clone()));
        (d, bytes.len())
    };
    match how {
        OciEdit::ManifestInPlace => {
            man["annotations"] = serde_json::json!({"evil": "1"});
            find(ms, &blob(&mdigest)).data = serde_json::to_vec(&man).unwrap();
            return;
        }
        OciEdit::DiffIdLie => {
            let cpath = blob(man["config"]["digest"].as_str().unwrap());
            let mut cfg = json_of(find(ms, &cpath));
            cfg["rootfs"]["diff_ids"][1] = format!("sha256:{}", sha256_hex(b"lie")).into();
            let (d, n) = put(ms, serde_json::to_vec(&cfg).unwrap());
            man["config"]["digest"] = d.into();
            man["config"]["size"] = n.into();
        }
        OciEdit::DropLayer => {
            man["layers"].as_array_mut().unwrap().pop();
        }
        OciEdit::LayerSize => {
            let n = man["layers"][1]["size"].as_u64().unwrap();
            man["layers"][1]["size"] = (n + 512).into();
        }
    }
    let (d, n) = put(ms, serde_json::to_vec(&man).unwrap());
    index["manifests"][0]["digest"] = d.into();
    index["manifests"][0]["size"] = n.into();
    find(ms, "index.json").data = serde_json::to_vec(&index).unwrap();
    let mut mj = json_of(find(ms, "manifest.json"));
    mj[0]["Config"] = blob(man["config"]["digest"].as_str().unwrap()).into();
    mj[0]["Layers"] =
        man["layers"].as_array().unwrap().iter().map(|l| Value::from(blob(l["digest"].as_str().unwrap()))).collect();
    find(ms, "manifest.json").data = serde_json::to_vec(&mj).unwrap();
}

/// The exact error and warning codes verify reports for a broken archive.
type Expect = (&'static [&'static str], &'static [&'static str]);

/// Every broken archive is refused by verify with its code; each runtime is asked to load it
/// from an empty store, and which ones it loads is the measured table the README quotes.
#[test]
fn runtimes_load_broken_archives_verify_refuses() {
    let test = "runtimes_load_broken_archives_verify_refuses";
    let tmp = common::tempdir();
    let cases = broken_archives(tmp.path());
    // Every row at once, so a change shows the whole table: (name, exit status, the error
    // codes, the warning codes).
    let strings = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want: Vec<_> = cases
        .iter()
        .map(|(name, (errors, warnings), _)| (*name, i32::from(!errors.is_empty()), strings(errors), strings(warnings)))
        .collect();
    let got: Vec<_> = cases
        .iter()
        .map(|(name, _, p)| {
            let r = common::verify(p, &[]);
            (*name, r.code, common::codes_of(&r.json, "error"), common::codes_of(&r.json, "warning"))
        })
        .collect();
    assert_eq!(got, want, "verify's findings for each broken archive");
    let files: Vec<PathBuf> = cases.iter().map(|(_, _, p)| p.clone()).collect();
    let outcomes = load_everywhere(test, &files);
    let mut by_runtime: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for o in &outcomes {
        let name = cases.iter().find(|(_, _, p)| *p == o.file).map(|(n, _, _)| *n).unwrap();
        let list = by_runtime.entry(o.runtime.as_str()).or_default();
        if o.loaded {
            list.push(name);
        }
    }
    let mut lines = Vec::new();
    for (rt, loaded) in &by_runtime {
        lines.push(format!("{rt}: loads {} of {}: {}", loaded.len(), cases.len(), loaded.join("; ")));
    }
    let _ = writeln!(std::io::stderr(), "broken archives verify refuses, loaded anyway:\n  {}", lines.join("\n  "));
    // What was measured (the README's table): any change in a runtime shows here.
    for (rt, got) in &by_runtime {
        let want = BROKEN_LOADED.iter().find(|(r, _)| r == rt).map(|(_, w)| *w);
        assert_eq!(Some(&got[..]), want, "{rt}: the broken archives it loads");
    }
}

const L_CONFIG: &str = "legacy: the config edited under its old name";
const O_MANIFEST: &str = "Docker 25+ layout: the manifest edited under its old digest";
const O_SIZE: &str = "Docker 25+ layout: a layer descriptor's size wrong";
const O_DIFFID: &str = "Docker 25+ layout: the config lies about a diffID";
const O_COUNT: &str = "Docker 25+ layout: one layer fewer than the config";

/// Which of `broken_archives` each runtime loads (exit status 0), as measured, in order.
const BROKEN_LOADED: &[(&str, &[&str])] = &[
    ("containerd@1.6", &[L_CONFIG, O_SIZE]),
    ("containerd@1.7", &[L_CONFIG, O_SIZE]),
    ("containerd@2.1", &[L_CONFIG, O_SIZE]),
    ("docker@20.10", &[L_CONFIG, O_MANIFEST, O_SIZE]),
    ("docker@26.1", &[L_CONFIG, O_MANIFEST, O_SIZE]),
    ("docker@28.5", &[L_CONFIG, O_MANIFEST, O_SIZE]),
    (
        "docker@29",
        &[
            "legacy: a layer's bit flipped",
            "legacy: the config lies about a diffID",
            "legacy: one layer fewer than the config",
            L_CONFIG,
            "Docker 25+ layout: a layer's bit flipped",
            O_DIFFID,
            O_COUNT,
            "Docker 25+ layout: a layer blob missing",
            O_MANIFEST,
            O_SIZE,
        ],
    ),
    ("podman@4.3", &[L_CONFIG, O_DIFFID, O_COUNT, O_MANIFEST, O_SIZE]),
    ("podman@5.4", &[L_CONFIG, O_COUNT, O_MANIFEST, O_SIZE]),
];
/// Issue 14, HIGH-1: a second manifest.json behind a GNU long-name header whose name is
/// empty. Go keeps the header's own name, so docker 20.10 and `ctr images import` read both
/// manifest.json members and load the image the later one names. airlock must report that
/// image (it also refuses the archive for the duplicate member).
#[test]
fn runtimes_load_the_manifest_behind_an_empty_long_name() {
    let tmp = common::tempdir();
    for (i, payload) in [&b""[..], b"\0"].into_iter().enumerate() {
        let dir = tmp.path().join(i.to_string());
        std::fs::create_dir(&dir).unwrap();
        let h = common::tar_cases::hidden_manifest(&dir, payload);
        let run = common::verify(&h.archive, &[]);
        let reported: Vec<&str> = run.json["inputs"][0]["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["config_digest"].as_str().unwrap())
            .collect();
        assert_eq!(reported, [h.evil_id.as_str()], "verify: {}", run.json);
        assert_ne!(h.good_id, h.evil_id);
        let test = "runtimes_load_the_manifest_behind_an_empty_long_name";
        if let Some(d) = docker(test) {
            d.empty_store();
            d.load(&h.archive);
            assert_eq!(d.inspect(&h.tag)["Id"], reported[0], "docker 20.10 loaded another image than verify reported");
        }
        if let Some(ctr) = containerd(test) {
            ctr.clear();
            ctr.import(&h.archive, &[]);
            let imgs = ctr.images();
            assert_eq!(imgs.len(), 1, "ctr images ls: {imgs:?}");
            let manifest = run_ok(ctr.cmd().args(["content", "get", imgs[0].digest.as_str()]));
            let manifest = json_of_bytes("the imported manifest", &manifest.stdout);
            assert_eq!(manifest["config"]["digest"], reported[0], "ctr imported another image than verify reported");
        }
    }
}

/// Issue 14 (LOW): a gzip-wrapped archive damaged after the tar's end-of-archive marker.
/// docker 20.10 loads trailing zeros and trailing bytes (Go's tar reader stops at the
/// marker); a damaged trailer fails it when dockerd decompresses with unpigz, and loads
/// otherwise. Whatever it does, it never loads another image than the one verify reported
/// (verify warns, `archive-trailer-ignored`).
#[test]
fn docker_loads_gzip_damaged_after_the_tar() {
    let tmp = common::tempdir();
    let p = tmp.path().join("app.tar.gz");
    let exp = amd64("docker-save-legacy.tar.gz");
    let mut table = Vec::new();
    let Some(d) = docker("docker_loads_gzip_damaged_after_the_tar") else { return };
    for (name, bytes) in common::tar_cases::gzip_trailer_cases() {
        std::fs::write(&p, &bytes).unwrap();
        let v = common::verify(&p, &[]);
        common::assert_codes(&v, &[], &["archive-trailer-ignored"]);
        assert_eq!(v.code, 0, "{name}: {}", v.json);
        let reported = v.json["inputs"][0]["images"][0]["config_digest"].as_str().unwrap().to_string();
        assert_eq!(reported, exp.image_id, "{name}");
        d.empty_store();
        let out = run(d.cmd().arg("load").arg("-i").arg(&p));
        let loaded = d.image_ids();
        if name.starts_with("trailing") {
            assert!(out.status.success(), "{name}: docker load: {}", String::from_utf8_lossy(&out.stderr));
        }
        if out.status.success() {
            assert_eq!(loaded, BTreeSet::from([reported.clone()]), "{name}: docker loaded another image");
        } else {
            assert!(loaded.is_empty(), "{name}: a failed load left {loaded:?}");
        }
        table.push(format!("{name}: {}", if out.status.success() { "loads" } else { "refuses" }));
    }
    let _ = writeln!(std::io::stderr(), "gzip damage after the tar, docker 20.10: {}", table.join("; "));
}

// ---------------------------------------------------------------------------------------------
// Images, artifacts and tags: what the runtime loads is what verify reported
// ---------------------------------------------------------------------------------------------

/// verify of `input`: its one image, as the runtime should show it.
fn reported_image(input: &Path) -> Expected {
    let r = common::verify(input, &[]);
    common::assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}: {}", input.display(), r.json);
    let images = r.json["inputs"][0]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{}: {}", input.display(), r.json);
    let layers = images[0]["layers"].as_array().unwrap();
    let strings = |k: &str| layers.iter().map(|l| l[k].as_str().unwrap().to_string()).collect::<Vec<_>>();
    Expected {
        image_id: images[0]["config_digest"].as_str().unwrap().to_string(),
        diff_ids: strings("diff_id"),
        chain_ids: strings("chain_id"),
        manifest_digest: images[0]["manifest_digest"].as_str().map(str::to_string),
    }
}

/// An OCI archive (a tar) of the layout `dir`.
fn oci_archive(dir: &Path, out: &Path) -> PathBuf {
    common::tar_c(dir, out, &["oci-layout", "index.json", "blobs"]);
    out.to_path_buf()
}

/// Issue 14, HIGH-4: an ordinary image under an artifact's annotations, or with another
/// config media type, is imported and unpacked by ctr under its name; verify checks it as the
/// image it is, and containerd's snapshots are the chainIDs verify computed.
#[test]
fn ctr_unpacks_an_annotated_image_as_verified() {
    use serde_json::json;
    let tmp = common::tempdir();
    type Case = (&'static str, Value, fn(&mut Value));
    let cases: [Case; 3] = [
        ("kind sigs", json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {}),
        ("attestation-manifest", json!({"vnd.docker.reference.type": "attestation-manifest"}), |_| {}),
        ("unknown config type", json!({}), |m| {
            m["config"]["mediaType"] = json!("application/vnd.example.config.v1+json")
        }),
    ];
    let mut archives = Vec::new();
    for (n, (what, notes, edit)) in cases.into_iter().enumerate() {
        let d = tmp.path().join(n.to_string());
        std::fs::create_dir(&d).unwrap();
        let dir = common::images::annotated(&d, notes, edit);
        let archive = oci_archive(&dir, &d.join("annotated.tar"));
        archives.push((what, reported_image(&archive), archive));
    }
    let Some(ctr) = containerd("ctr_unpacks_an_annotated_image_as_verified") else { return };
    for (what, exp, archive) in archives {
        let digest = exp.manifest_digest.clone();
        ctr.check_import(what, &archive, &[], "docker.io/airlock/annotated:1", digest.as_deref(), &exp);
        ctr.clear();
    }
}

/// What verify calls an artifact (a cosign signature: simplesigning payload) ctr does not
/// unpack, even under a name.
#[test]
fn ctr_does_not_unpack_an_artifact() {
    use serde_json::json;
    let tmp = common::tempdir();
    let payload = br#"{"critical":{"identity":{"docker-reference":"docker.io/airlock/app"},"image":{"docker-manifest-digest":"sha256:b4c3cdf1e7d27c1a7cd67a816bdb6903f5fc99996279ccd18eb03aed10e17ba5"},"type":"cosign container image signature"},"optional":null}"#;
    let dir = common::images::annotated(tmp.path(), json!({"kind": "dev.cosignproject.cosign/sigs"}), |_| {});
    let (pd, ps) = common::images::put(&dir, payload);
    let cfg = json!({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": [pd]}});
    let (cd, cs) = common::images::put(&dir, &serde_json::to_vec(&cfg).unwrap());
    common::rewrite_manifest(&dir, |m| {
        m["config"] = json!({"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs});
        m["layers"] =
            json!([{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": pd, "size": ps}]);
    });
    let archive = oci_archive(&dir, &tmp.path().join("sig.tar"));
    let r = common::verify(&archive, &[]);
    let input = &r.json["inputs"][0];
    assert_eq!(input["images"].as_array().unwrap().len(), 0, "{}", r.json);
    assert_eq!(input["artifacts"][0]["kind"], "signature", "{}", r.json);
    let Some(ctr) = containerd("ctr_does_not_unpack_an_artifact") else { return };
    // ctr 1.6 fails ("failed to get stream processor"), 2.1 records the name unpacked or not.
    let _ = run(ctr.cmd().args(["images", "import"]).arg(&archive));
    let check = stdout_of(&run_ok(ctr.cmd().args(["images", "check"])));
    for line in check.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        assert!(line.trim_end().ends_with("false"), "ctr unpacked the signature: {line}");
    }
    assert!(ctr.snapshots().is_empty(), "no layer of the signature was unpacked");
}

/// The image ID (config digest) of the image ctr lists under `name`.
fn ctr_config_of(ctr: &Ctr, name: &str) -> String {
    let img = ctr.images().into_iter().find(|i| i.name == name).unwrap_or_else(|| panic!("ctr lists no {name}"));
    let manifest = run_ok(ctr.cmd().args(["content", "get", img.digest.as_str()]));
    json_of_bytes("manifest", &manifest.stdout)["config"]["digest"].as_str().unwrap().to_string()
}

/// The image a `tag-conflict` finding says the runtime keeps ("keep the later: image X").
fn kept_by_the_runtime(r: &common::Run) -> String {
    let f = r.json["inputs"][0]["findings"].as_array().unwrap().iter().find(|f| f["code"] == "tag-conflict").cloned();
    let msg = f.unwrap_or_else(|| panic!("no tag-conflict: {}", r.json))["message"].as_str().unwrap().to_string();
    let later = msg.rsplit_once("keep the later: image ").unwrap_or_else(|| panic!("{msg}")).1;
    later.split(' ').next().unwrap().to_string()
}

/// Issue 14, HIGH-5: one tag on two images of one manifest.json, and across two inputs. The
/// tag ends on the image verify's finding says docker keeps.
#[test]
fn docker_keeps_the_tag_where_verify_says() {
    let tmp = common::tempdir();
    let dup = common::images::multi_tagged(tmp.path(), "dup.tar", [&["airlock/dup:1"], &["airlock/dup:1"]]);
    let r = common::verify(&dup, &[]);
    common::assert_codes(&r, &["tag-conflict"], &[]);
    let later = kept_by_the_runtime(&r);
    let app = common::images::one_of_multi(tmp.path(), "app.tar", 0, "airlock/dup:1");
    let tool = common::images::one_of_multi(tmp.path(), "tool.tar", 1, "airlock/dup:1");
    let r2 = common::run_json(&["verify", "--json", "-q", app.to_str().unwrap(), tool.to_str().unwrap()]);
    common::assert_codes(&r2, &["tag-conflict"], &[]);
    assert_eq!(r2.json["findings"][0]["code"], "tag-conflict", "across the inputs: {}", r2.json);
    let ids = expected_json("docker-save-multi.tar");
    let id_of = |tag: &str| {
        let i = ids["images"].as_array().unwrap().iter().find(|i| i["tags"].to_string().contains(tag)).unwrap();
        i["image_id"].as_str().unwrap().to_string()
    };
    let Some(d) = docker("docker_keeps_the_tag_where_verify_says") else { return };
    d.empty_store();
    d.load(&dup);
    let id = d.inspect("airlock/dup:1")["Id"].as_str().unwrap().to_string();
    assert_eq!(hex(&id)[..12], later, "docker kept the image verify named");
    // Across inputs: the one loaded last.
    for (first, last, want) in [(&app, &tool, id_of("airlock/tool:1")), (&tool, &app, id_of("airlock/app:1"))] {
        d.empty_store();
        d.load(first);
        d.load(last);
        assert_eq!(d.inspect("airlock/dup:1")["Id"], want.as_str(), "loaded {} last", last.display());
    }
}

#[test]
fn ctr_keeps_the_tag_where_verify_says() {
    let tmp = common::tempdir();
    let dup = common::images::multi_tagged(tmp.path(), "dup.tar", [&["airlock/dup:1"], &["airlock/dup:1"]]);
    let later_mj = kept_by_the_runtime(&common::verify(&dup, &[]));
    let d = tmp.path().join("idx");
    std::fs::create_dir(&d).unwrap();
    let dir = common::images::index_with_two_names(&d);
    let idx = oci_archive(&dir, &tmp.path().join("idx.tar"));
    let later_idx = kept_by_the_runtime(&common::verify(&idx, &[]));
    let Some(ctr) = containerd("ctr_keeps_the_tag_where_verify_says") else { return };
    for (what, archive, later) in [("manifest.json", &dup, later_mj), ("index.json", &idx, later_idx)] {
        // ctr 1.6 then fails to unpack the first image (its content went with its name), and
        // says so; the name is the later image's all the same.
        let _ = run(ctr.cmd().args(["images", "import"]).arg(archive));
        let config = ctr_config_of(&ctr, "docker.io/airlock/dup:1");
        assert_eq!(hex(&config)[..12], later, "{what}: ctr kept the image verify named");
        ctr.clear();
    }
}

// ---------------------------------------------------------------------------------------------
// delta / apply: the archive apply rebuilds loads as the one it was made from
// ---------------------------------------------------------------------------------------------

/// `airlock delta NEW --have LOCK -o DELTA`, then `airlock apply DELTA --from BASE -o OUT`.
fn delta_then_apply(tmp: &Path, new: &Path, base: &Path, out: &Path) {
    let lock = tmp.join(format!("{}.lock", base.file_name().unwrap().to_string_lossy()));
    let delta = tmp.join(format!("{}.delta", new.file_name().unwrap().to_string_lossy()));
    for args in [
        vec!["lock", "-q", "-o", lock.to_str().unwrap(), base.to_str().unwrap()],
        vec!["delta", "-q", new.to_str().unwrap(), "--have", lock.to_str().unwrap(), "-o", delta.to_str().unwrap()],
        vec!["apply", "-q", delta.to_str().unwrap(), "--from", base.to_str().unwrap(), "-o", out.to_str().unwrap()],
    ] {
        let o = common::airlock(&args);
        assert_eq!(o.status.code(), Some(0), "airlock {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in diff_ids {
        out.push(match out.last() {
            None => d.clone(),
            Some(prev) => sha256(format!("{prev} {d}").as_bytes()),
        });
    }
    out
}

/// The release pair (fixtures/make-release-pair.sh): app:2 rebuilt by apply from a delta and
/// the far side's app:1, across formats both ways (a docker save rebuilt from skopeo's gzip OCI
/// archive, by diffID; a Docker 26 save rebuilt from docker save's uncompressed layers, by
/// digest). docker 20.10, containerd 1.6 and podman 4.3 load each with the image ID, layers and
/// chainIDs they give the archive it was made from.
#[test]
fn runtimes_load_the_archive_apply_rebuilds() {
    let test = "runtimes_load_the_archive_apply_rebuilds";
    let tmp = common::tempdir();
    let pairs = [
        ("release/app-2.docker.tar", "release/app-1.oci.tar"),
        ("release/app-2.docker26.tar", "docker-save-legacy.tar"),
    ];
    let mut cases = Vec::new();
    for (i, (new, base)) in pairs.iter().enumerate() {
        let out = tmp.path().join(format!("rebuilt-{i}.tar"));
        delta_then_apply(tmp.path(), &common::fixture(new), &common::fixture(base), &out);
        cases.push((common::fixture(new), out));
    }
    let tag = "airlock/app:2";
    if let Some(d) = docker(test) {
        for (new, out) in &cases {
            d.empty_store();
            d.load(new);
            let want = d.inspect(tag);
            d.empty_store();
            let said = d.load(out);
            let exp = Expected {
                image_id: want["Id"].as_str().unwrap().to_string(),
                diff_ids: want["RootFS"]["Layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().into())
                    .collect(),
                chain_ids: Vec::new(),
                manifest_digest: None,
            };
            d.assert_loaded(&format!("{} → apply → docker", new.display()), &said, tag, &exp);
            if let Some(c) = containerd(test) {
                let exp = Expected { chain_ids: chain_ids(&exp.diff_ids), ..exp.clone() };
                c.check_import("original", new, &[], "docker.io/airlock/app:2", None, &exp);
                let original = c.images().remove(0).digest;
                c.clear();
                let name = format!("{} → apply → ctr", new.display());
                let img = c.check_import(&name, out, &[], "docker.io/airlock/app:2", Some(&original), &exp);
                assert_eq!(img.platforms, "linux/amd64", "{name}");
                c.clear();
            }
            if let Some(p) = podman(test) {
                let stores = common::tempdir();
                run_ok(p.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(out));
                let id = run_ok(p.podman_command(stores.path()).args(["image", "inspect", "--format", "{{.Id}}", tag]));
                assert_eq!(
                    format!("sha256:{}", stdout_of(&id).trim()),
                    exp.image_id,
                    "{} → apply → podman",
                    new.display()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// convert --for: every output loads in the runtime it names
// ---------------------------------------------------------------------------------------------

/// `airlock convert INPUT --for TARGET -o OUT EXTRA…`, asserted to succeed; its stderr.
#[track_caller]
fn convert_for(input: &Path, target: &str, out: &Path, extra: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.env("NO_COLOR", "1").arg("convert").arg(input).args(["--for", target, "-o"]).arg(out).args(extra);
    String::from_utf8_lossy(&run_ok(&mut cmd).stderr).into_owned()
}

/// The window case of `--for`: an archive whose zstd layers each declare a 128 MiB window
/// (`long_window_layers`, as `zstd --long=27` writes from a pipe), its tag, and what it holds.
/// `--for` reads each layer's frame header: up to Go's 512 MiB the layers are decoded and
/// written as gzip (the docker format); over it there is no fit (tests/convert.rs,
/// `for_reads_the_zstd_window_of_each_layer`; the runtimes' refusal of 1 GiB windows is in
/// `target_predictions_match_the_real_runtimes`' corpus). Measured with the runtimes real-tools.sh
/// brings up: every one loads this input as it is but docker 20.10, which reads no zstd layer
/// at all ("archive/tar: invalid tar header"); the rule table says the same, and the test
/// holds the prediction to it and loads it unconverted where the rules say it is refused.
fn window_case(tmp: &Path) -> (PathBuf, &'static str, Expected) {
    (long_window_layers(tmp, 27), "airlock/window:27", amd64("skopeo-oci-zstd"))
}

/// Whether airlock predicts that `rt` loads `input` as it is; asserted to be false for
/// docker before 23 (no zstd) and true for every other runtime (a 128 MiB window is within
/// every decoder's limit).
fn window_case_predicted(input: &Path, rt: &Runtime) -> bool {
    let (loads, rules) = predicts_load(input, std::slice::from_ref(&rt.name)).remove(0);
    let major = rt.name.split_once('@').and_then(|(_, v)| v.split('.').next()?.parse::<u32>().ok());
    let old_docker = rt.kind == Kind::Docker && major.is_some_and(|m| m < 23);
    let want: BTreeSet<String> = if old_docker { ["docker-zstd-layers".to_string()].into() } else { BTreeSet::new() };
    assert_eq!((loads, rules), (!old_docker, want), "{}: the prediction for {}", rt.name, input.display());
    loads
}

/// One load per runtime version, of an input that runtime does not load as it is: an OCI
/// layout with zstd layers for docker (docker 20.10 reads neither), a zstd-wrapped docker
/// save for containerd (1.x reads a plain tar only), a gzip-wrapped one for podman (4.3 fails
/// on it), and for k3s a partial export reduced with --platform into its images directory,
/// imported with --all-platforms as k3s does (on containerd 1.7, the line k3s ships). Then,
/// in every runtime, the output for it of zstd layers with a 128 MiB window (`window_case`),
/// and the input as it is where airlock says that runtime refuses it (docker 20.10).
#[test]
fn every_for_output_loads_in_the_runtime_it_names() {
    let test = "every_for_output_loads_in_the_runtime_it_names";
    let tmp = common::tempdir();
    let (window, window_tag, window_exp) = window_case(tmp.path());
    for rt in runtimes(test, Kind::Docker) {
        let out = tmp.path().join(format!("{}.tar", rt.name));
        let said = convert_for(&common::fixture("skopeo-oci-zstd"), &rt.name, &out, &["--tag", "airlock/app:for"]);
        // The prediction for the output, by the rule set the version resolves to (docker@26.1: docker@25).
        assert!(said.lines().any(|l| l.contains(", after: docker@") && l.contains(" loads ")), "{}: {said}", rt.name);
        let d = Docker::of(rt.clone());
        d.empty_store();
        let loaded = d.load(&out);
        let exp = amd64("skopeo-oci-zstd");
        let v = d.inspect("airlock/app:for");
        assert!(loaded.contains("Loaded image: airlock/app:for"), "{}: {loaded}", rt.name);
        assert_eq!(v["RootFS"]["Layers"], serde_json::json!(exp.diff_ids), "{}: .RootFS.Layers", rt.name);
        if rt.name != "docker@29" {
            // The containerd store reports the manifest's digest as the Id; the graph drivers the image ID.
            assert_eq!(v["Id"], exp.image_id.as_str(), "{}: .Id", rt.name);
        }

        // The 128 MiB windows: refused as they are where airlock says so, loaded once converted.
        if !window_case_predicted(&window, &rt) {
            d.empty_store();
            let refused = run(d.cmd().arg("load").arg("-i").arg(&window));
            let err = String::from_utf8_lossy(&refused.stderr);
            assert!(!refused.status.success(), "{}: loaded {} as it is: {err}", rt.name, window.display());
            assert!(d.image_ids().is_empty(), "{}: a refused load left images", rt.name);
        }
        let out = tmp.path().join(format!("{}-window.tar", rt.name));
        let said = convert_for(&window, &rt.name, &out, &[]);
        assert!(said.contains("7 zstd layer(s) are written as gzip"), "{}: {said}", rt.name);
        d.empty_store();
        let loaded = d.load(&out);
        let what = format!("--for {} of 128 MiB windows", rt.name);
        assert!(loaded.contains(&format!("Loaded image: {window_tag}")), "{what}: {loaded}");
        let v = d.inspect(window_tag);
        assert_eq!(v["RootFS"]["Layers"], serde_json::json!(window_exp.diff_ids), "{what}: .RootFS.Layers");
        if rt.name != "docker@29" {
            assert_eq!(v["Id"], window_exp.image_id.as_str(), "{what}: .Id");
        }
    }
    for rt in runtimes(test, Kind::Containerd) {
        let out = tmp.path().join(format!("{}.tar", rt.name));
        convert_for(&common::fixture("docker-save-legacy.tar.zst"), &rt.name, &out, &[]);
        let c = Ctr::of(rt.clone(), test);
        let exp = amd64("docker-save-legacy.tar.zst");
        let what = format!("--for {}", rt.name);
        c.check_import(&what, &out, &["--all-platforms"], "docker.io/airlock/app:1", Some(&index_digest(&out)), &exp);
        c.clear();
        assert!(window_case_predicted(&window, &rt), "{}", rt.name);
        let out = tmp.path().join(format!("{}-window.tar", rt.name));
        convert_for(&window, &rt.name, &out, &[]);
        let what = format!("--for {} of 128 MiB windows", rt.name);
        let name = format!("docker.io/{window_tag}");
        c.check_import(&what, &out, &["--all-platforms"], &name, Some(&index_digest(&out)), &window_exp);
        c.clear();
        if rt.name == "containerd@1.7" {
            let dir = tmp.path().join("k3s-images");
            std::fs::create_dir(&dir).unwrap();
            let input = common::fixture("ctr-export-partial.tar");
            let said = convert_for(&input, "k3s", &dir, &["--platform", "linux/amd64"]);
            assert!(said.contains("the index is reduced to the platforms selected: linux/arm64"), "{said}");
            let out = dir.join("ctr-export-partial.tar");
            let exp = expected("multi-platform-oci", "linux/amd64");
            let name = "docker.io/airlock/multi:1";
            c.check_import("--for k3s", &out, &["--all-platforms"], name, Some(&index_digest(&out)), &exp);
            c.clear();
        }
    }
    for rt in runtimes(test, Kind::Podman) {
        let out = tmp.path().join(format!("{}.tar", rt.name));
        convert_for(&common::fixture("docker-save-legacy.tar.gz"), &rt.name, &out, &[]);
        let stores = common::tempdir();
        run_ok(rt.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(&out));
        let id =
            run_ok(rt.podman_command(stores.path()).args(["image", "inspect", "--format", "{{.Id}}", "airlock/app:1"]));
        let exp = amd64("docker-save-legacy.tar.gz");
        assert_eq!(format!("sha256:{}", stdout_of(&id).trim()), exp.image_id, "--for {}", rt.name);

        assert!(window_case_predicted(&window, &rt), "{}", rt.name);
        let out = tmp.path().join(format!("{}-window.tar", rt.name));
        convert_for(&window, &rt.name, &out, &[]);
        let stores = common::tempdir();
        run_ok(rt.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(&out));
        let id = run_ok(rt.podman_command(stores.path()).args(["image", "inspect", "--format", "{{.Id}}", window_tag]));
        let what = format!("--for {} of 128 MiB windows", rt.name);
        assert_eq!(format!("sha256:{}", stdout_of(&id).trim()), window_exp.image_id, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// delta --thin-docker: graph-driver docker loads it over the locked image; the others refuse it
// ---------------------------------------------------------------------------------------------

/// `airlock delta NEW --have LOCK --thin-docker -o OUT`, asserted to succeed.
fn thin_docker(new: &Path, base: &Path, dir: &Path) -> PathBuf {
    let lock = dir.join("base.lock");
    run_ok(Command::new(env!("CARGO_BIN_EXE_airlock")).args(["lock", "-q", "-o"]).arg(&lock).arg(base));
    let out = dir.join("thin.tar");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(["delta", "-q", "--thin-docker", "--have"])
            .arg(&lock)
            .arg("-o")
            .arg(&out)
            .arg(new),
    );
    out
}

/// The chainID of app:1's first layer (its diffID).
const APP1_BOTTOM_CHAIN: &str = "bc998ea4eea8fe602aec1627782c402bce6950c9e2b077e2c9b66dd85870e2a1";

/// Whether a graph-driver docker's layer store holds this chainID, images or not: its
/// `layerdb` under the data root (inside the project's state directory, checked when the
/// runtime was listed).
fn layer_store_holds(d: &Docker, chain_hex: &str) -> bool {
    let out = run_ok(d.cmd().args(["info", "--format", "{{.DockerRootDir}} {{.Driver}}"]));
    let text = stdout_of(&out);
    let (root, driver) = text.trim().split_once(' ').expect("docker info: root and driver");
    Path::new(root).join("image").join(driver).join("layerdb/sha256").join(chain_hex).exists()
}

/// app:2 thin against app:1 (their 7 shared layers left out). docker 20.10, 26.1 and 28.5 with
/// their graph drivers load it over app:1 with app:2's image ID and layers, and refuse it on a
/// store without app:1 (nothing tagged). Docker's containerd store (docker@29), containerd and
/// podman read every layer of an archive: each refuses it, once.
#[test]
fn thin_docker_loads_in_graph_driver_docker_only() {
    let test = "thin_docker_loads_in_graph_driver_docker_only";
    let tmp = common::tempdir();
    let (base, new) = (common::fixture("release/app-1.oci.tar"), common::fixture("release/app-2.docker.tar"));
    let thin = thin_docker(&new, &base, tmp.path());
    let base_docker = tmp.path().join("app-1.docker.tar");
    convert(&base, "docker", &base_docker, &[]);
    let new_id = "sha256:c5e2ad4b10c330f0b6c7e071b5d2ef2183127a5a6eda49b5a24a7b0d04587084";
    for rt in runtimes(test, Kind::Docker) {
        let d = Docker::of(rt.clone());
        d.empty_store();
        // Measured: docker 26.1 kept app:1's layers in its layer store after `rmi -f` of every
        // image (no image left), and then loads the thin archive alone, rightly (it holds the
        // chains). So the refusal is asserted where the store holds no chain of app:1.
        if rt.name == "docker@29" || !layer_store_holds(&d, APP1_BOTTOM_CHAIN) {
            let alone = run(d.cmd().arg("load").arg("-i").arg(&thin));
            assert!(!alone.status.success(), "{}: loaded a thin archive without its lower layers", rt.name);
            assert!(d.image_ids().is_empty(), "{}: a refused load left images", rt.name);
        }
        d.load(&base_docker);
        let over = run(d.cmd().arg("load").arg("-i").arg(&thin));
        if rt.name == "docker@29" {
            let err = String::from_utf8_lossy(&over.stderr);
            assert!(!over.status.success() && err.contains("failed to resolve layers"), "docker@29: {err}");
            continue;
        }
        assert!(over.status.success(), "{}: {}", rt.name, String::from_utf8_lossy(&over.stderr));
        let v = d.inspect("airlock/app:2");
        assert_eq!(v["Id"], new_id, "{}: app:2's image ID", rt.name);
        let layers = v["RootFS"]["Layers"].as_array().unwrap();
        assert_eq!(layers.len(), 8, "{}", rt.name);
        assert_eq!(layers[..7], d.inspect("airlock/app:1")["RootFS"]["Layers"].as_array().unwrap()[..], "{}", rt.name);
    }
    if let Some(c) = containerd(test) {
        run_ok(c.cmd().args(["images", "import", "--all-platforms"]).arg(&base_docker));
        let o = run(c.cmd().args(["images", "import", "--all-platforms"]).arg(&thin));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("failed to resolve layers"), "containerd: {err}");
    }
    if let Some(p) = podman(test) {
        let stores = common::tempdir();
        run_ok(p.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(&base_docker));
        let o = run(p.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(&thin));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("Some layer tarfiles are missing"), "podman: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// flatten: the one-layer image loaded by every runtime
// ---------------------------------------------------------------------------------------------

/// The one image of an archive as `airlock inspect --json` reads it: image ID, manifest
/// digest, diffIDs.
fn one_image(p: &Path) -> (String, String, Vec<String>) {
    let out = common::airlock(&["inspect", "--json", p.to_str().unwrap()]);
    assert!(out.status.success(), "inspect {}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
    let v = json_of_bytes("inspect --json", &out.stdout);
    let img = &v["inputs"][0]["images"][0];
    let diff_ids = img["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].as_str().unwrap().to_string());
    (img["config_digest"].as_str().unwrap().into(), img["manifest_digest"].as_str().unwrap().into(), diff_ids.collect())
}

/// `airlock flatten` of the vfs export fixture (deletes, a directory replaced by a file and
/// back, hard links, devices): docker (every version) loads the docker archive as one layer
/// with the original's Env and Cmd, containerd (every version) imports and unpacks the OCI
/// archive, podman loads it; no container is run.
#[test]
fn flattened_images_load_everywhere() {
    let test = "flattened_images_load_everywhere";
    let tmp = common::tempdir();
    let input = common::fixture("export/docker-vfs.tar");
    let cfg = common::airlock(&["inspect", "--config", input.to_str().unwrap()]);
    let cfg = json_of_bytes("inspect --config", &cfg.stdout);
    let (env, cmd) = (&cfg["config"]["Env"], &cfg["config"]["Cmd"]);
    let files: Vec<PathBuf> = ["docker", "oci-archive"]
        .iter()
        .map(|to| {
            let out = tmp.path().join(format!("flat.{to}.tar"));
            let o =
                common::airlock(&["flatten", "-q", input.to_str().unwrap(), "--to", to, "-o", out.to_str().unwrap()]);
            assert!(o.status.success(), "flatten --to {to}: {}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .collect();
    let (id, manifest, diff_ids) = one_image(&files[0]);
    assert_eq!(diff_ids.len(), 1, "{diff_ids:?}");
    for rt in dockers(test) {
        let d = Docker::of(rt);
        d.empty_store();
        let said = d.load(&files[0]);
        assert!(said.contains("Loaded image: airlock/export-vfs:1"), "{}: docker load said {said:?}", d.rt.name);
        let v = d.inspect("airlock/export-vfs:1");
        // The containerd image store names an image by its manifest, the graph drivers by its config.
        let want_id = if d.rt.name == "docker@29" { &manifest } else { &id };
        assert_eq!(v["Id"], want_id.as_str(), "{}: .Id", d.rt.name);
        assert_eq!(v["RootFS"]["Layers"], serde_json::json!(diff_ids), "{}: .RootFS.Layers", d.rt.name);
        assert_eq!((&v["Config"]["Env"], &v["Config"]["Cmd"]), (env, cmd), "{}: .Config Env and Cmd", d.rt.name);
        d.empty_store();
    }
    let (oci_id, oci_manifest, oci_diff_ids) = one_image(&files[1]);
    assert_eq!((&oci_id, &oci_diff_ids), (&id, &diff_ids), "the docker and oci-archive outputs hold one image");
    for ctr in containerds(test) {
        let exp = Expected {
            image_id: oci_id.clone(),
            diff_ids: diff_ids.clone(),
            chain_ids: diff_ids.clone(),
            manifest_digest: Some(oci_manifest.clone()),
        };
        ctr.check_import(
            "flatten --to oci-archive",
            &files[1],
            &[],
            "docker.io/airlock/export-vfs:1",
            Some(&oci_manifest),
            &exp,
        );
        ctr.clear();
    }
    for rt in runtimes(test, Kind::Podman) {
        let stores = common::tempdir();
        for f in &files {
            run_ok(rt.podman_command(stores.path()).args(["load", "-q", "-i"]).arg(f));
            let out =
                run_ok(rt.podman_command(stores.path()).args(["image", "inspect", id.trim_start_matches("sha256:")]));
            let v = json_of_bytes("podman image inspect", &out.stdout)[0].clone();
            assert_eq!(
                v["RootFS"]["Layers"],
                serde_json::json!(diff_ids),
                "{} {}: .RootFS.Layers",
                rt.name,
                f.display()
            );
            assert_eq!(
                (&v["Config"]["Env"], &v["Config"]["Cmd"]),
                (env, cmd),
                "{} {}: Env and Cmd",
                rt.name,
                f.display()
            );
        }
    }
}
