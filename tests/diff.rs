//! `airlock diff`: the release pair of fixtures/make-release-pair.sh (docker 20.10 and skopeo
//! wrote it), the same image in other formats and under other tags, multi-image and
//! multi-platform archives, lock files, and archives built byte by byte for config and file
//! changes (whiteouts, opaque directories, modes, owners, links). Exit 0 equal, 1 different,
//! 2 usage or cannot open.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

fn run(args: &[&str]) -> Output {
    let out = airlock(&[&["diff"], args].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn diff_json(a: &Path, b: &Path, extra: &[&str]) -> (i32, Value) {
    let o = run(&[&[a.to_str().unwrap(), b.to_str().unwrap(), "--json"], extra].concat());
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (code(&o), v)
}

/// The diffIDs of a layer list in the JSON.
fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|l| l["diff_id"].as_str().unwrap()[7..19].to_string()).collect()
}

#[test]
fn the_release_pair_shares_its_base_layers() {
    let a = fixture("docker-save-legacy.tar");
    let b = fixture("release/app-2.docker.tar");
    let o = run(&[a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let want = format!(
        "--- {}\n+++ {}\n{}\n{}\n{}\n{}\n",
        format_args!("{} (1 image)", a.display()),
        format_args!("{} (1 image)", b.display()),
        "~ docker.io/airlock/app:1 -> docker.io/airlock/app:2 (linux/amd64)  changed  e46a39f5dc01 -> c5e2ad4b10c3",
        "    layers: 7 shared (24.0 KiB), 1 added (2.0 KiB), 0 removed (0 B)\n      + 791264b2836c  2.0 KiB",
        "blobs: B has 7 layer blobs (24.0 KiB): 6 (22.0 KiB) in A, 1 (2.0 KiB) not",
        "different"
    );
    assert_eq!(text(&o), want);
    let (c, v) = diff_json(&a, &b, &[]);
    assert_eq!(c, 1);
    assert_eq!((v["schema"].clone(), v["equal"].clone()), (json!("airlock.diff/v1"), json!(false)));
    let img = &v["images"][0];
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert_eq!(img["status"], "changed");
    assert_eq!(img["layers"]["added"].as_array().unwrap().len(), 1);
    assert_eq!(ids(&img["layers"]["added"]), ["791264b2836c"]);
    assert_eq!(img["layers"]["shared"].as_array().unwrap().len(), 7);
    assert_eq!(img["layers"]["removed"], json!([]));
    assert_eq!(img["layers"]["added_bytes"], 2048);
    assert_eq!(img["layers"]["shared_bytes"], 24576);
    assert_eq!(
        v["blobs"],
        json!({"b_blobs": 7, "b_bytes": 24576, "reused_blobs": 6, "reused_bytes": 22528, "new_blobs": 1, "new_bytes": 2048})
    );
}

#[test]
fn the_same_image_is_equal_and_another_format_is_changed_in_its_blobs() {
    let a = fixture("docker-save-legacy.tar");
    // The same bytes, zstd-wrapped: the same image, manifest and blobs.
    let o = run(&[a.to_str().unwrap(), fixture("docker-save-legacy.tar.zst").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).ends_with("= docker.io/airlock/app:1 (linux/amd64)  same  e46a39f5dc01\nblobs: B has 6 layer blobs (22.0 KiB): 6 (22.0 KiB) in A, 0 (0 B) not\nequal\n"), "{}", text(&o));
    // skopeo's OCI copy of it: another config (skopeo writes it as OCI's) that runs the same,
    // the same diffIDs, in gzip blobs a delta would ship.
    let (c, v) = diff_json(&a, &fixture("skopeo-oci-gzip"), &[]);
    assert_eq!(c, 1);
    let img = &v["images"][0];
    assert_eq!(img["status"], "changed");
    assert_ne!(img["a"]["image_id"], img["b"]["image_id"]);
    assert_eq!(img["config"], json!([]));
    let shared = img["layers"]["shared"].as_array().unwrap();
    assert_eq!(shared.len(), 7);
    assert!(shared.iter().all(|l| l["same_blob"] == false), "{shared:?}");
    assert_eq!((img["layers"]["added"].clone(), img["layers"]["removed"].clone()), (json!([]), json!([])));
    assert_eq!(v["blobs"]["reused_blobs"], 0);
}

#[test]
fn images_added_removed_and_retagged() {
    let multi = fixture("docker-save-multi.tar");
    let one = fixture("docker-save-legacy.tar");
    let o = run(&[multi.to_str().unwrap(), one.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = text(&o);
    let lines: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(
        lines,
        [
            "~ docker.io/airlock/app:1, docker.io/airlock/app:latest -> docker.io/airlock/app:1 (linux/amd64)  retagged  e46a39f5dc01",
            "- docker.io/airlock/tool:1 (linux/amd64)  removed  961ede6d04e3",
            "blobs: B has 6 layer blobs (22.0 KiB): 6 (22.0 KiB) in A, 0 (0 B) not",
            "different",
        ]
    );
    let (c, v) = diff_json(&one, &multi, &[]);
    assert_eq!(c, 1);
    let st: Vec<&str> = v["images"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["retagged", "added"]);
    assert_eq!(v["images"][1]["a"], Value::Null);
    assert_eq!(v["images"][1]["layers"], Value::Null);
    // --image selects on both sides: the app alone, under other tags.
    let (c, v) = diff_json(&one, &multi, &["--image", "airlock/app:1"]);
    assert_eq!((c, v["images"].as_array().unwrap().len()), (1, 1));
    assert_eq!(v["images"][0]["status"], "retagged");
}

#[test]
fn platforms_pair_with_platforms_and_bare_ref_names_stay_tags() {
    let a = fixture("docker-29-save-multi-platform.tar");
    let b = fixture("multi-platform-oci");
    let (c, v) = diff_json(&a, &b, &[]);
    assert_eq!(c, 1);
    let got: Vec<(String, String, String)> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["status"].to_string(), i["platform"].to_string(), i["b"]["tags"].to_string()))
        .collect();
    let want = |p: &str| ("\"retagged\"".to_string(), format!("\"{p}\""), r#"["1"]"#.to_string());
    assert_eq!(got, [want("linux/amd64"), want("linux/arm64")]);
    let (c, v) = diff_json(&a, &b, &["--platform", "linux/arm64"]);
    assert_eq!((c, v["a"]["images"].clone(), v["b"]["images"].clone()), (1, json!(1), json!(1)));
    assert_eq!(v["images"][0]["platform"], "linux/arm64");
}

#[test]
fn a_lock_compares_layers_but_not_config_or_files() {
    let d = tempdir();
    let lock = d.path().join("v1.lock");
    let o = airlock(&["lock", "-q", fixture("release/app-1.oci.tar").to_str().unwrap(), "-o", lock.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = fixture("release/app-2.oci.tar");
    let (c, v) = diff_json(&lock, &b, &[]);
    assert_eq!(c, 1);
    assert_eq!(v["a"], json!({"path": lock.to_str().unwrap(), "images": 1, "lock": true}));
    let img = &v["images"][0];
    assert_eq!((img["status"].clone(), img["config"].clone()), (json!("changed"), Value::Null));
    assert_eq!(ids(&img["layers"]["added"]), ["791264b2836c"]);
    assert_eq!(v["blobs"]["new_blobs"], 1);
    assert!(
        text(&run(&[lock.to_str().unwrap(), b.to_str().unwrap()]))
            .contains("    config: not compared (a lock records none)\n")
    );
    // A lock against itself: equal.
    assert_eq!(code(&run(&[lock.to_str().unwrap(), lock.to_str().unwrap()])), 0);
    let o = run(&[lock.to_str().unwrap(), b.to_str().unwrap(), "--files"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a lock (it records no files)"));
}

#[test]
fn usage_and_unopenable_inputs_exit_2() {
    let d = tempdir();
    let notes = d.path().join("notes.txt");
    std::fs::write(&notes, "not an archive\n").unwrap();
    let bad_lock = d.path().join("bad.lock");
    std::fs::write(&bad_lock, r#"{"version": 99}"#).unwrap();
    let a = fixture("docker-save-legacy.tar");
    for (b, want) in [
        (d.path().join("missing.tar"), "cannot open"),
        (notes.clone(), "is not an image archive, layout, bundle of them, or airlock lock"),
        (bad_lock.clone(), "has version 99"),
    ] {
        let o = run(&[a.to_str().unwrap(), b.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{}", b.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want) && err.contains(b.file_name().unwrap().to_str().unwrap()), "{err}");
        assert!(o.stdout.is_empty());
    }
    let o = run(&[a.to_str().unwrap(), a.to_str().unwrap(), "--image", "nothing:here"]);
    assert_eq!(code(&o), 2);
    assert_eq!(code(&airlock(&["diff", a.to_str().unwrap()])), 2);
}

/// A docker-save archive of `layers` with the given `config` object (Env, Cmd, …).
fn archive(path: &Path, layers: &[Vec<u8>], tag: &str, config: Value) {
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256_hex(l))).collect();
    let cfg = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let cfg_name = format!("{}.json", sha256_hex(&cfg));
    let mut members = vec![regular(&cfg_name, cfg)];
    let mut paths = Vec::new();
    for l in layers {
        let p = format!("{}/layer.tar", sha256_hex(l));
        members.push(regular(&p, l.clone()));
        paths.push(p);
    }
    let man = json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": paths}]);
    members.push(regular("manifest.json", serde_json::to_vec(&man).unwrap()));
    write_tar(path, &members);
}

/// One layer entry: name, type flag, data (a link's target for '1' and '2'), mode, uid.
struct E<'a>(&'a str, u8, &'a [u8], u32, u32);

fn layer(entries: &[E]) -> Vec<u8> {
    let mut out = Vec::new();
    for E(name, flag, data, mode, uid) in entries {
        let link = matches!(flag, b'1' | b'2');
        let size = if link { 0 } else { data.len() as u64 };
        out.extend(raw_header(name.as_bytes(), *flag, size, false, |b| {
            b[100..107].copy_from_slice(format!("{mode:07o}").as_bytes());
            b[108..115].copy_from_slice(format!("{uid:07o}").as_bytes());
            b[116..123].copy_from_slice(format!("{uid:07o}").as_bytes());
            if link {
                b[157..157 + data.len()].copy_from_slice(data);
            }
        }));
        if !link {
            out.extend(padded(data));
        }
    }
    out.extend([0u8; 1024]);
    out
}

/// A: one layer. B: the same layer, and one that deletes (a whiteout, an opaque directory),
/// rewrites a file's bytes, a mode, an owner and a symlink's target, and adds files; its
/// config changes every field diff compares.
fn pair(d: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let base = layer(&[
        E("d/", b'5', b"", 0o755, 0),
        E("d/x", b'0', b"x", 0o644, 0),
        E("etc/", b'5', b"", 0o755, 0),
        E("etc/a", b'0', b"1", 0o644, 0),
        E("etc/b", b'0', b"b", 0o644, 0),
        E("keep", b'0', b"k", 0o644, 0),
        E("lnk", b'2', b"etc/a", 0o777, 0),
        E("owned", b'0', b"o", 0o644, 0),
        E("same", b'0', b"s", 0o644, 0),
    ]);
    let top = layer(&[
        E("d/.wh..wh..opq", b'0', b"", 0o644, 0),
        E("d/y", b'0', b"y", 0o644, 0),
        E("etc/.wh.b", b'0', b"", 0o644, 0),
        E("etc/a", b'0', b"2", 0o644, 0),
        E("etc/new", b'0', b"n", 0o644, 0),
        E("keep", b'0', b"k", 0o755, 0),
        E("lnk", b'2', b"etc/new", 0o777, 0),
        E("owned", b'0', b"o", 0o644, 1000),
        E("same", b'0', b"s", 0o644, 0),
    ]);
    let (a, b) = (d.join("a.tar"), d.join("b.tar"));
    archive(
        &a,
        std::slice::from_ref(&base),
        "airlock/t:1",
        json!({"Env": ["A=1", "B=2"], "Cmd": ["sh"], "Labels": {"x": "1"}}),
    );
    let cfg = json!({
        "User": "app", "WorkingDir": "/srv", "Entrypoint": ["/bin/tini"], "Cmd": ["run"],
        "Env": ["A=1", "B=3"], "Labels": {"x": "2", "y": "1"},
        "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
    });
    archive(&b, &[base, top], "airlock/t:2", cfg);
    (a, b)
}

#[test]
fn config_and_files_that_differ() {
    let d = tempdir();
    let (a, b) = pair(d.path());
    let o = run(&[a.to_str().unwrap(), b.to_str().unwrap(), "--files"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let out = text(&o);
    let body: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(
        body,
        [
            "    layers: 1 shared (8.5 KiB), 1 added (8.5 KiB), 0 removed (0 B)",
            "      + 5bcf7e69f9b7  8.5 KiB",
            "    config:",
            "      user: null -> \"app\"",
            "      working_dir: null -> \"/srv\"",
            "      entrypoint: null -> [\"/bin/tini\"]",
            "      cmd: [\"sh\"] -> [\"run\"]",
            "      env:",
            "        - B=2",
            "        + B=3",
            "      labels:",
            "        - x=1",
            "        + x=2",
            "        + y=1",
            "      exposed_ports:",
            "        + 80/tcp",
            "      volumes:",
            "        + /data",
            "    files: 2 added, 2 removed, 4 modified",
            "      - /d/x",
            "      + /d/y",
            "      M /etc/a  (content)",
            "      - /etc/b",
            "      + /etc/new",
            "      M /keep  (mode 644 -> 755)",
            "      M /lnk  (link etc/a -> etc/new)",
            "      M /owned  (owner 0:0 -> 1000:1000)",
            "blobs: B has 2 layer blobs (17.0 KiB): 1 (8.5 KiB) in A, 1 (8.5 KiB) not",
            "different",
        ]
    );
    let (c, v) = diff_json(&a, &b, &["--files"]);
    assert_eq!(c, 1);
    let fields: Vec<&str> =
        v["images"][0]["config"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["user", "working_dir", "entrypoint", "cmd", "env", "labels", "exposed_ports", "volumes"]);
    let files = v["images"][0]["files"].as_array().unwrap();
    let etc_a = files.iter().find(|f| f["path"] == "/etc/a").unwrap();
    assert_eq!(etc_a["what"], json!(["content"]));
    assert_eq!(etc_a["a"]["sha256"], format!("sha256:{}", sha256_hex(b"1")));
    assert_eq!(etc_a["b"]["sha256"], format!("sha256:{}", sha256_hex(b"2")));
    // Without --files, no file is read.
    let (_, v) = diff_json(&a, &b, &[]);
    assert_eq!(v["images"][0].get("files"), None);
}

/// An escaping entry in B: --files cannot make its filesystem, and says which side.
#[test]
fn files_of_an_image_export_refuses_exit_2() {
    let d = tempdir();
    let a = d.path().join("a.tar");
    let b = d.path().join("b.tar");
    archive(&a, &[layer(&[E("f", b'0', b"1", 0o644, 0)])], "airlock/t:1", json!({}));
    let evil = [layer(&[E("evil", b'2', b"/etc", 0o777, 0)]), layer(&[E("evil/passwd", b'0', b"x", 0o644, 0)])];
    archive(&b, &evil, "airlock/t:1", json!({}));
    let o = run(&[a.to_str().unwrap(), b.to_str().unwrap(), "--files"]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("the filesystem of {} cannot be made", b.display())), "{err}");
    assert!(err.contains("layer 1 (") && err.contains("[no-path-through-symlink]"), "{err}");
    // Without --files the layers are not read: the images differ, exit 1.
    assert_eq!(code(&run(&[a.to_str().unwrap(), b.to_str().unwrap()])), 1);
}

/// An image and its flattened copy: another image (one layer, new config), the same
/// filesystem path for path (hard links, devices, a directory replaced and back).
#[test]
fn a_flattened_image_has_the_same_files() {
    let d = tempdir();
    for fx in ["export/docker-vfs.tar", "export/docker-overlay2.tar"] {
        let a = fixture(fx);
        let b = d.path().join("flat.tar");
        let o =
            airlock(&["flatten", "-q", a.to_str().unwrap(), "--to", "docker", "-o", b.to_str().unwrap(), "--force"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (c, v) = diff_json(&a, &b, &["--files"]);
        assert_eq!(c, 1, "{fx}");
        let img = &v["images"][0];
        assert_eq!(
            (img["status"].clone(), img["config"].clone(), img["files"].clone()),
            (json!("changed"), json!([]), json!([])),
            "{fx}"
        );
        assert_eq!(img["layers"]["added"].as_array().unwrap().len(), 1, "{fx}");
        assert_eq!(img["layers"]["shared"], json!([]), "{fx}");
    }
}

/// A bundle on one side: its images are the archive's inside it, and --files takes the
/// image out of it as export does.
#[test]
fn a_bundle_is_compared_by_the_images_in_it() {
    let a = fixture("bundles/harbor-offline-installer-v2.10.0.tgz");
    let (c, v) = diff_json(&a, &fixture("release/app-2.docker.tar"), &["--files"]);
    assert_eq!(c, 1);
    let got: Vec<(&str, &str)> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["status"].as_str().unwrap(), i["platform"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [("changed", "linux/amd64"), ("removed", "linux/amd64")]);
    assert!(v["images"][0]["a"]["input"].as_str().unwrap().contains(".tgz!"), "{}", v["images"][0]["a"]["input"]);
    let files: Vec<(&str, &str)> = v["images"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["change"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(files, [("added", "/release.txt")]);
    // The same bundle's images in k3s's and RKE2's airgap tarballs: equal.
    let k3s = fixture("bundles/k3s-airgap-images-amd64.tar.zst");
    let o = run(&[k3s.to_str().unwrap(), fixture("bundles/rke2-images.linux-amd64.tar.gz").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn quiet_is_one_line_and_status_prints_nothing() {
    let a = fixture("release/app-1.oci.tar");
    let b = fixture("release/app-2.docker.tar");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = run(&["-q", a, b]);
    assert_eq!((code(&o), text(&o)), (1, format!("{a} and {b} differ\n")));
    let o = run(&["-q", a, a]);
    assert_eq!((code(&o), text(&o)), (0, format!("{a} and {a} are the same\n")));
    let o = run(&["--status", a, b]);
    assert_eq!((code(&o), text(&o), o.stderr.is_empty()), (1, String::new(), true));
    assert_eq!(code(&run(&["--status", "--json", a, b])), 2, "--status with --json is a usage error");
}
