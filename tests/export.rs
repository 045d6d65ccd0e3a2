//! `airlock export` on archives real tools wrote (fixtures/export/, fixtures/make-export-fixtures.sh)
//! and on hostile layers built byte by byte: what it writes, what it refuses, and that a
//! refused export leaves nothing behind. tests/export_interop.rs holds the output against
//! `docker export` of the same images.

mod common;
use common::*;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

fn export(args: &[&str]) -> Output {
    // Not -q (one verdict line): the tests read the refusals and notes.
    let out = airlock(&[&["export"], args].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One line per entry: `NAME TYPE MODE UID:GID` and a file's sha256 (12 hex), a link's
/// target, a device's numbers, the xattr names.
fn listing(tar_path: &Path) -> Vec<String> {
    let mut a = tar::Archive::new(std::fs::File::open(tar_path).unwrap());
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let t = h.entry_type().as_byte() as char;
        let extra = match t {
            '0' => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut data).unwrap();
                sha256_hex(&data)[..12].to_string()
            }
            '1' | '2' => format!("-> {}", String::from_utf8_lossy(&e.link_name_bytes().unwrap())),
            '3' | '4' => format!("{},{}", h.device_major().unwrap().unwrap(), h.device_minor().unwrap().unwrap()),
            _ => String::new(),
        };
        let mut xattrs: Vec<String> = Vec::new();
        if let Some(pax) = e.pax_extensions().unwrap() {
            for x in pax {
                let x = x.unwrap();
                if let Some(k) = x.key().unwrap().strip_prefix("SCHILY.xattr.") {
                    xattrs.push(k.to_string());
                }
            }
        }
        let mut line = format!("{name} {t} {:o} {}:{}", h.mode().unwrap(), h.uid().unwrap(), h.gid().unwrap());
        let xattrs = if xattrs.is_empty() { String::new() } else { format!("xattrs={}", xattrs.join(",")) };
        for part in [extra, xattrs] {
            if !part.is_empty() {
                line = format!("{line} {part}");
            }
        }
        out.push(line);
    }
    out
}

fn export_fixture(name: &str, dir: &Path) -> PathBuf {
    let base = Path::new(name).file_name().unwrap().to_string_lossy();
    let out = dir.join(format!("{base}.rootfs.tar"));
    let o = export(&[fixture(name).to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
    out
}

/// The staging area, its lock and temporary files are gone, and only `keep` is left.
#[track_caller]
fn nothing_written(dir: &Path, keep: &[&str]) {
    let mut left: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    let mut keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    keep.sort();
    assert_eq!(left, keep, "what is left in {}", dir.display());
}

#[test]
fn every_format_of_an_image_exports_the_same_bytes() {
    let d = tempdir();
    let formats = [
        "docker-save-legacy.tar",
        "docker-save-legacy.tar.gz",
        "docker-save-legacy.tar.zst",
        "skopeo-docker-archive.tar",
        "skopeo-oci-gzip",
        "skopeo-oci-zstd",
        "skopeo-oci-uncompressed",
        "skopeo-oci-archive.tar",
        "podman-save.tar",
        "podman-oci-archive.tar",
        "ctr-export.tar",
        "crane-tarball.tar",
    ];
    let first = std::fs::read(export_fixture(formats[0], d.path())).unwrap();
    for f in &formats[1..] {
        let again = std::fs::read(export_fixture(f, d.path())).unwrap();
        assert!(again == first, "{f} exports other bytes than {}", formats[0]);
    }
    // Taken out of a bundle (the docker save inside a Harbor installer).
    let harbor = d.path().join("harbor.rootfs.tar");
    let bundle = fixture("bundles/harbor-offline-installer-v2.10.0.tgz");
    let o = export(&[bundle.to_str().unwrap(), "--image", "airlock/app:1", "-o", harbor.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(std::fs::read(&harbor).unwrap() == first, "the Harbor bundle's app exports other bytes");
    // The app image: /etc/remove-me and the first /top.txt were deleted by whiteouts.
    let l = listing(&d.path().join("docker-save-legacy.tar.rootfs.tar"));
    let names: Vec<&str> = l.iter().map(|s| s.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "./",
            "bin/",
            "bin/hello",
            "data/",
            "data/nested/",
            "etc/",
            "tmp/",
            "bin/fixture-tool",
            "etc/issue",
            "etc/motd",
            "data/data.txt",
            "data/nested/deep.txt",
            "top.txt"
        ]
    );
}

/// docker 20.10 (vfs) built it: setuid and sticky modes, owners, a capability xattr, devices
/// and a FIFO, hard links (one to a path a later layer deletes), a directory replaced by a
/// file and back, parents no layer has an entry for (docker 20.10 made them 0600).
#[test]
fn the_vfs_fixture_exports_the_filesystem_docker_builds() {
    let d = tempdir();
    let out = export_fixture("export/docker-vfs.tar", d.path());
    let want = [
        "./ 5 755 0:0",
        "abs 2 777 0:0 -> /etc/issue",
        "bin/ 5 755 0:0",
        "d/ 5 750 0:0",
        "etc/ 5 755 0:0",
        "nodes/ 5 755 0:0",
        "nodes/fifo 6 644 0:0",
        "nodes/null 3 644 0:0 1,3",
        "nodes/sda 4 644 0:0 8,0",
        "sticky/ 5 1777 33:44",
        "tmp/ 5 1777 0:0",
        "usr/ 5 600 0:0",
        "usr/local/ 5 600 0:0",
        "usr/local/share/ 5 600 0:0",
        "usr/local/share/doc/ 5 600 0:0",
        "bin/overlay-tool 0 755 0:0 4d2a65e6be74",
        "etc/issue 0 644 0:0 d900ac7985eb",
        "alias 0 644 0:0 f9ae2c8c9aa5",
        "cap 0 644 0:0 1146a4c81194 xattrs=security.capability",
        "hl-2 0 644 0:0 63f53e09781c",
        "orig2 0 644 0:0 480c2336b410",
        "alias2 0 644 0:0 480c2336b410",
        "etc/keep 0 600 0:0 f660a7996dea",
        "d/new 0 644 0:0 5c6c252364ca",
    ];
    assert_eq!(listing(&out), want);
    // The same input gives the same bytes.
    let again = d.path().join("again.tar");
    assert_eq!(code(&export(&[fixture("export/docker-vfs.tar").to_str().unwrap(), "-o", again.to_str().unwrap()])), 0);
    assert!(std::fs::read(&again).unwrap() == std::fs::read(&out).unwrap(), "two exports differ");
}

/// docker 20.10 with overlay2 wrote opaque whiteouts (`o/.wh..wh..opq`, and `f/` when a file
/// became a directory) and a hard link beside its target.
#[test]
fn the_overlay2_fixture_applies_opaque_whiteouts() {
    let d = tempdir();
    let out = export_fixture("export/docker-overlay2.tar", d.path());
    let want = [
        "./ 5 755 0:0",
        "bin/ 5 755 0:0",
        "etc/ 5 755 0:0",
        "o/ 5 700 7:8",
        "tmp/ 5 1777 0:0",
        "usr/ 5 755 0:0",
        "usr/local/ 5 755 0:0",
        "usr/local/share/ 5 755 0:0",
        "usr/local/share/doc/ 5 755 0:0",
        "bin/overlay-tool 0 755 0:0 4d2a65e6be74",
        "etc/issue 0 644 0:0 d900ac7985eb",
        "etc/keep 0 644 0:0 f660a7996dea",
        "usr/local/share/doc/x 0 644 0:0 30a4ab973ef8",
        "f 0 644 0:0 37992759c2fa",
        "o/c 0 644 0:0 a3a5e715f0cc",
        "o/c2 1 644 0:0 -> o/c",
    ];
    assert_eq!(listing(&out), want);
}

/// podman (buildah) keeps user.* xattrs in its layers; a directory rewritten by a later layer
/// carries both of its xattrs.
#[test]
fn the_podman_fixture_keeps_user_xattrs() {
    let d = tempdir();
    let out = export_fixture("export/podman-xattrs.oci.tar", d.path());
    let l = listing(&out);
    let xd: Vec<&String> = l.iter().filter(|s| s.starts_with("xd")).collect();
    assert_eq!(xd, ["xd/ 5 755 0:0 xattrs=user.dir,user.more", "xd/f 0 644 0:0 092fcfbbcfca"]);
    assert!(!l.iter().any(|s| s.starts_with("x ")), "/x was deleted: {l:?}");
}

#[test]
fn provenance_names_the_layer_that_last_wrote_each_path() {
    let d = tempdir();
    let (out, prov) = (d.path().join("r.tar"), d.path().join("p.jsonl"));
    let o = export(&[
        fixture("export/docker-vfs.tar").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--provenance",
        prov.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let diff_ids: Vec<String> = {
        let v = verify(&fixture("export/docker-vfs.tar"), &[]);
        v.json["inputs"][0]["images"][0]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["diff_id"].as_str().unwrap().to_string())
            .collect()
    };
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&prov).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |p: &str| lines.iter().find(|l| l["path"] == p).unwrap_or_else(|| panic!("no line for {p}")).clone();
    let at = |layer: usize| serde_json::Value::String(diff_ids[layer].clone());
    // One line per path of the tar (and the root).
    assert_eq!(lines.len(), listing(&out).len());
    assert_eq!(of("."), serde_json::json!({"path": ".", "type": "dir", "layer": 0, "diff_id": at(0)}));
    assert_eq!(of("d"), serde_json::json!({"path": "d", "type": "dir", "layer": 4, "diff_id": at(4)}));
    assert_eq!(of("d/new")["layer"], 4);
    assert_eq!(of("etc/keep"), serde_json::json!({"path": "etc/keep", "type": "file", "layer": 2, "diff_id": at(2)}));
    assert_eq!(of("nodes/null")["type"], "char");
    assert_eq!(of("nodes/fifo")["type"], "fifo");
    assert_eq!(of("abs")["type"], "symlink");
    assert_eq!(of("alias2")["layer"], 2);
    // usr/ has no entry in the base layer: made for usr/local/share/doc/x, and written again
    // by layer 3, whose removal of that file lists the directories.
    assert_eq!(of("usr")["layer"], 3);
    let d2 = tempdir();
    let (out2, prov2) = (d2.path().join("r.tar"), d2.path().join("p.jsonl"));
    let o = export(&[
        fixture("export/docker-overlay2.tar").to_str().unwrap(),
        "-o",
        out2.to_str().unwrap(),
        "--provenance",
        prov2.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let text = std::fs::read_to_string(&prov2).unwrap();
    let usr: serde_json::Value = serde_json::from_str(text.lines().find(|l| l.contains("\"usr\"")).unwrap()).unwrap();
    assert_eq!(usr["implicit"], true);
    assert_eq!(usr["layer"], 0);
}

#[test]
fn stdout_gets_the_same_bytes() {
    let d = tempdir();
    let file = export_fixture("export/docker-vfs.tar", d.path());
    let o = export(&[fixture("export/docker-vfs.tar").to_str().unwrap(), "-o", "-"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout == std::fs::read(&file).unwrap(), "stdout differs from the file output");
}

#[test]
fn an_existing_output_needs_force() {
    let d = tempdir();
    let out = d.path().join("r.tar");
    std::fs::write(&out, b"keep me").unwrap();
    let o = export(&[fixture("docker-save-legacy.tar").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let o = export(&[fixture("docker-save-legacy.tar").to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(listing(&out).len(), 13);
    nothing_written(d.path(), &["r.tar"]);
}

#[test]
fn one_image_is_exported() {
    let d = tempdir();
    let out = d.path().join("r.tar");
    let multi = fixture("docker-save-multi.tar");
    let o = export(&[multi.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("export takes one image, and 2 are selected"), "{}", stderr(&o));
    let o = export(&[multi.to_str().unwrap(), "--image", "airlock/tool:1", "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(listing(&out).iter().any(|l| l.starts_with("etc/tool.txt ")));
    let plat = fixture("multi-platform-oci");
    let arm = d.path().join("arm.tar");
    let o = export(&[plat.to_str().unwrap(), "-o", arm.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let o = export(&[plat.to_str().unwrap(), "--platform", "linux/arm64", "-o", arm.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let names: Vec<String> = listing(&arm).into_iter().map(|l| l.split(' ').take(1).collect()).collect();
    // Files come in the order their bytes are in the layers.
    assert_eq!(names, ["platform.txt", "arch.txt"]);
}

#[test]
fn a_corrupt_layer_is_refused_and_nothing_is_written() {
    let d = tempdir();
    let input = d.path().join("in.tar");
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let layer = ms.iter_mut().find(|m| m.path.ends_with("layer.tar") && m.data.len() > 2000).unwrap();
    let n = layer.data.len();
    layer.data[n / 2] ^= 1;
    write_tar(&input, &ms);
    let out = d.path().join("r.tar");
    let o = export(&[input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let s = stderr(&o);
    assert_eq!(text_codes(&s), (vec!["layer-corrupt".to_string()], vec![]), "{s}");
    nothing_written(d.path(), &["in.tar"]);
}

// ---------------------------------------------------------------------------------------------
// Hostile layers, byte by byte
// ---------------------------------------------------------------------------------------------

enum E<'a> {
    F(&'a str, &'a [u8]),
    D(&'a str),
    S(&'a str, &'a str),
    H(&'a str, &'a str),
}

fn layer(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let (name, flag, data, link): (&str, u8, &[u8], &str) = match e {
            E::F(n, d) => (n, b'0', d, ""),
            E::D(n) => (n, b'5', b"", ""),
            E::S(n, t) => (n, b'2', b"", t),
            E::H(n, t) => (n, b'1', b"", t),
        };
        out.extend(raw_header(name.as_bytes(), flag, data.len() as u64, false, |b| {
            b[157..157 + link.len()].copy_from_slice(link.as_bytes());
        }));
        out.extend(padded(data));
    }
    out.extend([0u8; 1024]);
    out
}

/// Exports an archive of `layers`; returns the exit status and stderr, and checks that a
/// refused export left nothing but the input.
fn hostile(layers: &[Vec<u8>]) -> (i32, String) {
    let d = tempdir();
    let input = d.path().join("in.tar");
    docker_archive(&input, layers, "airlock/hostile:1");
    let out = d.path().join("r.tar");
    let prov = d.path().join("p.jsonl");
    let o = export(&[input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--provenance", prov.to_str().unwrap()]);
    if code(&o) != 0 {
        nothing_written(d.path(), &["in.tar"]);
    }
    (code(&o), stderr(&o))
}

#[test]
fn hostile_layers_are_refused_naming_layer_entry_and_rule() {
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        (
            "a file written through a symlink an earlier layer made",
            vec![layer(&[E::S("evil", "/etc")]), layer(&[E::F("evil/passwd", b"root::0:0::/:/bin/sh\n")])],
            "layer 1 (",
        ),
        (
            "a symlink to .. and a file through it",
            vec![layer(&[E::S("up", "../.."), E::F("up/x", b"x")])],
            "[no-path-through-symlink]",
        ),
        (
            "a whiteout through a symlink",
            vec![layer(&[E::S("l", "/etc"), E::F("l/.wh.passwd", b"")])],
            "[no-path-through-symlink]",
        ),
        (
            "an opaque marker through a symlink",
            vec![layer(&[E::S("l", "/etc"), E::F("l/.wh..wh..opq", b"")])],
            "[no-path-through-symlink]",
        ),
        (
            "a hard link through a symlink",
            vec![layer(&[E::S("l", "/etc"), E::H("x", "l/shadow")])],
            "[no-path-through-symlink]",
        ),
        ("a whiteout of ..", vec![layer(&[E::D("a/"), E::F("a/.wh...", b"")])], "[whiteout-names-a-child]"),
        ("a whiteout of .", vec![layer(&[E::D("a/"), E::F("a/.wh..", b"")])], "[whiteout-names-a-child]"),
        ("a hard link to nothing", vec![layer(&[E::H("x", "nowhere")])], "[hard-link-target-exists]"),
        (
            "a file under a file",
            vec![layer(&[E::F("f", b"1")]), layer(&[E::F("f/x", b"2")])],
            "[parent-must-be-directory]",
        ),
        ("the root replaced by a file", vec![layer(&[E::F("./", b"")])], "[root-entry]"),
    ];
    for (what, layers, want) in cases {
        let (c, err) = hostile(&layers);
        assert_eq!(c, 1, "{what}: {err}");
        assert!(err.contains("export refused (nothing written)") && err.contains(want), "{what}: {err}");
        assert!(err.contains("image @0 airlock/hostile:1, layer ") && err.contains("/layer.tar"), "{what}: {err}");
    }
}

/// What verify reports as unsafe-layer-entry (an absolute name, `..` out of the root, a hard
/// link out of it) refuses the export through the checks, with the report.
#[test]
fn escapes_verify_reports_refuse_the_export() {
    for (what, l) in [
        ("..", layer(&[E::F("../../etc/cron.d/x", b"x")])),
        ("absolute", layer(&[E::F("/etc/passwd", b"x")])),
        ("hard link out", layer(&[E::H("x", "../../etc/shadow")])),
    ] {
        let (c, err) = hostile(&[l]);
        assert_eq!(c, 1, "{what}: {err}");
        assert_eq!(text_codes(&err), (vec!["unsafe-layer-entry".to_string()], vec![]), "{what}: {err}");
    }
}

/// The same hostile shapes on their own do nothing wrong when they stay inside: a symlink to
/// a directory replaced by a directory, `a/../b`.
#[test]
fn names_that_stay_inside_are_applied() {
    let d = tempdir();
    let input = d.path().join("in.tar");
    docker_archive(
        &input,
        &[layer(&[E::S("d", "."), E::D("d/"), E::F("d/x", b"x"), E::F("a/../b", b"b")])],
        "airlock/inside:1",
    );
    let out = d.path().join("r.tar");
    let o = export(&[input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(listing(&out), ["d/ 5 644 0:0", "d/x 0 644 0:0 2d711642b726", "b 0 644 0:0 3e23e8160039"]);
}

// ---------------------------------------------------------------------------------------------
// Bounds: memory follows the paths of the filesystem, not the entries of the layers
// ---------------------------------------------------------------------------------------------

/// `n` empty files in directories of 1,000, as one layer; and the whiteouts of them all.
fn many(n: usize) -> (Vec<u8>, Vec<u8>) {
    let (mut files, mut gone) = (Vec::new(), Vec::new());
    for i in 0..n {
        let dir = format!("d{:04}", i / 1000);
        let base = format!("file-with-a-typical-name-{i:07}.so");
        files.extend(raw_header(format!("{dir}/{base}").as_bytes(), b'0', 0, false, |_| {}));
        gone.extend(raw_header(format!("{dir}/.wh.{base}").as_bytes(), b'0', 0, false, |_| {}));
    }
    files.extend([0u8; 1024]);
    gone.extend([0u8; 1024]);
    (files, gone)
}

/// Peak RSS (KiB) and CPU seconds of `airlock export -q INPUT -o OUT` (GNU time); `None`
/// without /usr/bin/time (loudly skipped).
fn measured_export(input: &Path, out: &Path) -> Option<(u64, f64)> {
    if !Path::new("/usr/bin/time").exists() {
        if std::env::var("AIRLOCK_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
            panic!("/usr/bin/time is missing: the memory bounds cannot be measured");
        }
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"SKIPPED memory bound: no /usr/bin/time\n");
        return None;
    }
    let rss = out.with_extension("rss");
    let o = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S", "-o"])
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_airlock"))
        .args(["export", "-q"])
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&rss).unwrap();
    let f: Vec<f64> = text.lines().last().unwrap().split_whitespace().map(|x| x.parse().unwrap()).collect();
    Some((f[0] as u64, f[1] + f[2]))
}

/// 20,000 paths written, deleted and written again across three layers take no more memory
/// than 20,000 paths written once: the tree holds paths, and reuses what a whiteout frees.
#[test]
fn memory_follows_paths_not_entries() {
    let d = tempdir();
    let (files, gone) = many(20_000);
    let (keep, churn) = (d.path().join("keep.tar"), d.path().join("churn.tar"));
    docker_archive(&keep, std::slice::from_ref(&files), "big/keep:1");
    // The third layer differs from the first by one entry (a blob appears once in an archive).
    let mut again = files[..files.len() - 1024].to_vec();
    again.extend(raw_header(b"zz-last", b'0', 0, false, |_| {}));
    again.extend([0u8; 1024]);
    docker_archive(&churn, &[files, gone, again], "big/churn:1");
    let Some((rss_keep, _)) = measured_export(&keep, &d.path().join("k.out")) else { return };
    let (rss_churn, _) = measured_export(&churn, &d.path().join("c.out")).unwrap();
    let mut churned = listing(&d.path().join("c.out"));
    assert_eq!(churned.pop().as_deref(), Some("zz-last 0 644 0:0 e3b0c44298fc"));
    assert_eq!(listing(&d.path().join("k.out")), churned);
    let _ = writeln!(
        std::io::stderr(),
        "export peak RSS: 20,000 paths {rss_keep} KiB; 60,001 entries, 20,001 paths {rss_churn} KiB"
    );
    assert!(rss_keep < 96 * 1024, "20,000 paths took {rss_keep} KiB");
    assert!(rss_churn < rss_keep + 4 * 1024, "60,001 entries for 20,001 paths took {rss_churn} KiB, 20,000 {rss_keep}");
}

/// A million paths (a 512 MB layer of headers): measured 223 MB peak RSS and 6.4 s of CPU in a
/// release build (2026-12-01, 2 cores). Release only: a debug build spends minutes on it.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with cargo test --release --test export")]
fn a_million_paths_stay_bounded() {
    let d = tempdir();
    let (files, _) = many(1_000_000);
    let input = d.path().join("m.tar");
    docker_archive(&input, &[files], "big/million:1");
    let Some((rss, cpu)) = measured_export(&input, &d.path().join("m.out")) else { return };
    assert!(rss < 320 * 1024, "a million paths took {rss} KiB");
    assert!(cpu < 60.0, "a million paths took {cpu} s of CPU");
}

/// `-o DIR/`: the same filesystem as the tar, made on disk (as root here: owners and device
/// nodes too; not root, the notes say what could not be kept).
#[test]
fn a_directory_output_holds_what_the_tar_does() {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let d = tempdir();
    let tar_out = export_fixture("export/docker-vfs.tar", d.path());
    let dir = d.path().join("rootfs");
    let o =
        airlock(&["export", fixture("export/docker-vfs.tar").to_str().unwrap(), "-o", &format!("{}/", dir.display())]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let root = rustix::process::geteuid().is_root();
    if !root {
        assert!(stderr(&o).contains("note: not root"), "{}", stderr(&o));
    }
    let mut a = tar::Archive::new(std::fs::File::open(&tar_out).unwrap());
    let mut inodes = std::collections::HashMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let name = String::from_utf8_lossy(&e.path_bytes()).trim_end_matches('/').to_string();
        let p = if name == "." { dir.clone() } else { dir.join(&name) };
        let t = h.entry_type();
        if !root && (t.is_character_special() || t.is_block_special()) {
            assert!(std::fs::symlink_metadata(&p).is_err(), "{name} made without root");
            continue;
        }
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ft = m.file_type();
        let kind_ok = match t {
            tar::EntryType::Regular | tar::EntryType::Link => ft.is_file(),
            tar::EntryType::Directory => ft.is_dir(),
            tar::EntryType::Symlink => ft.is_symlink(),
            tar::EntryType::Char => ft.is_char_device(),
            tar::EntryType::Block => ft.is_block_device(),
            tar::EntryType::Fifo => ft.is_fifo(),
            other => panic!("{name}: {other:?}"),
        };
        assert!(kind_ok, "{name}: {t:?} in the tar, {ft:?} on disk");
        assert_eq!(m.mtime(), h.mtime().unwrap() as i64, "{name}: mtime");
        if !ft.is_symlink() {
            assert_eq!(m.mode() & 0o7777, h.mode().unwrap(), "{name}: mode");
        }
        if root {
            assert_eq!((m.uid() as u64, m.gid() as u64), (h.uid().unwrap(), h.gid().unwrap()), "{name}: owner");
        }
        match t {
            tar::EntryType::Regular => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut data).unwrap();
                assert_eq!(std::fs::read(&p).unwrap(), data, "{name}: content");
                inodes.insert(name.clone(), m.ino());
            }
            tar::EntryType::Link => {
                let target = String::from_utf8_lossy(&e.link_name_bytes().unwrap()).into_owned();
                assert_eq!(Some(&m.ino()), inodes.get(&target), "{name}: a hard link to {target}");
            }
            tar::EntryType::Symlink => {
                let target = std::fs::read_link(&p).unwrap();
                assert_eq!(target.as_os_str().as_encoded_bytes(), &e.link_name_bytes().unwrap()[..], "{name}");
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                let want = rustix::fs::makedev(h.device_major().unwrap().unwrap(), h.device_minor().unwrap().unwrap());
                assert_eq!(m.rdev(), want, "{name}: device");
            }
            _ => {}
        }
    }
    if root {
        let mut cap = vec![0u8; 64];
        let n = rustix::fs::lgetxattr(dir.join("cap"), "security.capability", &mut cap).unwrap();
        assert_eq!(&cap[..n], [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    nothing_written(d.path(), &["docker-vfs.tar.rootfs.tar", "rootfs"]);
}

/// Not root (run as nobody through setpriv, when the tests run as root): the directory is
/// made, without device nodes or owners, and the notes say so.
#[test]
fn a_directory_output_without_root_says_what_it_could_not_keep() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = Path::new("/usr/bin/setpriv");
    if !rustix::process::geteuid().is_root() || !setpriv.exists() {
        let _ = writeln!(std::io::stderr(), "SKIPPED: needs root and setpriv to run the export as nobody");
        return;
    }
    let d = tempdir();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let input = d.path().join("in.tar");
    std::fs::copy(fixture("export/docker-vfs.tar"), &input).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = d.path().join("r");
    let o = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_airlock"), "export"])
        .arg(&input)
        .arg("-o")
        .arg(format!("{}/", out.display()))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let notes: Vec<String> =
        stderr(&o).lines().filter(|l| l.starts_with("airlock: note: ")).map(str::to_string).collect();
    assert_eq!(
        notes,
        [
            "airlock: note: not root: every path is owned by the user who ran the export, not by the image's owners",
            "airlock: note: not root: 2 device node(s) not made: nodes/null, nodes/sda",
            "airlock: note: 1 extended attribute(s) refused by the filesystem or not permitted",
        ]
    );
    assert!(out.join("nodes/fifo").exists() && !out.join("nodes/null").exists());
    nothing_written(d.path(), &["in.tar", "r"]);
}
