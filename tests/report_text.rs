//! The human report's words: counts in the singular where there is one, a report that fails
//! only because of `--deny` says so, and an artifact's line says what was checked of it and
//! what was not.

mod common;
use common::*;

fn text(args: &[&str]) -> (i32, String) {
    let o = airlock(args);
    (o.status.code().unwrap(), String::from_utf8(o.stdout).unwrap())
}

#[test]
fn one_error_is_one_error() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let layer = man[0]["Layers"][0].as_str().unwrap().to_string();
    ms.retain(|m| m.path != layer);
    let p = d.path().join("broken.tar");
    write_tar(&p, &ms);
    let r = verify(&p, &[]);
    assert_codes(&r, &["blob-missing"], &[]);
    let (code, out) = text(&["verify", p.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("  verdict: FAILED (1 error, 0 warnings)\n"), "{out}");
    assert!(out.ends_with("FAILED verify: 1 input, 1 error, 0 warnings\n"), "{out}");
}

#[test]
fn a_report_failed_by_deny_says_so() {
    let p = fixture("skopeo-oci-uncompressed-mislabeled");
    let (code, out) = text(&["verify", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("OK verify: 1 input, 0 errors, 7 warnings\n"), "{out}");
    let (code, out) = text(&["verify", p.to_str().unwrap(), "--deny", "warnings"]);
    assert_eq!(code, 1);
    let why = "0 errors, 7 warnings, 7 of them failing because of --deny";
    assert!(out.contains(&format!("  verdict: FAILED ({why})\n")), "{out}");
    assert!(out.ends_with(&format!("FAILED verify: 1 input, {why}\n")), "{out}");
}

#[test]
fn an_artifact_line_says_what_was_checked() {
    let p = fixture("signed/cosign3-oras");
    let key = fixture("signed/keys/p256.pub");
    let (_, out) = text(&["verify", p.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  signature ")).collect();
    assert_eq!(lines.len(), 4, "{out}");
    for l in lines {
        assert!(
            l.ends_with(
                "(its blobs' digests and sizes checked; the signature itself not verified: verify --key does that)"
            ),
            "{l}"
        );
    }
    let (_, out) = text(&["verify", p.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  signature ")).collect();
    assert_eq!(lines.len(), 4, "{out}");
    for l in lines {
        assert!(
            l.ends_with("(its blobs' digests and sizes checked; the signature is checked under the image it signs)"),
            "{l}"
        );
    }
}
