//! Bundles: archives that carry image archives (a Harbor offline installer, a Zarf package's
//! `images/` layout, a tar of several archives). Built here around fixtures real tools wrote.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn sh(cmd: &mut Command) {
    let st = cmd.status().unwrap();
    assert!(st.success(), "{cmd:?}");
}

/// `harbor/harbor.v2.10.0.tar.gz` (a gzip docker-save of two images) beside install files,
/// as `harbor-offline-installer-v2.10.0.tgz` and as a plain tar.
fn harbor(d: &Path, inner: &[u8]) -> (PathBuf, PathBuf) {
    let src = d.join("src/harbor");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("harbor.v2.10.0.tar"), inner).unwrap();
    sh(Command::new("gzip").arg("-n").arg(src.join("harbor.v2.10.0.tar")));
    std::fs::write(src.join("install.sh"), "#!/bin/sh\ndocker load -i harbor.v2.10.0.tar.gz\n").unwrap();
    std::fs::write(src.join("harbor.yml.tmpl"), "hostname: reg.example\n").unwrap();
    let tgz = d.join("harbor-offline-installer-v2.10.0.tgz");
    sh(Command::new("tar").arg("-C").arg(d.join("src")).arg("-czf").arg(&tgz).arg("harbor"));
    let tar = d.join("harbor-offline-installer-v2.10.0.tar");
    tar_c(&d.join("src"), &tar, &["harbor"]);
    (tgz, tar)
}

fn ids(json: &Value, input: usize) -> Vec<String> {
    let mut v: Vec<String> = json["inputs"][input]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["config_digest"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn expected_ids(name: &str) -> Vec<String> {
    let e: Value = serde_json::from_slice(&std::fs::read(fixture(&format!("expected/{name}.json"))).unwrap()).unwrap();
    let mut v: Vec<String> =
        e["images"].as_array().unwrap().iter().map(|i| i["image_id"].as_str().unwrap().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_harbor_installer_is_opened_and_its_images_verified() {
    let d = tempdir();
    let (tgz, tar) = harbor(d.path(), &std::fs::read(fixture("docker-save-multi.tar")).unwrap());
    for outer in [&tgz, &tar] {
        let r = verify(outer, &[]);
        assert_codes(&r, &[], &[]);
        assert_eq!(r.code, 0, "{}", r.json);
        let inputs = r.json["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 2, "the bundle and the archive in it");
        assert_eq!(inputs[0]["format"], Value::Null);
        let inner = format!("{}!harbor/harbor.v2.10.0.tar.gz", outer.display());
        assert_eq!(inputs[0]["contains"], serde_json::json!([inner]));
        assert_eq!(inputs[1]["path"], inner.as_str());
        assert_eq!(inputs[1]["format"], "docker-archive");
        assert_eq!(inputs[1]["compression"], "gzip");
        assert_eq!(ids(&r.json, 1), expected_ids("docker-save-multi.tar"));
        // --expect-id sees into the bundle; inspect lists it too.
        let want = expected_ids("docker-save-multi.tar")[0].clone();
        assert_eq!(verify(outer, &["--expect-id", &want]).code, 0);
        let i = run_json(&["inspect", "--json", outer.to_str().unwrap()]);
        assert_eq!(i.code, 0);
        assert_eq!(ids(&i.json, 1), expected_ids("docker-save-multi.tar"));
    }
}

#[test]
fn a_broken_layer_inside_a_bundle_is_named() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-multi.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let layer = man[0]["Layers"][1].as_str().unwrap().to_string();
    let n = find(&mut ms, &layer).data.len();
    find(&mut ms, &layer).data[n - 600] ^= 0x20;
    let inner = d.path().join("inner.tar");
    write_tar(&inner, &ms);
    let (tgz, _) = harbor(d.path(), &std::fs::read(&inner).unwrap());
    let r = verify(&tgz, &[]);
    assert_codes(&r, &["layer-corrupt"], &[]);
    assert_eq!(r.code, 1);
    let part = &r.json["inputs"][1];
    assert!(part["path"].as_str().unwrap().ends_with("!harbor/harbor.v2.10.0.tar.gz"));
    let f = part["findings"].as_array().unwrap().iter().find(|f| f["severity"] == "error").expect("an error");
    assert_eq!(f["member"], layer.as_str(), "{f}");
    assert_eq!(r.json["inputs"][0]["ok"], true, "the bundle itself is fine");
}

/// A Zarf package directory as `zarf package create` lays it out
/// (zarf-dev/zarf src/pkg/packager/layout): zarf.yaml, components/, images/ (an OCI layout),
/// checksums.txt with one `<sha256> <path>` line per file but zarf.yaml, checksums.txt and
/// the signatures, and zarf.yaml's metadata.aggregateChecksum = sha256(checksums.txt).
fn zarf_package(root: &Path, edit: impl FnOnce(&Path)) {
    std::fs::create_dir_all(root.join("components")).unwrap();
    copy_dir(&fixture("multi-platform-oci"), &root.join("images"));
    std::fs::write(root.join("components/app.tar"), b"not really a tar, just a component file\n").unwrap();
    let mut files: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let sums: String =
        files.iter().map(|f| format!("{} {f}\n", sha256_hex(&std::fs::read(root.join(f)).unwrap()))).collect();
    std::fs::write(root.join("checksums.txt"), &sums).unwrap();
    let yaml = format!(
        "kind: ZarfPackageConfig\nmetadata:\n  name: app\n  aggregateChecksum: {}\nbuild:\n  architecture: amd64\n",
        sha256_hex(sums.as_bytes())
    );
    std::fs::write(root.join("zarf.yaml"), yaml).unwrap();
    edit(root);
}

fn tar_zst(root: &Path, out: &Path) {
    let tar = out.with_extension("");
    tar_c(root, &tar, &["."]);
    sh(Command::new("zstd").arg("-q").arg("-f").arg(&tar).arg("-o").arg(out));
}

#[test]
fn a_zarf_package_its_integrity_and_its_images() {
    let d = tempdir();
    let root = d.path().join("pkg");
    zarf_package(&root, |_| {});
    let zst = d.path().join("zarf-package-app-amd64.tar.zst");
    tar_zst(&root, &zst);
    for input in [&zst, &root] {
        let r = verify(input, &[]);
        assert_codes(&r, &[], &[]);
        assert_eq!(r.json["inputs"][1]["path"], format!("{}!images/", input.display()).as_str());
        assert_eq!(ids(&r.json, 1), expected_ids("multi-platform-oci"));
    }
}

/// How one broken variant edits a good package.
type Breaker = Box<dyn Fn(&Path)>;

#[test]
fn every_zarf_integrity_rule_has_its_broken_variant() {
    let d = tempdir();
    let cases: Vec<(&str, Breaker, &str)> = vec![
        (
            "aggregate",
            Box::new(|r: &Path| {
                std::fs::write(
                    r.join("checksums.txt"),
                    std::fs::read_to_string(r.join("checksums.txt")).unwrap() + "\n",
                )
                .unwrap()
            }),
            "bundle-checksums-invalid",
        ),
        (
            "changed-file",
            Box::new(|r: &Path| std::fs::write(r.join("components/app.tar"), b"changed").unwrap()),
            "bundle-checksum-mismatch",
        ),
        (
            "missing-file",
            Box::new(|r: &Path| std::fs::remove_file(r.join("components/app.tar")).unwrap()),
            "bundle-file-missing",
        ),
        (
            "extra-file",
            Box::new(|r: &Path| std::fs::write(r.join("components/extra.txt"), b"smuggled").unwrap()),
            "bundle-file-unlisted",
        ),
        (
            "no-checksums",
            Box::new(|r: &Path| std::fs::remove_file(r.join("checksums.txt")).unwrap()),
            "bundle-checksums-invalid",
        ),
    ];
    for (name, edit, code) in cases {
        let root = d.path().join(name);
        zarf_package(&root, |r| edit(r));
        let zst = d.path().join(format!("zarf-package-{name}.tar.zst"));
        tar_zst(&root, &zst);
        for input in [&zst, &root] {
            let r = verify(input, &[]);
            assert_eq!(r.code, 1, "{name}: {}", r.json);
            assert_codes(&r, &[code], &[]);
            let bundle = &r.json["inputs"][0]["findings"];
            assert_eq!(codes(&json!({"inputs": [{"findings": bundle}]})), [code], "{name} ({})", input.display());
        }
    }
}

#[test]
fn a_tar_of_archives_and_a_lock_across_it() {
    let d = tempdir();
    let tar = d.path().join("images.tar");
    tar_c(&fixture(""), &tar, &["docker-save-legacy.tar", "crane-tarball.tar"]);
    let r = verify(&tar, &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 3);
    // A lock made from the bundle holds for the archives carried loose.
    let lock = d.path().join("l.lock");
    assert_eq!(airlock(&["lock", "-q", "-o", lock.to_str().unwrap(), tar.to_str().unwrap()]).status.code(), Some(0));
    let loose = [fixture("docker-save-legacy.tar"), fixture("crane-tarball.tar")];
    let r = run_json(&[
        "verify",
        "--json",
        "-q",
        "--lock",
        lock.to_str().unwrap(),
        loose[0].to_str().unwrap(),
        loose[1].to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.json);
}

#[test]
fn not_a_bundle_either() {
    // A tar of plain files is still not an image archive.
    let d = tempdir();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("readme.txt"), "hello\n").unwrap();
    let tar = d.path().join("files.tar");
    tar_c(&src, &tar, &["."]);
    let r = verify(&tar, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 1);
    assert_codes(&r, &["manifest-invalid"], &[]);
}

/// Splits `file` as `zarf package create --max-package-size` does (zarf-dev/zarf
/// src/pkg/utils/split SplitFile): NAME.part001… of `chunk` bytes, and NAME.part000 =
/// {"Sha256Sum","Bytes","Count"}. Returns the header part.
fn split(file: &Path, chunk: usize) -> PathBuf {
    let bytes = std::fs::read(file).unwrap();
    let parts: Vec<&[u8]> = bytes.chunks(chunk).collect();
    for (i, p) in parts.iter().enumerate() {
        std::fs::write(format!("{}.part{:03}", file.display(), i + 1), p).unwrap();
    }
    let header = format!(r#"{{"Sha256Sum":"{}","Bytes":{},"Count":{}}}"#, sha256_hex(&bytes), bytes.len(), parts.len());
    let h = PathBuf::from(format!("{}.part000", file.display()));
    std::fs::write(&h, header).unwrap();
    std::fs::remove_file(file).unwrap();
    h
}

#[test]
fn a_split_package_is_read_as_one_stream() {
    let d = tempdir();
    let root = d.path().join("pkg");
    zarf_package(&root, |_| {});
    let zst = d.path().join("zarf-package-app-amd64.tar.zst");
    tar_zst(&root, &zst);
    let head = split(&zst, 1000);
    let r = verify(&head, &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(ids(&r.json, 1), expected_ids("multi-platform-oci"));
    // All the parts given (a shell glob): the same report.
    let mut all: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .filter(|p| p.contains(".part"))
        .collect();
    all.sort();
    let mut args = vec!["verify", "--json", "-q"];
    args.extend(all.iter().map(String::as_str));
    let r2 = run_json(&args);
    assert_eq!(r2.code, 0);
    assert_eq!(r2.json["inputs"].as_array().unwrap().len(), 2, "the bundle and its images, once");

    // A changed byte in a part: the header's sha256 catches it. The byte is in the last
    // part's last four bytes, the zstd frame's content checksum, so what it breaks does not
    // depend on where `tar` (current mtimes) put the members: the stream is read whole and
    // then fails its checksum. A byte in the middle of the stream garbles whichever member
    // lies there, a different one from run to run.
    let last = PathBuf::from(format!("{}.part{:03}", zst.display(), all.len() - 1));
    let mut b = std::fs::read(&last).unwrap();
    let n = b.len();
    b[n - 1] ^= 1;
    std::fs::write(&last, &b).unwrap();
    let r = verify(&head, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["archive-corrupt", "bundle-checksum-mismatch"], &[]);
    b[n - 1] ^= 1;
    std::fs::write(&last, &b).unwrap();
    let p2 = PathBuf::from(format!("{}.part002", zst.display()));
    // A missing part.
    std::fs::remove_file(&p2).unwrap();
    let r = verify(&head, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["bundle-file-missing"], &[]);
}

/// Cuts `file` into `NAME.001`, `NAME.002`… of `chunk` bytes, as `hauler store save
/// --chunk-size` does since hauler-dev/hauler#702 (plain byte ranges, no header).
fn chunks(file: &Path, chunk: usize) -> Vec<PathBuf> {
    let bytes = std::fs::read(file).unwrap();
    let out: Vec<PathBuf> = bytes
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| {
            let p = PathBuf::from(format!("{}.{:03}", file.display(), i + 1));
            std::fs::write(&p, c).unwrap();
            p
        })
        .collect();
    std::fs::remove_file(file).unwrap();
    out
}

#[test]
fn a_chunked_haul_is_read_as_one_stream_and_a_lost_chunk_is_named() {
    let d = tempdir();
    let root = d.path().join("store");
    copy_dir(&fixture("multi-platform-oci"), &root);
    let zst = d.path().join("haul.tar.zst");
    tar_zst(&root, &zst);
    let parts = chunks(&zst, 500);
    assert!(parts.len() >= 4, "{}", parts.len());
    let r = verify(&parts[0], &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(ids(&r.json, 0), expected_ids("multi-platform-oci"));
    // The glob `haul.tar.zst.*`: one input, not one per chunk.
    let args: Vec<&str> =
        ["verify", "--json", "-q"].into_iter().chain(parts.iter().map(|p| p.to_str().unwrap())).collect();
    let all = run_json(&args);
    assert_eq!(all.code, 0, "{}", all.json);
    assert_eq!(all.json["inputs"].as_array().unwrap().len(), 1);
    // A later chunk given alone is named as one.
    let r = verify(&parts[1], &[]);
    assert_eq!(r.code, 1);
    assert!(r.json.to_string().contains("haul.tar.zst.001"), "{}", r.json);
    // A chunk lost in the middle: named by its number.
    let kept = std::fs::read(&parts[1]).unwrap();
    std::fs::remove_file(&parts[1]).unwrap();
    let r = verify(&parts[0], &[]);
    assert_codes(&r, &["bundle-file-missing"], &[]);
    let f = &r.json["inputs"][0]["findings"][0];
    assert_eq!(f["code"], "bundle-file-missing", "{}", r.json);
    assert_eq!(f["member"], "haul.tar.zst.002");
    std::fs::write(&parts[1], kept).unwrap();
    // The last chunk lost: the stream ends early, and the finding says where to look.
    std::fs::remove_file(parts.last().unwrap()).unwrap();
    let r = verify(&parts[0], &[]);
    assert_eq!(r.code, 1);
    let text = r.json.to_string();
    assert_codes(&r, &["archive-corrupt"], &[]);
    assert!(text.contains("is a chunk after"), "{text}");
    // convert asks for the joined file.
    let (code, stderr) = convert_to(&parts[0], &d.path().join("o"), &["--to", "oci"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("join the chunks"), "{stderr}");
}

fn image_id(name: &str, tag: &str) -> String {
    let e: Value = serde_json::from_slice(&std::fs::read(fixture(&format!("expected/{name}.json"))).unwrap()).unwrap();
    let im = e["images"].as_array().unwrap().iter().find(|i| i["tags"].as_array().unwrap().iter().any(|t| t == tag));
    im.unwrap()["image_id"].as_str().unwrap().to_string()
}

#[test]
fn convert_takes_an_image_out_of_a_bundle() {
    let d = tempdir();
    let (tgz, tar) = harbor(d.path(), &std::fs::read(fixture("docker-save-multi.tar")).unwrap());
    let want = image_id("docker-save-multi.tar", "airlock/tool:1");
    for (i, bundle) in [&tgz, &tar].into_iter().enumerate() {
        let out = d.path().join(format!("tool-{i}"));
        let (code, stderr) = convert_to(bundle, &out, &["-q", "--image", "airlock/tool:1", "--to", "oci"]);
        assert_eq!(code, 0, "{stderr}");
        let r = verify(&out, &[]);
        assert_codes(&r, &[], &[]);
        assert_eq!(r.code, 0, "{}", r.json);
        assert_eq!(ids(&r.json, 0), vec![want.clone()], "the config, so the image ID, is kept");
    }
    // Nothing of the staging area is left beside the outputs.
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A selection no archive holds names what the bundle has.
    let (code, stderr) = convert_to(&tgz, &d.path().join("x"), &["-q", "--image", "nope:1", "--to", "oci"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("airlock/tool:1") && stderr.contains("harbor.v2.10.0.tar.gz"), "{stderr}");

    // A Zarf package's images/ layout, one platform of it, to a docker archive.
    let root = d.path().join("pkg");
    zarf_package(&root, |_| {});
    let zst = d.path().join("zarf-package-app-amd64.tar.zst");
    tar_zst(&root, &zst);
    let out = d.path().join("arm64.tar");
    let (code, stderr) = convert_to(&zst, &out, &["-q", "--platform", "linux/arm64", "--to", "docker"]);
    assert_eq!(code, 0, "{stderr}");
    let r = verify(&out, &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(expected_ids("multi-platform-oci").contains(&ids(&r.json, 0)[0]));

    // Two archives and no selection: convert writes images of one, and says which there are.
    let two = d.path().join("images.tar");
    tar_c(&fixture(""), &two, &["docker-save-legacy.tar", "crane-tarball.tar"]);
    let (code, stderr) = convert_to(&two, &d.path().join("y"), &["-q", "--to", "oci"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pick with --image") && stderr.contains("crane-tarball.tar"), "{stderr}");
}

#[test]
fn bundles_inside_a_bundle_are_opened_to_the_depth_bound() {
    // A USB stick's tar: the Harbor installer (.tgz → harbor/harbor.v2.10.0.tar.gz) and a Zarf
    // package (.tar.zst → images/), each a bundle inside the bundle.
    let d = tempdir();
    let usb = d.path().join("usb.tar");
    tar_c(
        &fixture("bundles"),
        &usb,
        &[
            "harbor-offline-installer-v2.10.0.tgz",
            "zarf-package-airlock-amd64-0.0.1.tar.zst",
            "harbor-broken-layer.tgz",
        ],
    );
    let r = verify(&usb, &[]);
    assert_codes(&r, &["diff-id-mismatch"], &[]);
    assert_eq!(r.code, 1, "the broken installer fails the whole: {}", r.json);
    let contains: Vec<&str> =
        r.json["inputs"][0]["contains"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let u = usb.display().to_string();
    assert_eq!(
        contains,
        [
            format!("{u}!harbor-broken-layer.tgz!harbor/harbor.v2.10.0.tar.gz"),
            format!("{u}!harbor-offline-installer-v2.10.0.tgz!harbor/harbor.v2.10.0.tar.gz"),
            format!("{u}!zarf-package-airlock-amd64-0.0.1.tar.zst!images/"),
        ]
    );
    // The broken layer is named three archives deep.
    let broken =
        r.json["inputs"].as_array().unwrap().iter().find(|i| i["ok"] == false && i["path"] != u.as_str()).unwrap();
    assert_eq!(broken["path"], format!("{u}!harbor-broken-layer.tgz!harbor/harbor.v2.10.0.tar.gz").as_str());
    assert_eq!(codes(&json!({"inputs": [broken]})), ["diff-id-mismatch"], "{broken}");
    // What else the stick holds is what is not an image archive: nothing here.
    assert_eq!(r.json["inputs"][0]["other_count"], 0);

    // convert takes an image from two archives down, and from a layout inside an archive.
    let want = image_id("docker-save-multi.tar", "airlock/tool:1");
    let out = d.path().join("tool");
    let (code, stderr) = convert_to(&usb, &out, &["-q", "--image", "airlock/app:1", "--to", "oci"]);
    // airlock/app:1 is in the good and the broken installer; the first archive holding it is
    // the broken one (path order), whose app has the changed layer: refused, nothing written.
    assert_eq!(code, 1, "{stderr}");
    assert!(!out.exists());
    let good = d.path().join("good.tar");
    tar_c(
        &fixture("bundles"),
        &good,
        &["harbor-offline-installer-v2.10.0.tgz", "zarf-package-airlock-amd64-0.0.1.tar.zst"],
    );
    let (code, stderr) = convert_to(&good, &out, &["-q", "--image", "airlock/tool:1", "--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(&verify(&out, &[]).json, 0), vec![want]);
    let arm = d.path().join("arm.tar");
    let (code, stderr) = convert_to(
        &good,
        &arm,
        &["-q", "--image", "localhost/airlock/multi:1", "--platform", "linux/arm64", "--to", "docker"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(verify(&arm, &[]).code, 0);
}

#[test]
fn an_archive_nested_past_the_bound_is_an_error_not_verified() {
    // Six tars → tgz (the Harbor installer) → its docker save: the seventh archive down.
    // `tar x` six times and `docker load -i harbor.v2.10.0.tar.gz` loads it, so leaving it
    // unopened is an error (it was a warning).
    let d = tempdir();
    std::fs::copy(fixture("bundles/harbor-offline-installer-v2.10.0.tgz"), d.path().join("h.tgz")).unwrap();
    let mut inner = "h.tgz".to_string();
    for level in 1..=6 {
        let t = format!("level{level}.tar");
        tar_c(d.path(), &d.path().join(&t), &[&inner]);
        inner = t;
    }
    let r = verify(&d.path().join("level6.tar"), &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let bundle = &r.json["inputs"][0];
    assert_eq!(codes(&r.json), ["bundle-not-searched"], "{}", r.json);
    let f = &bundle["findings"][0];
    assert_eq!(f["severity"], "error");
    let deep = "level5.tar!level4.tar!level3.tar!level2.tar!level1.tar!h.tgz!harbor/harbor.v2.10.0.tar.gz";
    assert_eq!(f["member"], deep, "{f}");
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 1, "nothing under it was verified");
    assert_eq!(bundle["coverage"]["error"], 1, "{}", bundle["coverage"]);
    // Six deep is within the bound: the installer's archive is verified.
    let r = verify(&d.path().join("level5.tar"), &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), 2, "{}", r.json);
}

// ---------------------------------------------------------------------------------------------
// Every archive-shaped member is opened: verified, or an error naming it (issue 14, HIGH-2/3)
// ---------------------------------------------------------------------------------------------

/// A Harbor-style installer whose `harbor/harbor.v2.10.0.tar.gz` holds `inner` as given
/// (whatever its name says), as a plain tar and as a .tgz.
fn installer(d: &Path, name: &str, inner: &[u8]) -> [PathBuf; 2] {
    let members = [
        regular("harbor/harbor.v2.10.0.tar.gz", inner.to_vec()),
        regular("harbor/install.sh", b"#!/bin/sh\ndocker load -i harbor.v2.10.0.tar.gz\n".to_vec()),
    ];
    let tar = d.join(format!("{name}.tar"));
    write_tar(&tar, &members);
    let tgz = d.join(format!("{name}.tgz"));
    std::fs::write(&tgz, gz(&std::fs::read(&tar).unwrap())).unwrap();
    [tar, tgz]
}

fn paths(json: &Value) -> Vec<String> {
    json["inputs"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_image_archive_the_scan_cannot_read_is_opened_not_counted_among_other_files() {
    // docker loads several of these (trailing bytes: 20.10-28; xz: all; bad CRC and long
    // zstd windows: 26, 28): each is verified, or an error naming it. They were "other files".
    let d = tempdir();
    let save = std::fs::read(fixture("docker-save-multi.tar")).unwrap();
    let mut trailing = gz(&save);
    trailing.extend_from_slice(b"trailing bytes after the gzip stream\n");
    let mut bad_crc = gz(&save);
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    let cases: [(&str, Vec<u8>); 7] = [
        ("gzip-trailing", trailing),
        ("gzip-bad-crc", bad_crc),
        ("xz", wrap(&save, "xz")),
        ("lz4", wrap(&save, "lz4")),
        ("bzip2", wrap(&save, "bz2")),
        ("zstd-64mib-window", zstd_window(&save, 26)),
        ("zstd-1gib-window", zstd_window(&save, 30)),
    ];
    let want = expected_ids("docker-save-multi.tar");
    for (name, inner) in cases {
        // The same bytes given loose: what a runtime is handed after `tar x`.
        let loose = d.path().join(format!("{name}.loose"));
        std::fs::write(&loose, &inner).unwrap();
        let alone = verify(&loose, &[]);
        for bundle in installer(d.path(), name, &inner) {
            let r = verify(&bundle, &[]);
            let ctx = format!("{name} in {}: {}", bundle.display(), r.json);
            let member = format!("{}!harbor/harbor.v2.10.0.tar.gz", bundle.display());
            let top = &r.json["inputs"][0];
            assert!(
                top["other"].as_array().unwrap().iter().all(|o| o["path"] != "harbor/harbor.v2.10.0.tar.gz"),
                "{ctx}"
            );
            if name == "zstd-1gib-window" {
                // Past the 128 MiB airlock decodes: an error naming it, nothing verified.
                assert_eq!(r.code, 1, "{ctx}");
                assert_eq!(paths(&r.json), [bundle.display().to_string()], "{ctx}");
                let f: Vec<(&str, &str)> = top["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| (f["code"].as_str().unwrap(), f["member"].as_str().unwrap()))
                    .collect();
                assert_eq!(f, [("archive-corrupt", "harbor/harbor.v2.10.0.tar.gz")], "{ctx}");
                assert_eq!(top["coverage"]["error"], 1, "{ctx}");
                assert_eq!(alone.code, 1, "refused loose too: {}", alone.json);
                continue;
            }
            // Opened and reported as an input of its own, with the same findings as the
            // same bytes given loose, and its two images verified.
            assert_eq!(paths(&r.json), [bundle.display().to_string(), member.clone()], "{ctx}");
            assert!(top["findings"].as_array().unwrap().is_empty(), "{ctx}");
            assert_eq!(codes(&json!({"inputs": [r.json["inputs"][1]]})), codes(&alone.json), "{ctx}");
            assert_eq!(ids(&r.json, 1), want, "{ctx}");
            assert_eq!(r.code, alone.code, "{ctx}");
            // Damage after the tar's end is a warning (archive-trailer-ignored): the images verify.
            let clean = matches!(name, "xz" | "lz4" | "bzip2" | "zstd-64mib-window" | "gzip-trailing" | "gzip-bad-crc");
            assert_eq!(r.code, if clean { 0 } else { 1 }, "{ctx}");
        }
    }
}

#[test]
fn a_compressed_file_that_is_not_an_archive_is_another_file() {
    // A gzip of a text file (a compressed log, a man page) is no archive: no runtime loads
    // it (docker: invalid tar header), so it is listed, not an error.
    let d = tempdir();
    let members = [
        regular("notes/changelog.gz", gz(b"1.0: first release\n")),
        regular("app.tar", std::fs::read(fixture("docker-save-legacy.tar")).unwrap()),
    ];
    let t = d.path().join("b.tar");
    write_tar(&t, &members);
    let r = verify(&t, &[]);
    assert_codes(&r, &[], &[]);
    let c = &r.json["inputs"][0]["coverage"];
    assert_eq!(
        c["listed"],
        json!([{"member": "notes/changelog.gz", "verdict": "other", "size": members[0].data.len()}])
    );
    // app.tar's own members are counted too: all of them read by its image.
    let inner =
        verify(&fixture("docker-save-legacy.tar"), &[]).json["inputs"][0]["coverage"]["members"].as_u64().unwrap();
    assert_eq!(
        (c["members"].as_u64(), c["other"].as_u64(), c["image"].as_u64()),
        (Some(2 + inner), Some(1), Some(1 + inner)),
        "{c}"
    );
}

/// An OCI layout of one image whose single layer is `layer` (any tar), at `dir`.
fn layout_with_layer(dir: &Path, layer: &[u8]) -> (String, String) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        h
    };
    let layer_hex = put(layer);
    let cfg = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_hex}")]}}))
    .unwrap();
    let cfg_hex = put(&cfg);
    let man = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{cfg_hex}"), "size": cfg.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer_hex}"), "size": layer.len()}]}))
    .unwrap();
    let man_hex = put(&man);
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{man_hex}"), "size": man.len(),
        "annotations": {"org.opencontainers.image.ref.name": "carrier:1"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    (layer_hex, format!("sha256:{cfg_hex}"))
}

#[test]
fn archives_beside_a_layout_and_through_links_are_verified() {
    // images/ is a good layout; images/evil.tar beside it is another image archive; the
    // layout's one layer is itself a docker save, reached as `load-me.tar` (a hard link) and
    // `also.tar` (a symlink); a layout sits five directories down. `tar x`, then `docker
    // load -i images/evil.tar` or `load-me.tar`, or `skopeo copy oci:a/b/c/d/e`, loads what
    // airlock never looked at: now each is reported as an input of its own.
    let d = tempdir();
    let src = d.path().join("src");
    copy_dir(&fixture("multi-platform-oci"), &src.join("images"));
    std::fs::copy(fixture("docker-save-legacy.tar"), src.join("images/evil.tar")).unwrap();
    let (layer_hex, carrier_id) =
        layout_with_layer(&src.join("carrier"), &std::fs::read(fixture("crane-tarball.tar")).unwrap());
    copy_dir(&fixture("skopeo-oci-gzip"), &src.join("a/b/c/d/e"));
    let blob = format!("carrier/blobs/sha256/{layer_hex}");
    std::os::unix::fs::symlink(&blob, src.join("also.tar")).unwrap();
    std::fs::hard_link(src.join(&blob), src.join("load-me.tar")).unwrap();
    let t = d.path().join("bundle.tar");
    tar_c(&src, &t, &["images", "carrier", "a", "also.tar", "load-me.tar"]);
    let r = verify(&t, &[]);
    assert_codes(&r, &[], &[]);
    let b = t.display().to_string();
    let got: Vec<(String, Vec<String>)> = r.json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, p)| (p["path"].as_str().unwrap().to_string(), ids(&r.json, i)))
        .collect();
    // The hard link and the symlink lead to one blob: opened once, under the first name.
    let link = if got.iter().any(|(p, _)| p.ends_with("!also.tar")) { "also.tar" } else { "load-me.tar" };
    assert_eq!(
        got,
        [
            (format!("{b}!a/b/c/d/e/"), expected_ids("skopeo-oci-gzip")),
            (format!("{b}!{link}"), expected_ids("crane-tarball.tar")),
            (format!("{b}!carrier/"), vec![carrier_id]),
            (format!("{b}!images/"), expected_ids("multi-platform-oci")),
            (format!("{b}!images/evil.tar"), expected_ids("docker-save-legacy.tar")),
        ]
    );
    let c = &r.json["inputs"][0]["coverage"];
    assert_eq!((c["error"].as_u64(), c["other"].as_u64(), c["archive"].as_u64()), (Some(0), Some(0), Some(0)), "{c}");
}

#[test]
fn an_image_archive_holding_another_archive_reports_both() {
    // A docker save with an extra member that is an image archive of its own: docker load
    // reads manifest.json's images, `tar x` + `docker load -i extra.tar` the other.
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    ms.push(regular("extra.tar", std::fs::read(fixture("crane-tarball.tar")).unwrap()));
    let t = d.path().join("app.tar");
    write_tar(&t, &ms);
    let r = verify(&t, &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(paths(&r.json), [t.display().to_string(), format!("{}!extra.tar", t.display())]);
    assert_eq!(r.json["inputs"][0]["format"], "docker-archive");
    assert_eq!(r.json["inputs"][0]["contains"], json!([format!("{}!extra.tar", t.display())]));
    assert_eq!(ids(&r.json, 0), expected_ids("docker-save-legacy.tar"));
    assert_eq!(ids(&r.json, 1), expected_ids("crane-tarball.tar"));
}

#[test]
fn a_zarf_aggregate_checksum_is_read_from_metadata_not_from_a_line_that_looks_like_it() {
    // A `description: |` block holding `aggregateChecksum: <the right sum>` above a wrong
    // metadata.aggregateChecksum: the first matching line passed; zarf reads the key.
    let d = tempdir();
    let root = d.path().join("pkg");
    zarf_package(&root, |r| {
        let sums = sha256_hex(&std::fs::read(r.join("checksums.txt")).unwrap());
        let yaml = format!(
            "kind: ZarfPackageConfig\nmetadata:\n  name: app\n  description: |\n    aggregateChecksum: {sums}\n  aggregateChecksum: {}\nbuild:\n  architecture: amd64\n",
            "0".repeat(64)
        );
        std::fs::write(r.join("zarf.yaml"), yaml).unwrap();
    });
    let r = verify(&root, &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(codes(&r.json), ["bundle-checksums-invalid"], "{}", r.json);
    // An alias in zarf.yaml is refused (zarf writes none), naming zarf.yaml.
    let root = d.path().join("pkg2");
    zarf_package(&root, |r| {
        let yaml = std::fs::read_to_string(r.join("zarf.yaml")).unwrap();
        std::fs::write(r.join("zarf.yaml"), format!("{yaml}x: &a [1]\ny: *a\n")).unwrap();
    });
    let r = verify(&root, &[]);
    assert_eq!(codes(&r.json), ["bundle-checksums-invalid"], "{}", r.json);
    assert_eq!(r.json["inputs"][0]["findings"][0]["member"], "zarf.yaml");
}

#[test]
fn a_bundle_from_a_pipe_names_the_archives_it_cannot_read_again() {
    // A pipe is read once: the archive inside cannot be opened again, and that is an error
    // naming it (it was skipped in silence, and the bundle called no image archive at all).
    let bundle = std::fs::read(fixture("bundles/harbor-offline-installer-v2.10.0.tgz")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "--json", "-q", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bundle).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f: Vec<(&str, &str)> = json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["member"].as_str().unwrap()))
        .collect();
    assert_eq!(f, [("archive-corrupt", "harbor/harbor.v2.10.0.tar.gz")], "{json}");
}
