//! `tag-conflict`: one tag on two different images, in one input or across the inputs of a
//! run. docker 20.10–28 ("renaming the old one") and `ctr images import` 1.6–2.1 leave the
//! tag on the last image they load (tests/interop.rs loads these archives to show it), so
//! the image a tag names would depend on the order: an error naming both.

mod common;
use common::images::{index_with_two_names, multi_tagged, one_of_multi};
use common::*;
use serde_json::Value;

const APP: &str = "e46a39f5dc01";
const TOOL: &str = "961ede6d04e3";

/// Every finding of a run as (code, message): the inputs', then the run's.
fn findings(r: &Run) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut take = |fs: &Value| {
        for f in fs.as_array().into_iter().flatten() {
            out.push((f["code"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()));
        }
    };
    for i in r.json["inputs"].as_array().into_iter().flatten() {
        take(&i["findings"]);
    }
    take(&r.json["findings"]);
    out
}

fn conflict(msg: String) -> Vec<(String, String)> {
    vec![("tag-conflict".to_string(), msg)]
}

#[test]
fn two_manifest_json_entries_with_one_tag() {
    let d = tempdir();
    let p = multi_tagged(d.path(), "dup.tar", [&["airlock/dup:1"], &["airlock/dup:1"]]);
    let r = verify(&p, &[]);
    assert_codes(&r, &["tag-conflict"], &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(
        findings(&r),
        conflict(format!(
            "tag airlock/dup:1 names two different images: image {APP} (linux/amd64) in manifest.json entry 0 and image {TOOL} (linux/amd64) in manifest.json entry 1; docker load and ctr images import keep the later: image {TOOL} (linux/amd64)"
        ))
    );
    assert_eq!(r.json["inputs"][0]["findings"][0]["image"], 1, "the later image, as reported");
}

#[test]
fn tags_are_compared_normalised() {
    let d = tempdir();
    let p = multi_tagged(d.path(), "dup.tar", [&["airlock/dup:1"], &["docker.io/airlock/dup:1"]]);
    let r = verify(&p, &[]);
    assert_codes(&r, &["tag-conflict"], &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(
        findings(&r),
        conflict(format!(
            "tag docker.io/airlock/dup:1 names two different images: image {APP} (linux/amd64) in manifest.json entry 0 and image {TOOL} (linux/amd64) in manifest.json entry 1; docker load and ctr images import keep the later: image {TOOL} (linux/amd64)"
        ))
    );
    let p = multi_tagged(d.path(), "nginx.tar", [&["nginx"], &["docker.io/library/nginx:latest"]]);
    let r = verify(&p, &[]);
    assert_codes(&r, &["tag-conflict"], &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_eq!(findings(&r).len(), 1, "{}", r.json);
    assert!(findings(&r)[0].1.starts_with("tag docker.io/library/nginx:latest names two different images"));
}

#[test]
fn two_index_entries_with_one_name() {
    let d = tempdir();
    let dir = index_with_two_names(d.path());
    let r = verify(&dir, &[]);
    assert_codes(&r, &["tag-conflict"], &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let images = r.json["inputs"][0]["images"].as_array().unwrap();
    let ids: Vec<String> = images.iter().map(|i| i["config_digest"].as_str().unwrap()[7..19].to_string()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        findings(&r),
        conflict(format!(
            "tag docker.io/airlock/dup:1 names two different images: image {} (linux/amd64) in index.json entry 0 and image {} (linux/amd64) in index.json entry 1; docker load and ctr images import keep the later: image {} (linux/amd64)",
            ids[0], ids[1], ids[1]
        ))
    );
}

#[test]
fn two_inputs_with_one_tag() {
    let d = tempdir();
    let a = one_of_multi(d.path(), "app.tar", 0, "airlock/dup:1");
    let b = one_of_multi(d.path(), "tool.tar", 1, "airlock/dup:1");
    let r = run_json(&["verify", "--json", "-q", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.json);
    for input in r.json["inputs"].as_array().unwrap() {
        assert_eq!(input["ok"], true, "each input alone is fine");
    }
    assert_eq!(
        findings(&r),
        conflict(format!(
            "tag docker.io/airlock/dup:1 names two different images: image {APP} (linux/amd64) in {} and image {TOOL} (linux/amd64) in {}; docker load and ctr images import leave it on the one loaded last",
            a.display(),
            b.display()
        ))
    );
}

#[test]
fn two_archives_of_a_bundle_with_one_tag() {
    let d = tempdir();
    one_of_multi(d.path(), "app.tar", 0, "airlock/dup:1");
    one_of_multi(d.path(), "tool.tar", 1, "airlock/dup:1");
    let bundle = d.path().join("images.tar");
    tar_c(d.path(), &bundle, &["app.tar", "tool.tar"]);
    let r = verify(&bundle, &[]);
    assert_codes(&r, &["tag-conflict"], &[]);
    assert_eq!(r.code, 1, "{}", r.json);
    let b = bundle.display();
    assert_eq!(
        findings(&r),
        conflict(format!(
            "tag docker.io/airlock/dup:1 names two different images: image {APP} (linux/amd64) in {b}!app.tar and image {TOOL} (linux/amd64) in {b}!tool.tar; docker load and ctr images import leave it on the one loaded last"
        ))
    );
}

#[test]
fn one_image_under_one_tag_is_no_conflict() {
    let d = tempdir();
    // A multi-platform index: one tag, one image per platform.
    // Docker 25+ / containerd's export: the same image named in manifest.json and index.json.
    for f in ["multi-platform-oci", "ctr-export.tar", "ctr-export-multi.tar", "docker-save-multi.tar"] {
        let r = verify(&fixture(f), &[]);
        assert_codes(&r, &[], &[]);
    }
    // The same image twice in manifest.json under one tag.
    let p = multi_tagged(d.path(), "same.tar", [&["airlock/app:1"], &["airlock/tool:1"]]);
    let mut ms = read_tar(&p);
    let mut man = json_of(find(&mut ms, "manifest.json"));
    let first = man[0].clone();
    man.as_array_mut().unwrap().push(first);
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
    write_tar(&p, &ms);
    let r = verify(&p, &[]);
    assert_codes(&r, &[], &[]);
    // The same image under the same tag in two inputs: an archive and its OCI conversion.
    let oci = d.path().join("oci");
    let (code, stderr) = convert_to(&fixture("docker-save-legacy.tar"), &oci, &["--to", "oci"]);
    assert_eq!(code, 0, "{stderr}");
    let r = run_json(&[
        "verify",
        "--json",
        "-q",
        fixture("docker-save-legacy.tar").to_str().unwrap(),
        oci.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(findings(&r).is_empty(), "{}", r.json);
}

#[test]
fn a_locked_tag_must_name_the_locked_image_wherever_it_is() {
    // Before, `--lock` passed when any holder of the tag was the locked image.
    let d = tempdir();
    let a = one_of_multi(d.path(), "app.tar", 0, "airlock/dup:1");
    let b = one_of_multi(d.path(), "tool.tar", 1, "airlock/dup:1");
    let lock = d.path().join("app.lock");
    let o = airlock(&["lock", "-q", a.to_str().unwrap(), "-o", lock.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r = run_json(&[
        "verify",
        "--json",
        "-q",
        "--lock",
        lock.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.json);
    let tool = "sha256:961ede6d04e345e8e4f10914007c5a93e32b87561b69e4e1b9c0bf60f0ef589f";
    let want = vec![
        (
            "lock-tag-mismatch".to_string(),
            format!(
                "tag docker.io/airlock/dup:1, which the lock pins, also names image {tool} (linux/amd64), which the lock does not pin under it"
            ),
        ),
        ("lock-image-unlisted".to_string(), format!("image {tool} (linux/amd64) is not in the lock")),
        (
            "tag-conflict".to_string(),
            format!(
                "tag docker.io/airlock/dup:1 names two different images: image {APP} (linux/amd64) in {} and image {TOOL} (linux/amd64) in {}; docker load and ctr images import leave it on the one loaded last",
                a.display(),
                b.display()
            ),
        ),
    ];
    assert_eq!(findings(&r), want);
}
