//! `airlock delta` and `airlock apply` on the release pair the real tools wrote
//! (fixtures/make-release-pair.sh): airlock/app:2 built on app:1, sharing its 7 layers.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[track_caller]
fn ok(args: &[&str]) -> Run {
    let r = run_json(args);
    assert_eq!(r.code, 0, "airlock {args:?}: {}", r.stderr);
    r
}

fn lock_of(dir: &Path, input: &Path) -> PathBuf {
    let out = dir.join(format!("{}.lock", input.file_name().unwrap().to_string_lossy()));
    ok(&["lock", "-q", "-o", s(&out), s(input)]);
    out
}

fn delta(dir: &Path, new: &Path, base: &Path) -> PathBuf {
    let lock = lock_of(dir, base);
    let out = dir.join(format!("{}.delta", new.file_name().unwrap().to_string_lossy()));
    ok(&["delta", "-q", s(new), "--have", s(&lock), "-o", s(&out)]);
    out
}

/// Every member of a tar: regular files by content, symlinks by target.
fn members(tar: &Path) -> BTreeMap<String, (Option<String>, Vec<u8>)> {
    read_tar(tar)
        .into_iter()
        .filter(|m| !m.kind.is_dir())
        .map(|m| (m.path.trim_start_matches("./").to_string(), (m.link, m.data)))
        .collect()
}

/// Files of a directory, for "nothing was written".
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    v.sort();
    v
}

/// apply, then the checks of the far side: the output holds NEW's members byte for byte, and
/// verifies against NEW's lock with --deny warnings.
fn round_trip(new: &str, base: &str) -> Value {
    let d = tempdir();
    let (new, base) = (fixture(new), fixture(base));
    let dl = delta(d.path(), &new, &base);
    let out = d.path().join("rebuilt.tar");
    let r = ok(&["apply", "-q", "--json", s(&dl), "--from", s(&base), "-o", s(&out)]);
    assert_eq!(members(&out), members(&new), "the same members, the same bytes");
    let new_lock = lock_of(d.path(), &new);
    let v = verify(&out, &["--lock", s(&new_lock), "--deny", "warnings"]);
    assert_codes(&v, &[], &[]);
    r.json
}

/// Writes members as a tar with the tar crate's own long-name support (a delta's names are
/// longer than the shared helper's).
fn write_long(path: &Path, members: &[M]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(m.kind);
        h.set_mode(0o644);
        h.set_size(if m.kind.is_file() { m.data.len() as u64 } else { 0 });
        match &m.link {
            Some(t) => b.append_link(&mut h, &m.path, t).unwrap(),
            None => b.append_data(&mut h, &m.path, &m.data[..]).unwrap(),
        }
    }
    b.finish().unwrap();
}

fn needs(dl: &Path) -> Vec<Value> {
    let doc = read_tar(dl).into_iter().find(|m| m.path == "airlock-delta.json").unwrap();
    let v: Value = serde_json::from_slice(&doc.data).unwrap();
    v["archives"][0]["needs"].as_array().unwrap().clone()
}

#[test]
fn plan_says_per_image_what_crosses() {
    let d = tempdir();
    let lock = lock_of(d.path(), &fixture("docker-save-legacy.tar"));
    let new = fixture("release/app-2.docker26.tar");
    let r = ok(&["delta", "-q", "--json", s(&new), "--have", s(&lock), "--plan"]);
    let a = &r.json["archives"][0];
    assert_eq!(a["format"], "docker-oci");
    let img = &a["images"][0];
    assert_eq!(img["tags"], serde_json::json!(["docker.io/airlock/app:2"]));
    // 8 layers, 7 shared with app:1, of which two are the same blob (layers 5 and 7).
    assert_eq!((img["layers"].as_u64(), img["shipped_layers"].as_u64()), (Some(8), Some(1)));
    assert_eq!(a["needed_blobs"], 6);
    let full = a["full_bytes"].as_u64().unwrap();
    let shipped = a["shipped_bytes"].as_u64().unwrap();
    assert_eq!(full - shipped, a["needed_bytes"].as_u64().unwrap());
    assert!(r.json["output"].is_null() && r.json["delta_bytes"].is_null(), "--plan writes nothing");
    assert_eq!(listing(d.path()), ["docker-save-legacy.tar.lock"]);
    // Human: one line per image.
    let o = airlock(&["delta", "-q", s(&new), "--have", s(&lock), "--plan"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().any(|l| l.contains("docker.io/airlock/app:2") && l.contains("ship 1 of 8 layers")), "{text}");
}

#[test]
fn a_delta_is_deterministic_and_inspectable() {
    let d = tempdir();
    let new = fixture("release/app-2.docker.tar");
    let a = delta(d.path(), &new, &fixture("release/app-1.oci.tar"));
    let b = d.path().join("again.delta");
    let lock = d.path().join("app-1.oci.tar.lock");
    ok(&["delta", "-q", s(&new), "--have", s(&lock), "-o", s(&b)]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same inputs, same bytes");
    let ms = read_tar(&a);
    assert_eq!(ms[0].path, "airlock-delta.json", "the document comes first");
    assert!(
        ms.iter().skip(1).all(|m| m.path.starts_with("new/app-2.docker.tar/") || m.path == "new/"),
        "every other member under new/NAME/"
    );
    // docker save stores layers uncompressed: matched by diffID against skopeo's gzip layers.
    let n = needs(&a);
    assert_eq!(n.len(), 6);
    for need in &n {
        assert_eq!(need["match"], "diff_id");
        assert_eq!(need["have"]["lock"], "app-1.oci.tar.lock");
        assert!(need["path"].as_str().unwrap().ends_with("/layer.tar"));
        let shipped = ms.iter().any(|m| m.path == format!("new/app-2.docker.tar/{}", need["path"].as_str().unwrap()));
        assert!(!shipped, "a needed blob is not in the delta");
    }
    // The repeated layer stays a symlink.
    assert!(ms.iter().any(|m| m.kind == tar::EntryType::Symlink && m.path.ends_with("/layer.tar")));
}

#[test]
fn docker_save_rebuilt_from_an_oci_base() {
    let r = round_trip("release/app-2.docker.tar", "release/app-1.oci.tar");
    let fetched = r["archives"][0]["fetched"].as_array().unwrap();
    assert_eq!(fetched.len(), 6);
    assert!(fetched.iter().all(|f| f["from"].as_str().unwrap().starts_with(s(&fixture("release/app-1.oci.tar")))));
}

#[test]
fn docker_oci_rebuilt_from_a_docker_save_base() {
    let r = round_trip("release/app-2.docker26.tar", "docker-save-legacy.tar");
    assert_eq!(r["archives"][0]["fetched"].as_array().unwrap().len(), 6);
}

#[test]
fn oci_archive_rebuilt_from_an_oci_base() {
    let r = round_trip("release/app-2.oci.tar", "release/app-1.oci.tar");
    assert_eq!(r["archives"][0]["fetched"].as_array().unwrap().len(), 6);
}

#[test]
fn apply_to_another_format_keeps_the_images() {
    let d = tempdir();
    let new = fixture("release/app-2.docker.tar");
    let base = fixture("release/app-1.oci.tar");
    let dl = delta(d.path(), &new, &base);
    let out = d.path().join("app-2-oci");
    ok(&["apply", "-q", s(&dl), "--from", s(&base), "--to", "oci", "-o", s(&out)]);
    let v = verify(&out, &["--lock", s(&lock_of(d.path(), &new)), "--deny", "warnings"]);
    assert_eq!((v.code, codes(&v.json)), (0, Vec::<String>::new()), "{}", v.json);
    assert_eq!(v.json["inputs"][0]["format"], "oci-layout");
    let left: Vec<String> = listing(d.path()).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(left.is_empty(), "nothing left beside the output: {left:?}");
}

#[test]
fn a_blob_missing_from_the_base_fails_and_writes_nothing() {
    let d = tempdir();
    let new = fixture("release/app-2.docker26.tar");
    let dl = delta(d.path(), &new, &fixture("docker-save-legacy.tar"));
    let before = listing(d.path());
    let out = d.path().join("rebuilt.tar");
    let r = run_json(&["apply", "-q", "--json", s(&dl), "--from", s(&fixture("multi-platform-oci")), "-o", s(&out)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json["ok"], false);
    assert_eq!(codes(&r.json), vec!["delta-base-missing"; 6]);
    let digests: Vec<&str> =
        r.json["findings"].as_array().unwrap().iter().map(|f| f["member"].as_str().unwrap()).collect();
    let want: Vec<String> = needs(&dl).iter().map(|n| n["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(digests, want, "each finding names the member that needs the blob");
    let msg = r.json["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("docker.io/airlock/app:2") && msg.contains("docker-save-legacy.tar.lock"), "{msg}");
    assert_eq!(listing(d.path()), before, "nothing written");
}

#[test]
fn a_corrupt_blob_in_the_base_fails_and_writes_nothing() {
    let d = tempdir();
    let new = fixture("release/app-2.docker26.tar");
    let good = fixture("docker-save-legacy.tar");
    let dl = delta(d.path(), &new, &good);
    // The far side's copy of app:1 with one byte of one layer changed.
    let mut ms = read_tar(&good);
    let man = json_of(find(&mut ms, "manifest.json"));
    let layer = man[0]["Layers"][1].as_str().unwrap().to_string();
    let m = find(&mut ms, &layer);
    let at = m.data.len() - 1;
    m.data[at] ^= 1;
    let want = format!("sha256:{}", sha256_hex(&find(&mut read_tar(&good), &layer).data));
    let bad = d.path().join("app-1-damaged.tar");
    write_tar(&bad, &ms);
    let before = listing(d.path());
    let out = d.path().join("rebuilt.tar");
    let r = run_json(&["apply", "-q", "--json", s(&dl), "--from", s(&bad), "-o", s(&out)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(codes(&r.json), ["delta-base-corrupt"]);
    let msg = r.json["findings"][0]["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("blob {want} ")), "{msg}");
    assert!(msg.contains(&format!("app-1-damaged.tar!{layer}")), "{msg}");
    assert_eq!(listing(d.path()), before, "nothing written");
    // The good copy beside the damaged one is used.
    ok(&["apply", "-q", s(&dl), "--from", s(&bad), "--from", s(&good), "-o", s(&out)]);
    assert_eq!(members(&out), members(&new));
}

#[test]
fn a_delta_that_differs_from_its_record_is_refused() {
    let d = tempdir();
    let new = fixture("release/app-2.docker26.tar");
    let base = fixture("docker-save-legacy.tar");
    let dl = delta(d.path(), &new, &base);
    let out = d.path().join("rebuilt.tar");
    let apply = |p: &Path| run_json(&["apply", "-q", "--json", s(p), "--from", s(&base), "-o", s(&out)]);
    let original = read_tar(&dl);
    let broken = d.path().join("broken.delta");
    // A shipped member changed (the index), a member added, a recorded member removed.
    type Edit = fn(&mut Vec<M>);
    let edits: [(&str, Edit); 3] = [
        ("changed", |ms| find(ms, "new/app-2.docker26.tar/index.json").data.push(b' ')),
        ("added", |ms| ms.push(regular("new/app-2.docker26.tar/blobs/sha256/extra", b"x".to_vec()))),
        ("removed", |ms| ms.retain(|m| m.path != "new/app-2.docker26.tar/manifest.json")),
    ];
    for (what, edit) in edits {
        let mut ms = original.clone();
        edit(&mut ms);
        write_long(&broken, &ms);
        let r = apply(&broken);
        assert_eq!((r.code, codes(&r.json)), (1, vec!["delta-corrupt".to_string()]), "{what}: {}", r.stderr);
        assert!(!out.exists(), "{what}: nothing written");
    }
    // Not a delta, or a newer one: usage errors.
    let r = apply(&fixture("docker-save-legacy.tar"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not an airlock delta"), "{}", r.stderr);
    let mut ms = original.clone();
    let doc = find(&mut ms, "airlock-delta.json");
    doc.data =
        String::from_utf8(doc.data.clone()).unwrap().replacen("\"version\": 1", "\"version\": 2", 1).into_bytes();
    write_long(&broken, &ms);
    let r = apply(&broken);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("version 2; this airlock reads version 1"), "{}", r.stderr);
    // A recorded path that leaves the archive.
    let mut ms = original;
    let doc = find(&mut ms, "airlock-delta.json");
    let mut v: Value = serde_json::from_slice(&doc.data).unwrap();
    v["archives"][0]["needs"][0]["path"] = "../escape".into();
    doc.data = serde_json::to_vec(&v).unwrap();
    write_long(&broken, &ms);
    let r = apply(&broken);
    assert_eq!((r.code, codes(&r.json)), (1, vec!["delta-corrupt".to_string()]), "{}", r.stderr);
    assert!(!d.path().join("escape").exists() && !out.exists());
}

#[test]
fn a_broken_new_archive_is_refused() {
    let d = tempdir();
    let lock = lock_of(d.path(), &fixture("docker-save-legacy.tar"));
    let mut ms = read_tar(&fixture("release/app-2.docker.tar"));
    let man = json_of(find(&mut ms, "manifest.json"));
    let top = man[0]["Layers"][7].as_str().unwrap().to_string();
    let m = find(&mut ms, &top);
    let at = m.data.len() - 1;
    m.data[at] ^= 1;
    let new = d.path().join("app-2.tar");
    write_tar(&new, &ms);
    let out = d.path().join("app-2.delta");
    let o = airlock(&["delta", s(&new), "--have", s(&lock), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("error[layer-corrupt] (image @0, layer 7"), "{err}");
    assert!(!out.exists());
}

#[test]
fn usage_errors() {
    let d = tempdir();
    let lock = lock_of(d.path(), &fixture("docker-save-legacy.tar"));
    let new = fixture("release/app-2.docker.tar");
    let out = d.path().join("x.delta");
    std::fs::write(&out, b"keep").unwrap();
    let o = airlock(&["delta", "-q", s(&new), "--have", s(&lock), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
    // --force replaces it.
    assert_eq!(airlock(&["delta", "-q", s(&new), "--have", s(&lock), "-o", s(&out), "--force"]).status.code(), Some(0));
    let o = airlock(&["delta", "-q", s(&new), "--have", s(&lock)]);
    assert_eq!(o.status.code(), Some(2), "-o or --plan");
    let o = airlock(&["delta", "-q", s(&new), "--have", s(&new), "--plan"]);
    assert_eq!(o.status.code(), Some(2), "an archive is not a lock");
    let o =
        airlock(&["apply", "-q", s(&out), "--from", s(&fixture("docker-save-legacy.tar")), "-o", s(&out), "--force"]);
    assert_eq!(o.status.code(), Some(2), "the output is an input");
}

#[test]
fn a_delta_of_several_archives_and_a_layout_rebuilds_each() {
    let d = tempdir();
    let base = fixture("release/app-1.oci.tar");
    let lock = lock_of(d.path(), &base);
    let (layout, save) = (fixture("skopeo-oci-gzip"), fixture("release/app-2.docker.tar"));
    let dl = d.path().join("two.delta");
    ok(&["delta", "-q", s(&layout), s(&save), "--have", s(&lock), "-o", s(&dl)]);
    let out = d.path().join("out");
    ok(&["apply", "-q", s(&dl), "--from", s(&base), "-o", s(&out)]);
    assert_eq!(listing(&out), ["app-2.docker.tar", "skopeo-oci-gzip"]);
    assert!(out.join("skopeo-oci-gzip").is_dir(), "a layout is written as a directory");
    assert_eq!(members(&out.join("app-2.docker.tar")), members(&save));
    let files = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        walk(root)
            .into_iter()
            .map(|p| (p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    };
    assert_eq!(files(&out.join("skopeo-oci-gzip")), files(&layout), "the layout's files, byte for byte");
    let save_lock = lock_of(d.path(), &out.join("app-2.docker.tar"));
    let v = verify(&out.join("skopeo-oci-gzip"), &["--lock", s(&lock_of(d.path(), &layout)), "--deny", "warnings"]);
    assert_eq!((v.code, codes(&v.json)), (0, Vec::<String>::new()), "{}", v.json);
    let v = verify(&out.join("app-2.docker.tar"), &["--lock", s(&save_lock), "--deny", "warnings"]);
    assert_eq!((v.code, codes(&v.json)), (0, Vec::<String>::new()), "{}", v.json);
    // --to converts one archive only.
    let o = airlock(&["apply", "-q", s(&dl), "--from", s(&base), "--to", "oci", "-o", s(&d.path().join("x"))]);
    assert_eq!(o.status.code(), Some(2));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn a_delta_cannot_write_through_its_own_links() {
    // Each link lexically inside the archive, together a way out: d/b -> .. is the root, and
    // d/b/c -> ../.. from there is the output's parent's parent.
    let d = tempdir();
    let base = fixture("docker-save-legacy.tar");
    let dl = delta(d.path(), &fixture("release/app-2.docker26.tar"), &base);
    let mut ms = read_tar(&dl);
    let doc = find(&mut ms, "airlock-delta.json");
    let mut v: Value = serde_json::from_slice(&doc.data).unwrap();
    let a = &mut v["archives"][0];
    a["links"] = serde_json::json!([{"path": "d/b", "target": ".."}, {"path": "d/b/c", "target": "../.."}]);
    let evil = b"written outside";
    let member =
        serde_json::json!({"path": "d/b/c/evil", "digest": format!("sha256:{}", sha256_hex(evil)), "size": evil.len()});
    a["members"].as_array_mut().unwrap().push(member);
    doc.data = serde_json::to_vec(&v).unwrap();
    // Recorded only: a tar holding them is refused when it is read (members written through
    // a symlink), so this is the record's own check.
    let broken = d.path().join("links.delta");
    write_long(&broken, &ms);
    let out = d.path().join("sub").join("rebuilt.tar");
    std::fs::create_dir(d.path().join("sub")).unwrap();
    let r = run_json(&["apply", "-q", "--json", s(&broken), "--from", s(&base), "-o", s(&out)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = codes(&r.json);
    assert!(!c.is_empty() && c.iter().all(|x| x == "delta-corrupt"), "{c:?}");
    let msgs: Vec<&str> =
        r.json["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(msgs.iter().any(|m| m.contains("member d/b/c is under d/b, a file or link")), "{msgs:?}");
    assert!(!d.path().join("evil").exists() && !d.path().parent().unwrap().join("evil").exists());
    assert_eq!(listing(&d.path().join("sub")), Vec::<String>::new(), "nothing written");
}

// ---------------------------------------------------------------------------------------------
// --thin-docker
// ---------------------------------------------------------------------------------------------

/// app:2 against the lock of app:1 (its first 7 layers): the thin docker archive holds the
/// documents and the one new layer, and leaves out index.json and oci-layout.
#[test]
fn thin_docker_leaves_out_the_layers_the_locked_images_hold() {
    let d = tempdir();
    let lock = lock_of(d.path(), &fixture("release/app-1.oci.tar"));
    let new = fixture("release/app-2.docker.tar");
    let out = d.path().join("app-2.thin.tar");
    let r = ok(&["delta", "-q", "--json", s(&new), "--have", s(&lock), "--thin-docker", "-o", s(&out)]);
    let bytes = std::fs::metadata(&out).unwrap().len();
    let want = serde_json::json!({
        "schema": "airlock.delta-thin/v1", "airlock_version": env!("CARGO_PKG_VERSION"),
        "output": s(&out), "bytes": bytes, "images": 1, "layer_files": 7, "omitted_files": 6, "omitted_bytes": 22528
    });
    assert_eq!(r.json, want);
    let ms = members(&out);
    let man: Value = serde_json::from_slice(&ms["manifest.json"].1).unwrap();
    let layers: Vec<&str> = man[0]["Layers"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(layers.len(), 8);
    let config = man[0]["Config"].as_str().unwrap();
    assert_eq!(
        config, "blobs/sha256/c5e2ad4b10c330f0b6c7e071b5d2ef2183127a5a6eda49b5a24a7b0d04587084",
        "app:2's image ID"
    );
    let names: Vec<&str> = ms.keys().map(String::as_str).collect();
    let mut expected = vec!["manifest.json", "repositories", config, layers[7]];
    expected.sort();
    assert_eq!(names, expected);
    // The same inputs give the same bytes.
    let again = d.path().join("again.tar");
    ok(&["delta", "-q", s(&new), "--have", s(&lock), "--thin-docker", "-o", s(&again)]);
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&out).unwrap());
}

#[test]
fn thin_docker_usage_and_refusals() {
    let d = tempdir();
    let lock = lock_of(d.path(), &fixture("release/app-1.oci.tar"));
    let new = fixture("release/app-2.docker.tar");
    let out = d.path().join("thin.tar");
    let two = airlock(&[
        "delta",
        "-q",
        s(&new),
        s(&fixture("docker-save-legacy.tar")),
        "--have",
        s(&lock),
        "--thin-docker",
        "-o",
        s(&out),
    ]);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&two.stderr)
            .contains("--thin-docker writes one docker archive from one NEW, and 2 are given")
    );
    let plan = airlock(&["delta", "-q", s(&new), "--have", s(&lock), "--thin-docker", "--plan"]);
    assert_eq!(plan.status.code(), Some(2), "--plan writes nothing, --thin-docker a file");
    // A NEW with a corrupt layer: refused, nothing written.
    let mut ms = read_tar(&new);
    let man = json_of(find(&mut ms, "manifest.json"));
    let top = man[0]["Layers"][7].as_str().unwrap().to_string();
    let m = find(&mut ms, &top);
    let at = m.data.len() - 1;
    m.data[at] ^= 1;
    let broken = d.path().join("app-2.tar");
    write_tar(&broken, &ms);
    let o = airlock(&["delta", s(&broken), "--have", s(&lock), "--thin-docker", "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("error[layer-corrupt] (image @0, layer 7"), "{err}");
    assert_eq!(listing(d.path()), ["app-1.oci.tar.lock", "app-2.tar"], "nothing written, nothing left behind");
}
