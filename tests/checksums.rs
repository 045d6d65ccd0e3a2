//! `verify --checksums`: sha256sum and BSD-style lists against inputs and bundle members.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn list(d: &Path, name: &str, text: &str) -> String {
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn run_with(inputs: &[&Path], lists: &[&str]) -> Run {
    let mut args = vec!["verify".to_string(), "--json".into(), "-q".into()];
    for l in lists {
        args.push("--checksums".into());
        args.push(l.to_string());
    }
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_json(&refs)
}

#[test]
fn inputs_by_file_name_in_both_styles() {
    let d = tempdir();
    let a = fixture("docker-save-legacy.tar");
    let b = fixture("docker-save-legacy.tar.zst");
    let ha = sha256_hex(&std::fs::read(&a).unwrap());
    let hb = sha256_hex(&std::fs::read(&b).unwrap());
    let gnu =
        list(d.path(), "SHA256SUMS", &format!("{ha}  docker-save-legacy.tar\n{hb} *docker-save-legacy.tar.zst\n"));
    let bsd = list(d.path(), "bsd.sums", &format!("SHA256 (docker-save-legacy.tar.zst) = {}\n", hb.to_uppercase()));
    let r = run_with(&[&a, &b], &[&gnu, &bsd]);
    assert_codes(&r, &[], &[]);

    let wrong = list(d.path(), "wrong", &format!("{hb}  docker-save-legacy.tar\n"));
    let r = run_with(&[&a], &[&wrong]);
    assert_eq!(r.code, 1);
    let msg = r.json.to_string();
    assert!(msg.contains("checksum-mismatch") && msg.contains("wrong:1"), "{msg}");

    let missing = list(d.path(), "missing", &format!("{ha}  not-carried.tar\n"));
    let r = run_with(&[&a], &[&missing]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["checksum-missing"], &[]);
}

#[test]
fn bundle_members_are_checked_from_the_one_pass() {
    let d = tempdir();
    let src = d.path().join("src/harbor");
    std::fs::create_dir_all(&src).unwrap();
    let inner = std::fs::read(fixture("docker-save-legacy.tar.gz")).unwrap();
    std::fs::write(src.join("harbor.v2.10.0.tar.gz"), &inner).unwrap();
    std::fs::write(src.join("install.sh"), "#!/bin/sh\n").unwrap();
    let tgz = d.path().join("harbor.tgz");
    assert!(
        Command::new("tar")
            .arg("-C")
            .arg(d.path().join("src"))
            .arg("-czf")
            .arg(&tgz)
            .arg("harbor")
            .status()
            .unwrap()
            .success()
    );
    let good = list(d.path(), "md", &format!("{}  harbor/harbor.v2.10.0.tar.gz\n", sha256_hex(&inner)));
    let r = run_with(&[&tgz], &[&good]);
    assert_eq!(r.code, 0, "{}", r.json);
    let bad = list(d.path(), "bad", &format!("{}  harbor/install.sh\n", sha256_hex(b"other")));
    let r = run_with(&[&tgz], &[&bad]);
    assert_codes(&r, &["checksum-mismatch"], &[]);
    let f = &r.json["inputs"][0]["findings"][0];
    assert_eq!(f["code"], "checksum-mismatch", "{}", r.json);
    assert_eq!(f["member"], "harbor/install.sh");
}

#[test]
fn a_bad_list_is_a_usage_error() {
    let d = tempdir();
    let l = list(d.path(), "bad", "this is not a checksum line\n");
    let o = airlock(&["verify", "--checksums", &l, fixture("docker-save-legacy.tar").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 1") && err.lines().count() == 1, "{err}");
}

#[test]
fn the_parts_of_a_split_or_chunked_input_match_their_lines() {
    // Given only the first chunk and the header part, the other parts are read with them, so
    // a SHA256SUMS of every part holds, and a changed part is named.
    let d = tempdir();
    let mut names = Vec::new();
    for dir in ["bundles/chunked", "bundles/split"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let sums: String =
        names.iter().map(|n| format!("{}  {n}\n", sha256_hex(&std::fs::read(d.path().join(n)).unwrap()))).collect();
    let list = d.path().join("SHA256SUMS");
    std::fs::write(&list, sums).unwrap();
    let first = d.path().join("haul.tar.zst.001");
    let header = d.path().join("zarf-package-airlock-amd64-0.0.1.tar.zst.part000");
    let args = [
        "verify",
        "--json",
        "-q",
        "--checksums",
        list.to_str().unwrap(),
        first.to_str().unwrap(),
        header.to_str().unwrap(),
    ];
    let r = run_json(&args);
    assert_eq!(r.code, 0, "{}", r.json);
    let third = d.path().join("haul.tar.zst.003");
    let mut b = std::fs::read(&third).unwrap();
    b.push(b'x');
    std::fs::write(&third, b).unwrap();
    let r = run_json(&args);
    assert_eq!(r.code, 1);
    assert!(r.json.to_string().contains("haul.tar.zst.003 hashes to"), "{}", r.json);
    assert_codes(&r, &["archive-corrupt", "checksum-mismatch"], &[]);
}

#[test]
fn every_input_of_a_bare_name_is_checked() {
    // `a/app.tar` and `b/app.tar`, one line `<sha>  app.tar`: both are held to it (only the
    // first was, so a second, different app.tar passed unlisted).
    let d = tempdir();
    for (dir, fixture_name) in [("a", "docker-save-legacy.tar"), ("b", "crane-tarball.tar")] {
        std::fs::create_dir_all(d.path().join(dir)).unwrap();
        std::fs::copy(fixture(fixture_name), d.path().join(dir).join("app.tar")).unwrap();
    }
    let (a, b) = (d.path().join("a/app.tar"), d.path().join("b/app.tar"));
    let ha = sha256_hex(&std::fs::read(&a).unwrap());
    let sums = list(d.path(), "SHA256SUMS", &format!("{ha}  app.tar\n"));
    let r = run_with(&[&a, &b], &[&sums]);
    assert_eq!(r.code, 1, "{}", r.json);
    let findings: Vec<(String, &str)> = r.json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (i["path"].as_str().unwrap().to_string(), f["code"].as_str().unwrap()))
        })
        .collect();
    assert_eq!(findings, [(b.display().to_string(), "checksum-mismatch")], "{}", r.json);
    // Given the other way round, the same: the order of the inputs does not matter.
    let r = run_with(&[&b, &a], &[&sums]);
    assert_eq!(codes(&r.json), ["checksum-mismatch"], "{}", r.json);
}
