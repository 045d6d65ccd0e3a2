//! The JSON Schema `airlock schema KIND` prints is generated from the types airlock
//! serializes; these tests validate real reports against it, so the schema cannot drift from
//! what is printed: every real fixture (fixtures/expected), bundles, a broken archive, signed
//! images with `--key`, `--target`, a convert, a delta and an apply. They also check that a
//! verify report reads back into `airlock::report::Report` and writes the same JSON again.

mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn schema(kind: &str) -> jsonschema::Validator {
    let out = airlock(&["schema", kind]);
    assert_eq!(out.status.code(), Some(0), "airlock schema {kind}");
    let s: Value = serde_json::from_slice(&out.stdout).expect("the schema is JSON");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{kind}");
    jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("airlock schema {kind} is not a valid schema: {e}"))
}

/// Asserts `doc` is valid, naming every error and where; and that every field written as
/// null is required: a null is an `Option` airlock always writes (one it skips when empty is
/// absent, never null), so a document without it is not one airlock prints.
fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
    let mut nulls = Vec::new();
    null_fields(doc, String::new(), String::new(), &mut std::collections::BTreeMap::new(), &mut nulls);
    for (parent, key) in nulls {
        let mut less = doc.clone();
        less.pointer_mut(&parent).and_then(Value::as_object_mut).unwrap().remove(&key);
        assert!(!v.is_valid(&less), "{what}: the schema accepts the document without {parent}/{key}, always written");
    }
}

/// The (object's JSON pointer, key) of each null-valued field, once per field of the shape
/// (array items alike: `/inputs/*/sha256` once).
fn null_fields(
    doc: &Value,
    at: String,
    shape: String,
    seen: &mut std::collections::BTreeMap<String, ()>,
    out: &mut Vec<(String, String)>,
) {
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match doc {
        Value::Object(m) => {
            for (k, v) in m {
                let field = format!("{shape}/{}", esc(k));
                if v.is_null() && seen.insert(field.clone(), ()).is_none() {
                    out.push((at.clone(), k.clone()));
                }
                null_fields(v, format!("{at}/{}", esc(k)), field, seen, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                null_fields(v, format!("{at}/{i}"), format!("{shape}/*"), seen, out);
            }
        }
        _ => {}
    }
}

fn real_fixtures() -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixture("expected"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(fixture))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the real fixtures: {names:?}");
    names
}

/// Inputs that exercise the fields only some reports have.
fn other_inputs() -> Vec<PathBuf> {
    [
        "bundles/harbor-offline-installer-v2.10.0.tgz",
        "bundles/k3s-airgap-images-amd64.tar.zst",
        "bundles/zarf-package-airlock-amd64-0.0.1.tar.zst",
        "bundles/haul.tar.zst",
        "bundles/haul-broken-blob.tar.zst",
        "bundles/k3s-airgap-truncated.tar.zst",
        "bundles/cosign-save-layout",
        "docker-save-legacy.tar.gz",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect()
}

fn header(doc: &Value, kind: &str, version: u32) {
    assert_eq!(doc["schema"], format!("airlock.{kind}/v{version}"), "{doc}");
    assert_eq!(doc["airlock_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn verify_and_inspect_reports_of_real_archives_match_their_schema() {
    let (verify_schema, inspect_schema) = (schema("verify"), schema("inspect"));
    for p in real_fixtures().into_iter().chain(other_inputs()) {
        let path = p.to_str().unwrap();
        let v = run_json(&["verify", "--json", "-q", path, "--target", "docker@20.10", "--target", "k3s"]);
        header(&v.json, "verify", 2);
        assert_valid(&verify_schema, &v.json, &format!("verify {path}"));
        let i = run_json(&["inspect", "--json", "-q", path]);
        header(&i.json, "inspect", 2);
        assert_valid(&inspect_schema, &i.json, &format!("inspect {path}"));
    }
}

#[test]
fn signed_reports_match_the_schema() {
    let v = schema("verify");
    let key = fixture("signed/keys/p256.pub");
    for name in ["cosign2-save", "cosign3-oras", "cosign3-tlog", "broken-sig-tampered"] {
        let p = fixture(&format!("signed/{name}"));
        let r = run_json(&["verify", "--json", "-q", p.to_str().unwrap(), "--key", key.to_str().unwrap()]);
        assert!(r.json["inputs"][0]["images"][0]["signatures"].is_array(), "{name}: {}", r.json);
        assert_valid(&v, &r.json, name);
    }
}

#[test]
fn a_broken_archive_and_several_inputs_match_the_schema() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let layer = man[0]["Layers"][0].as_str().unwrap().to_string();
    ms.retain(|m| m.path != layer);
    let broken = d.path().join("broken.tar");
    write_tar(&broken, &ms);
    let ok = fixture("docker-29-save.tar");
    let id = format!("sha256:{}", "0".repeat(64));
    let r = run_json(&["verify", "--json", "-q", broken.to_str().unwrap(), ok.to_str().unwrap(), "--expect-id", &id]);
    assert_eq!(r.code, 1);
    assert!(!r.json["findings"].as_array().unwrap().is_empty(), "a finding about the inputs together");
    assert_valid(&schema("verify"), &r.json, "broken + ok");
}

#[test]
fn convert_delta_and_apply_summaries_match_their_schemas() {
    let d = tempdir();
    let out = d.path().join("app-oci");
    let c = run_json(
        &["convert", "--json", "-q", fixture("skopeo-oci-zstd").to_str().unwrap(), "--to", "oci", "-o"]
            .into_iter()
            .chain([out.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(c.code, 0, "{}", c.json);
    header(&c.json, "convert", 2);
    assert_valid(&schema("convert"), &c.json, "convert");

    let v1 = fixture("docker-save-multi.tar");
    let lock = d.path().join("v1.lock");
    let l = airlock(&["lock", "-q", v1.to_str().unwrap(), "-o", lock.to_str().unwrap()]);
    assert_eq!(l.status.code(), Some(0), "{}", String::from_utf8_lossy(&l.stderr));
    let v2 = fixture("docker-29-save-multi-platform.tar");
    let delta = d.path().join("v2.delta");
    let (v2s, locks, deltas) = (v2.to_str().unwrap(), lock.to_str().unwrap(), delta.to_str().unwrap());
    let plan = run_json(&["delta", "--json", "-q", v2s, "--have", locks, "--plan"]);
    assert_eq!(plan.code, 0, "{}", plan.json);
    header(&plan.json, "delta", 1);
    assert_valid(&schema("delta"), &plan.json, "delta --plan");
    let written = run_json(&["delta", "--json", "-q", v2s, "--have", locks, "-o", deltas]);
    assert_eq!(written.code, 0, "{}", written.json);
    assert_valid(&schema("delta"), &written.json, "delta");
    let rebuilt = d.path().join("v2.tar");
    let a =
        run_json(&["apply", "--json", "-q", deltas, "--from", v1.to_str().unwrap(), "-o", rebuilt.to_str().unwrap()]);
    assert_eq!(a.code, 0, "{}", a.json);
    header(&a.json, "apply", 1);
    assert_valid(&schema("apply"), &a.json, "apply");
}

/// The schema can fail: a report with a field of the wrong type or a malformed digest, an
/// unknown finding code, or a missing required field is invalid.
#[test]
fn the_schema_rejects_what_airlock_never_prints() {
    let v = schema("verify");
    let good = verify(&fixture("docker-save-legacy.tar"), &[]).json;
    assert_valid(&v, &good, "as printed");
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit); 5] = [
        ("ok as a string", |d| d["inputs"][0]["ok"] = "yes".into()),
        ("a digest without its algorithm", |d| d["inputs"][0]["images"][0]["image_id"] = "0".repeat(64).into()),
        ("an unknown finding code", |d| {
            d["inputs"][0]["findings"] = serde_json::json!([{"severity": "error", "code": "no-such-code",
                "message": "m", "image": null, "layer": null, "member": null}])
        }),
        ("no inputs", |d| {
            d.as_object_mut().unwrap().remove("inputs");
        }),
        ("a severity that does not exist", |d| {
            d["inputs"][0]["findings"] = serde_json::json!([{"severity": "fatal", "code": "blob-missing",
                "message": "m", "image": null, "layer": null, "member": null}])
        }),
    ];
    for (what, edit) in edits {
        let mut bad = good.clone();
        edit(&mut bad);
        assert!(!v.is_valid(&bad), "{what}: accepted");
    }
}

/// `Report` reads back from its JSON, and writes the very same JSON again: nothing is lost,
/// and a library user can read what the command line printed.
#[test]
fn a_report_reads_back_from_its_json() {
    let key = fixture("signed/keys/p256.pub");
    let inputs: Vec<PathBuf> =
        real_fixtures().into_iter().chain(other_inputs()).chain([fixture("signed/cosign3-tlog")]).collect();
    for p in inputs {
        let path = p.to_str().unwrap();
        for kind in ["verify", "inspect"] {
            let mut args = vec![kind, "--json", "-q", path];
            if kind == "verify" {
                args.extend(["--target", "docker@20.10", "--key", key.to_str().unwrap()]);
            }
            let out = airlock(&args);
            let doc = airlock::report::json::read(&out.stdout).unwrap_or_else(|e| panic!("{kind} {path}: {e}"));
            let again = serde_json::to_value(&doc).unwrap();
            let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(again, printed, "{kind} {path}: the JSON read back and written again");
        }
    }
}

/// Each input's `size` and `sha256`: hashed in the pass that reads it where that pass reads
/// it in order (a compressed file, a pipe, an archive inside a bundle), `null` where no pass
/// does (a plain tar, read at its members' offsets; a directory), and a plain tar's given
/// where `--checksums` hashed the file anyway.
#[test]
fn each_input_has_its_size_and_sha256() {
    let whole = |p: &std::path::Path| {
        let b = std::fs::read(p).unwrap();
        (b.len() as u64, format!("sha256:{}", sha256_hex(&b)))
    };
    let gz = fixture("docker-save-legacy.tar.gz");
    let r = verify(&gz, &[]);
    let (n, h) = whole(&gz);
    assert_eq!((&r.json["inputs"][0]["size"], &r.json["inputs"][0]["sha256"]), (&n.into(), &h.clone().into()));

    let tar = fixture("docker-29-save.tar");
    let (n, h) = whole(&tar);
    let r = verify(&tar, &[]);
    assert_eq!((&r.json["inputs"][0]["size"], &r.json["inputs"][0]["sha256"]), (&n.into(), &Value::Null));
    let d = tempdir();
    let sums = d.path().join("SHA256SUMS");
    std::fs::write(
        &sums,
        format!("{}  {}\n", h.trim_start_matches("sha256:"), tar.file_name().unwrap().to_str().unwrap()),
    )
    .unwrap();
    let r = verify(&tar, &["--checksums", sums.to_str().unwrap()]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(r.json["inputs"][0]["sha256"], h.as_str(), "--checksums hashed it");

    // A pipe: read once, hashed in that read.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "--json", "-q", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &std::fs::read(&tar).unwrap()).unwrap();
    let out: Value = serde_json::from_slice(&child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!((&out["inputs"][0]["size"], &out["inputs"][0]["sha256"]), (&n.into(), &h.into()));

    let dir = verify(&fixture("skopeo-oci-gzip"), &[]);
    assert_eq!((&dir.json["inputs"][0]["size"], &dir.json["inputs"][0]["sha256"]), (&Value::Null, &Value::Null));

    // The archive inside a bundle, read as a stream: the member's bytes.
    let harbor = verify(&fixture("bundles/harbor-offline-installer-v2.10.0.tgz"), &[]);
    let inner =
        harbor.json["inputs"].as_array().unwrap().iter().find(|i| i["format"].is_string()).expect("the archive");
    assert!(inner["sha256"].as_str().is_some_and(|s| s.starts_with("sha256:")), "{inner}");
}

#[test]
fn diff_and_thin_delta_documents_match_their_schemas() {
    let d = tempdir();
    let (a, b) = (fixture("release/app-1.oci.tar"), fixture("release/app-2.docker.tar"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let diff = schema("diff");
    for extra in [&[][..], &["--files"][..]] {
        let out = airlock(&[&["diff", "--json", a, b], extra].concat());
        assert_eq!(out.status.code(), Some(1), "diff {extra:?}: the releases differ");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        header(&doc, "diff", 1);
        assert_valid(&diff, &doc, &format!("diff {extra:?}"));
    }
    let lock = d.path().join("app-1.lock");
    let o = airlock(&["lock", a, "-o", lock.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let thin = d.path().join("thin.tar");
    let out = airlock(&[
        "delta",
        "--json",
        b,
        "--have",
        lock.to_str().unwrap(),
        "--thin-docker",
        "-o",
        thin.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    header(&doc, "delta-thin", 1);
    assert_valid(&schema("delta-thin"), &doc, "delta --thin-docker");
}
