//! `verify --key`, `--rekor-key`, `lock --key` and `verify --lock` on signed inputs, as a user
//! runs them (issue 18): every fixture of `fixtures/signed/` with every key, the exact finding
//! set and which key verified what; the report's fields; Zarf's package signature; locks that
//! record signatures; and that nothing changes without `--key`.

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("signed/expected.json")).unwrap()).unwrap()
}

fn key(name: &str) -> String {
    fixture(&format!("signed/keys/{name}.pub")).to_str().unwrap().to_string()
}

fn fp(name: &str) -> String {
    expected()["keys"][name]["sha256_spki"].as_str().unwrap().to_string()
}

fn signed(name: &str) -> PathBuf {
    fixture(&format!("signed/{name}"))
}

/// `verify --json -q PATH --key K…` plus `extra`.
fn verify_keys(path: &Path, keys: &[&str], extra: &[&str]) -> Run {
    let ks: Vec<String> = keys.iter().map(|k| key(k)).collect();
    let mut args: Vec<&str> = Vec::new();
    for k in &ks {
        args.extend(["--key", k.as_str()]);
    }
    args.extend_from_slice(extra);
    verify(path, &args)
}

/// Per input, per image: the fingerprints its signatures verified with (null for the others).
fn verified_with(json: &Value) -> Vec<Vec<Vec<Option<String>>>> {
    let inputs = json["inputs"].as_array().unwrap();
    inputs
        .iter()
        .map(|i| {
            let images = i["images"].as_array().unwrap();
            images
                .iter()
                .map(|im| {
                    let sigs = im["signatures"].as_array().expect("signatures listed with --key");
                    sigs.iter().map(|s| s["verified_with"].as_str().map(str::to_string)).collect()
                })
                .collect()
        })
        .collect()
}

const ALL_KEYS: [&str; 4] = ["p256", "p384", "ed25519", "rsa"];
/// Signed with each of the four keys: four signatures on the one image.
const FOUR_KEYS: [&str; 4] = ["cosign2-save", "cosign2-oras", "cosign3-oras", "cosign3-save"];
/// Signed with the P-256 key only (one image, or a multi-platform index signed once by each
/// cosign for `multi-*`).
const P256_ONLY: [(&str, usize); 4] =
    [("cosign2-tlog", 1), ("cosign3-tlog", 1), ("multi-cosign2-save", 2), ("multi-oras", 2)];
const BROKEN: [&str; 6] = [
    "broken-bundle-cross",
    "broken-bundle-edited",
    "broken-bundle-tampered",
    "broken-sig-cross",
    "broken-sig-edited",
    "broken-sig-tampered",
];

#[test]
fn every_fixture_with_every_key_gives_exactly_the_findings_and_keys_expected() {
    for fx in FOUR_KEYS {
        for k in ALL_KEYS {
            let r = verify_keys(&signed(fx), &[k], &[]);
            assert_eq!((r.code, codes(&r.json)), (0, vec![]), "{fx} --key {k}");
            let got = verified_with(&r.json);
            let sigs = &got[0][0];
            assert_eq!(sigs.len(), 4, "{fx}: four signatures");
            let ok: Vec<&String> = sigs.iter().flatten().collect();
            assert_eq!(ok, vec![&fp(k)], "{fx} --key {k}: exactly its own signature verifies");
        }
        let r = verify_keys(&signed(fx), &["other"], &[]);
        assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-invalid".to_string()]), "{fx} --key other");
        assert_eq!(verified_with(&r.json), vec![vec![vec![None; 4]]]);
    }
    for (fx, images) in P256_ONLY {
        let r = verify_keys(&signed(fx), &["p256"], &[]);
        assert_eq!((r.code, codes(&r.json)), (0, vec![]), "{fx} --key p256");
        for sigs in &verified_with(&r.json)[0] {
            assert!(
                !sigs.is_empty() && sigs.iter().all(|s| s.as_deref() == Some(fp("p256").as_str())),
                "{fx}: {sigs:?}"
            );
        }
        for k in ["p384", "ed25519", "rsa", "other"] {
            let r = verify_keys(&signed(fx), &[k], &[]);
            assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-invalid".to_string(); images]), "{fx} --key {k}");
        }
    }
    for k in ALL_KEYS.iter().chain(&["other"]) {
        let r = verify_keys(&signed("unsigned-save"), &[k], &[]);
        assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-missing".to_string()]), "unsigned --key {k}");
        for fx in BROKEN {
            let r = verify_keys(&signed(fx), &[k], &[]);
            assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-invalid".to_string()]), "{fx} --key {k}");
        }
    }
}

/// Each broken variant, with the right key, says why in words.
#[test]
fn the_broken_variants_say_why() {
    let why = |fx: &str| {
        let r = verify_keys(&signed(fx), &["p256"], &[]);
        let sigs = r.json["inputs"][0]["images"][0]["signatures"].as_array().unwrap().clone();
        assert_eq!(sigs.len(), 1, "{fx}");
        sigs[0]["why"].as_str().unwrap().to_string()
    };
    let other_image = "a valid signature by ".to_string() + &fp("p256");
    assert!(why("broken-sig-cross").starts_with(&other_image), "{}", why("broken-sig-cross"));
    assert!(why("broken-sig-cross").ends_with("another image's signature attached to this one"));
    for fx in ["broken-sig-edited", "broken-sig-tampered"] {
        assert!(why(fx).starts_with("verifies with none of the 1 keys given"), "{fx}: {}", why(fx));
    }
    // A bundle names its key: "made with key … (p256.pub), which does not verify it".
    for fx in ["broken-bundle-edited", "broken-bundle-tampered"] {
        let w = why(fx);
        assert!(
            w.starts_with(&format!("made with key {}", fp("p256"))) && w.contains("does not verify it"),
            "{fx}: {w}"
        );
    }
    assert!(why("broken-bundle-cross").contains("another image's signature"), "{}", why("broken-bundle-cross"));
}

/// Where cosign 3.1.1 reads the layout (`cosign verify --key K --local-image`, recorded in
/// expected.json), airlock's exit status is cosign's, but for the two recorded cases where
/// cosign is wrong.
#[test]
fn exit_status_agrees_with_cosign_where_cosign_reads_the_layout_and_is_right() {
    let exp = expected();
    let mut compared = 0;
    for row in exp["cosign_verify"].as_array().unwrap() {
        let says = row["says"].as_str().unwrap();
        if !row["tool"].as_str().unwrap().starts_with("cosign 3.") || says.contains("must verify either") {
            continue;
        }
        let fx = row["fixture"].as_str().unwrap().trim_end_matches(" as cosign save");
        let k = row["key"].as_str().unwrap();
        let r = verify_keys(&signed(fx), &[k], &[]);
        compared += 1;
        match (fx, k) {
            // cosign 3.1.1 does not find an index's bundle left unlisted in blobs/ (it finds an
            // image's): airlock does, and the index's signature covers both platforms.
            ("multi-oras", "p256") => assert_eq!((row["exit"].as_i64(), r.code), (Some(1), 0)),
            _ => assert_eq!(r.code as i64, row["exit"].as_i64().unwrap(), "{fx} {k}: cosign says {says:?}"),
        }
    }
    assert_eq!(compared, 24);
}

#[test]
fn the_json_of_a_signature_lists_every_field() {
    let r = verify_keys(&signed("cosign2-tlog"), &["p256"], &[]);
    let im = &r.json["inputs"][0]["images"][0];
    assert_eq!(im["signatures_not_checked"], json!(0));
    let s = &im["signatures"][0];
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "about",
            "alg",
            "attached",
            "blob",
            "format",
            "key_file",
            "layer",
            "manifest",
            "member",
            "not_checked",
            "verified_with",
            "why",
        ]
    );
    assert_eq!(s["format"], "cosign simple signing");
    assert_eq!(s["attached"], "cosign .sig tag or `kind: …/sigs` entry");
    assert_eq!(s["about"], im["manifest_digest"]);
    assert_eq!(s["verified_with"], json!(fp("p256")));
    assert_eq!(s["key_file"], json!(key("p256")));
    assert_eq!(s["alg"], "ECDSA with SHA-256");
    assert_eq!(s["why"], Value::Null);
    assert_eq!(s["not_checked"], json!(["tlog entry present, not checked"]));
    // The human report: one count line, one line per signature.
    let out = airlock(&["verify", signed("cosign2-tlog").to_str().unwrap(), "--key", &key("p256")]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> =
        text.lines().filter(|l| l.starts_with("    signatures:") || l.contains("simple signing")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], "    signatures: 1, 1 verified");
    assert!(lines[1].ends_with(&format!(
        "verified with {} {} (ECDSA with SHA-256); tlog entry present, not checked",
        fp("p256"),
        key("p256")
    )));
}

#[test]
fn with_a_rekor_key_the_set_is_required_and_checked() {
    let rekor = key("log-test");
    let r = verify_keys(&signed("cosign2-tlog"), &["p256"], &["--rekor-key", &rekor]);
    assert_eq!((r.code, codes(&r.json)), (0, vec![]));
    assert_eq!(r.json["inputs"][0]["images"][0]["signatures"][0]["not_checked"], json!([]));
    let r = verify_keys(&signed("cosign2-save"), &["p256"], &["--rekor-key", &rekor]);
    assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-invalid".to_string()]));
    let why = r.json["inputs"][0]["images"][0]["signatures"][0]["why"].as_str().unwrap().to_string();
    assert_eq!(why, "no transparency-log entry, and --rekor-key asks for one");
    // --rekor-key alone, and key files that are not public keys: usage errors naming the file.
    let o = airlock(&["verify", signed("cosign2-tlog").to_str().unwrap(), "--rekor-key", &rekor]);
    assert_eq!(o.status.code(), Some(2));
    let d = tempdir();
    for (name, bytes) in [
        ("empty.pub", &b""[..]),
        (
            "cosign.key",
            &b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"[..],
        ),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = airlock(&["verify", signed("cosign2-save").to_str().unwrap(), "--key", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.starts_with(&format!("airlock: the key {}", p.display())) && err.lines().count() == 1, "{err}");
    }
    let o = airlock(&["verify", signed("cosign2-save").to_str().unwrap(), "--key", "/nonexistent.pub"]);
    assert_eq!(o.status.code(), Some(2));
}

/// In an OCI archive, plain and gzip-wrapped, the same signatures are found and checked.
#[test]
fn in_oci_archives_plain_and_gzip_wrapped() {
    let d = tempdir();
    for fx in ["cosign2-oras", "cosign3-save"] {
        let tar = d.path().join(format!("{fx}.tar"));
        tar_c(&signed(fx), &tar, &["."]);
        let gz = d.path().join(format!("{fx}.tar.gz"));
        std::fs::write(&gz, gz_bytes(&std::fs::read(&tar).unwrap())).unwrap();
        for p in [&tar, &gz] {
            let r = verify_keys(p, &["p384"], &[]);
            assert_eq!((r.code, codes(&r.json)), (0, vec![]), "{}", p.display());
            let got = verified_with(&r.json);
            assert_eq!(got[0][0].iter().flatten().collect::<Vec<_>>(), vec![&fp("p384")], "{}", p.display());
        }
    }
}

/// A Hauler haul (tests/bundles: an OCI layout whose entries carry cosign's `kind` and a
/// ref name, archived as tar.zst, fixtures/make-bundles.sh), holding a cosign-signed image
/// and its signatures as `hauler store save` keeps them.
#[test]
fn in_a_hauler_haul() {
    let d = tempdir();
    let store = d.path().join("store");
    copy_dir(&signed("cosign2-save"), &store);
    let mut index: Value = serde_json::from_slice(&std::fs::read(store.join("index.json")).unwrap()).unwrap();
    let image = index["manifests"][0]["digest"].as_str().unwrap().to_string();
    let sig_tag = format!("docker.io/airlock/app:{}.sig", image.replace(':', "-"));
    index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = json!("docker.io/airlock/app:1");
    index["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"] = json!(sig_tag);
    std::fs::write(store.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let tar = d.path().join("haul.tar");
    tar_c(&store, &tar, &["."]);
    let haul = d.path().join("haul.tar.zst");
    std::fs::write(&haul, wrap(&std::fs::read(&tar).unwrap(), "zst")).unwrap();
    for k in ALL_KEYS {
        let r = verify_keys(&haul, &[k], &[]);
        assert_eq!((r.code, codes(&r.json)), (0, vec![]), "--key {k}");
        assert_eq!(verified_with(&r.json)[0][0].iter().flatten().collect::<Vec<_>>(), vec![&fp(k)]);
    }
    let r = verify_keys(&haul, &["other"], &[]);
    assert_eq!((r.code, codes(&r.json)), (1, vec!["signature-invalid".to_string()]));
}

fn gz_bytes(b: &[u8]) -> Vec<u8> {
    gz(b)
}

/// A Zarf package: its image (in images/, an input of its own) and the package's
/// zarf.yaml.sig, each checked and reported where it belongs.
#[test]
fn a_zarf_package_its_images_and_its_zarf_yaml_sig() {
    let pkg = signed("zarf-package-signed-amd64-0.0.1.tar");
    let r = verify_keys(&pkg, &["p256"], &[]);
    assert_eq!((r.code, codes(&r.json)), (0, vec![]));
    let inputs = r.json["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    let files = &inputs[0]["signed_files"];
    assert_eq!(
        files,
        &json!([{"file": "zarf.yaml", "signature": "zarf.yaml.sig", "verified_with": fp("p256"),
                 "key_file": key("p256"), "alg": "ECDSA with SHA-256", "why": null}])
    );
    let sigs = verified_with(&r.json);
    assert_eq!(sigs[1], vec![vec![Some(fp("p256")), Some(fp("p256"))]], "a cosign 2 and a cosign 3 signature");
    // Another key: the image and the package, each signature-invalid on its own input.
    let r = verify_keys(&pkg, &["other"], &[]);
    let per_input: Vec<Vec<String>> = r.json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect())
        .collect();
    assert_eq!(per_input, vec![vec!["signature-invalid".to_string()], vec!["signature-invalid".to_string()]]);
    assert_eq!(r.json["inputs"][0]["findings"][0]["member"], "zarf.yaml");

    // The package without zarf.yaml.sig; with it edited; with zarf.yaml.sig replaced by cosign
    // 3's bundle as zarf.bundle.sig.
    let d = tempdir();
    let ms = read_tar(&pkg);
    let variant = |name: &str, edit: &dyn Fn(&mut Vec<M>)| {
        let mut ms = ms.clone();
        edit(&mut ms);
        let p = d.path().join(name);
        write_tar(&p, &ms);
        let r = verify_keys(&p, &["p256"], &[]);
        (r.code, codes(&r.json), r.json["inputs"][0]["signed_files"].clone())
    };
    let (code, c, files) = variant("unsigned.tar", &|ms| ms.retain(|m| m.path != "./zarf.yaml.sig"));
    assert_eq!((code, c, files), (1, vec!["signature-missing".to_string()], Value::Null));
    let (code, c, files) = variant("edited.tar", &|ms| {
        let s = find(ms, "./zarf.yaml.sig");
        s.data =
            b"MEUCIQDeditededitededitededitededitededitedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==".to_vec();
    });
    assert_eq!((code, c), (1, vec!["signature-invalid".to_string()]));
    assert_eq!(files[0]["verified_with"], Value::Null);
    let bundle = std::fs::read(signed("zarf.yaml.bundle.json")).unwrap();
    let (code, c, files) = variant("bundle.tar", &|ms| {
        let s = find(ms, "./zarf.yaml.sig");
        s.path = "./zarf.bundle.sig".into();
        s.data = bundle.clone();
    });
    assert_eq!((code, c), (0, vec![]));
    assert_eq!(files[0]["signature"], "zarf.bundle.sig");
    assert_eq!(files[0]["verified_with"], json!(fp("p256")));
}

fn lock_of(d: &Path, input: &Path, keys: &[&str]) -> (PathBuf, Value) {
    let out = d.join(format!("{}.lock", input.file_name().unwrap().to_str().unwrap()));
    let ks: Vec<String> = keys.iter().map(|k| key(k)).collect();
    let mut args = vec!["lock", "-q", input.to_str().unwrap(), "-o", out.to_str().unwrap()];
    for k in &ks {
        args.extend(["--key", k.as_str()]);
    }
    let o = airlock(&args);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    (out, v)
}

#[test]
fn a_lock_records_the_signatures_and_verify_lock_catches_them_left_behind() {
    let d = tempdir();
    let fx = signed("cosign2-save");
    let (lock, v) = lock_of(d.path(), &fx, &["p256"]);
    assert_eq!(v["version"], 2);
    let sigs = v["images"][0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 4);
    let keys: Vec<&Value> = sigs.iter().map(|s| &s["key"]).filter(|k| !k.is_null()).collect();
    assert_eq!(keys, vec![&json!(fp("p256"))], "the key given is recorded with the signature it verifies");
    assert!(sigs.iter().all(|s| s["blob"].as_str().unwrap().starts_with("sha256:")));
    let lock = lock.to_str().unwrap();

    // The same layout: nothing to say, with or without the key.
    let r = verify(&fx, &["--lock", lock]);
    assert_eq!((r.code, codes(&r.json)), (0, vec![]));
    assert_eq!(r.json["inputs"][0]["images"][0]["signatures"].as_array().unwrap().len(), 4);
    let r = verify_keys(&fx, &["p256"], &["--lock", lock]);
    assert_eq!((r.code, codes(&r.json)), (0, vec![]));

    // The trap: the image copied without its signatures (here: converted to a docker archive,
    // as `docker save` would carry it).
    let bare = d.path().join("bare.tar");
    let (code, err) = convert_to(&fx, &bare, &["--to", "docker"]);
    assert_eq!(code, 0, "{err}");
    let r = verify(&bare, &["--lock", lock]);
    // The layers are copied byte for byte, so the signatures are all that changed.
    assert_eq!((r.code, codes(&r.json)), (1, vec!["lock-signature-missing".to_string()]));
    let f = r.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "lock-signature-missing")
        .unwrap();
    assert_eq!(f["image"], 0);
    assert!(f["message"].as_str().unwrap().contains("was locked with 4 signature(s)"), "{f}");

    // A locked key that verifies none of the image's signatures now (the lock says `other`
    // signed one of them): the same error, with --key naming it.
    let mut edited = v.clone();
    edited["images"][0]["signatures"][1]["key"] = json!(fp("other"));
    let p = d.path().join("edited.lock");
    std::fs::write(&p, serde_json::to_vec(&edited).unwrap()).unwrap();
    let r = verify_keys(&fx, &["p256", "other"], &["--lock", p.to_str().unwrap()]);
    assert_eq!((r.code, codes(&r.json)), (1, vec!["lock-signature-missing".to_string()]));
    let msg = r.json["inputs"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        msg.ends_with(&format!(
            "a signature verified by key {}, which verifies none of its signatures now",
            fp("other")
        )),
        "{msg}"
    );
    // Without that key given, the locked fingerprint is not held against the image.
    let r = verify_keys(&fx, &["p256"], &["--lock", p.to_str().unwrap()]);
    assert_eq!((r.code, codes(&r.json)), (0, vec![]));

    // `lock --key` refuses an image without a signature that verifies, like verify.
    let o = airlock(&["lock", signed("unsigned-save").to_str().unwrap(), "--key", &key("p256")]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(text_codes(&err), (vec!["signature-missing".to_string()], vec![]), "{err}");
    // An input without signatures still gives a version 1 lock, without the field.
    let (_, v) = lock_of(d.path(), &signed("unsigned-save"), &[]);
    assert_eq!(v["version"], 1);
    assert!(v["images"][0].get("signatures").is_none(), "{v}");
}

/// Without `--key` the reports are what they were: no signature field, no line, and the
/// human report with `--key` is the one without plus its signature lines.
#[test]
fn without_key_nothing_changes() {
    let mut inputs: Vec<PathBuf> = FOUR_KEYS
        .iter()
        .chain(&["cosign2-tlog", "cosign3-tlog", "multi-oras", "multi-cosign2-save"])
        .map(|f| signed(f))
        .collect();
    inputs.push(signed("zarf-package-signed-amd64-0.0.1.tar"));
    for f in ["docker-save-legacy.tar", "skopeo-oci-zstd", "multi-platform-oci"] {
        inputs.push(fixture(f));
    }
    for p in &inputs {
        let plain = airlock(&["verify", "-q", p.to_str().unwrap()]);
        let keyed = airlock(&["verify", "-q", p.to_str().unwrap(), "--key", &key("p256")]);
        let plain_text = String::from_utf8_lossy(&plain.stdout).into_owned();
        let keyed_text = String::from_utf8_lossy(&keyed.stdout).into_owned();
        assert!(!plain_text.contains("signatures:") && !plain_text.contains("  signed:"), "{plain_text}");
        let signed_fixture = p.starts_with(fixture("signed"));
        if signed_fixture {
            // Signed with p256: same findings, so the same report but for the signature lines,
            // and each artifact line saying the signature was checked rather than that --key
            // would check it.
            let stripped: Vec<String> = keyed_text
                .lines()
                .filter(|l| {
                    !(l.starts_with("    signatures: ")
                        || l.starts_with("      ") && is_signature_line(l)
                        || l.starts_with("  signed: "))
                })
                .map(|l| {
                    l.replace(
                        "the signature is checked under the image it signs",
                        "the signature itself not verified: verify --key does that",
                    )
                })
                .collect();
            assert_eq!(stripped.join("\n") + "\n", plain_text, "{}", p.display());
            assert_eq!(plain.status.code(), Some(0), "{}: {plain_text}", p.display());
        }
        let json = verify(p, &[]);
        let text = serde_json::to_string(&json.json).unwrap();
        for field in ["\"signatures\"", "\"signatures_not_checked\"", "\"signed_files\""] {
            assert!(!text.contains(field), "{}: {field}", p.display());
        }
    }
}

fn is_signature_line(l: &str) -> bool {
    l.contains("cosign simple signing ") || l.contains("sigstore bundle v0.3 ")
}

/// The model: cosign 3's bundle referrers are signatures, those `cosign save` leaves in
/// blobs/ are accounted for; fail-closed holds for what is not one.
#[test]
fn cosign3_layouts_have_no_false_alarm_and_what_is_not_a_referrer_is_still_named() {
    for fx in ["cosign3-oras", "cosign3-save", "cosign3-tlog", "multi-oras"] {
        let r = verify(&signed(fx), &[]);
        assert_eq!((r.code, codes(&r.json)), (0, vec![]), "{fx}");
        let kinds: Vec<&str> =
            r.json["inputs"][0]["artifacts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == "signature"), "{fx}: {kinds:?}");
        assert_eq!(r.json["inputs"][0]["coverage"]["other"], 0, "{fx}");
    }
    let d = tempdir();
    let dir = d.path().join("layout");
    copy_dir(&signed("cosign3-save"), &dir);
    // A blob nothing reaches.
    let (stray, _) = common::images::put(&dir, b"stray bytes");
    // A referrer whose subject is not in the layout.
    let manifest = |subject: &str, layer_type: &str, dir: &Path| {
        let (cfg, n) = common::images::put(dir, b"{}");
        let (layer, ln) = common::images::put(dir, layer_type.as_bytes());
        let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cfg, "size": n},
            "layers": [{"mediaType": layer_type, "digest": layer, "size": ln}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1}});
        common::images::put(dir, &serde_json::to_vec(&m).unwrap())
    };
    let elsewhere = format!("sha256:{}", "ab".repeat(32));
    let (orphan, _) = manifest(&elsewhere, "application/vnd.dev.sigstore.bundle.v0.3+json", &dir);
    let r = verify(&dir, &[]);
    let mut unref: Vec<String> = r.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["code"].as_str().unwrap(), f["member"].as_str().unwrap()))
        .collect();
    unref.sort();
    let blob = |d: &str| format!("unreferenced-blob blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let layer_of_orphan = format!("sha256:{}", sha256_hex(b"application/vnd.dev.sigstore.bundle.v0.3+json"));
    let mut want = vec![blob(&stray), blob(&orphan), blob(&layer_of_orphan)];
    want.sort();
    // The orphan's `{}` config is the empty blob cosign's referrers share: referenced by them.
    assert_eq!(unref, want);
    // A referrer of an unknown type, about the image: an artifact, named.
    let image = r.json["inputs"][0]["images"][0]["manifest_digest"].as_str().unwrap().to_string();
    let d2 = tempdir();
    let dir2 = d2.path().join("layout");
    copy_dir(&signed("cosign3-save"), &dir2);
    let (unknown, _) = manifest(&image, "application/vnd.example.thing+json", &dir2);
    let r = verify(&dir2, &[]);
    let got: Vec<(String, String)> = r.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["member"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        vec![("artifact-skipped".to_string(), format!("blobs/sha256/{}", unknown.trim_start_matches("sha256:")))]
    );
}
