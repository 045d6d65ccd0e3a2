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
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(codes(&r.json).is_empty());

    let wrong = list(d.path(), "wrong", &format!("{hb}  docker-save-legacy.tar\n"));
    let r = run_with(&[&a], &[&wrong]);
    assert_eq!(r.code, 1);
    let msg = r.json.to_string();
    assert!(msg.contains("checksum-mismatch") && msg.contains("wrong:1"), "{msg}");

    let missing = list(d.path(), "missing", &format!("{ha}  not-carried.tar\n"));
    let r = run_with(&[&a], &[&missing]);
    assert_eq!(r.code, 1);
    assert!(codes(&r.json).contains(&"checksum-missing".to_string()), "{}", r.json);
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
    assert_eq!(r.code, 1);
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
