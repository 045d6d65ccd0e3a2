//! `--target` on fixtures: the rule sets for runtimes no test here runs (docker 23, 24,
//! containerd 2.0, k3s, RKE2), with the outcome their cited sources give, and the rules'
//! edges (src/targets/rules.rs). Every runtime scripts/real-tools.sh brings up (docker 20.10,
//! 26.1, 28.5, 28.5 with the containerd store, containerd 1.6, 1.7, 2.1, podman 4.3, 5.4) is
//! checked against the real thing in tests/interop.rs (`target_predictions_match_the_real_runtimes`).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// (loads?, target codes) for one input and target.
fn predict(input: &Path, target: &str) -> (bool, Vec<String>) {
    let r = verify(input, &["--target", target]);
    let i = &r.json["inputs"][0];
    let loads = i["targets"][0]["loads"].as_bool().unwrap_or_else(|| panic!("{target}: {}", r.json));
    let codes = i["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str().filter(|c| c.starts_with("target-")).map(str::to_string))
        .collect();
    (loads, codes)
}

fn copy_as(d: &tempfile::TempDir, fixture_name: &str, name: &str) -> PathBuf {
    let p = d.path().join(name);
    std::fs::copy(fixture(fixture_name), &p).unwrap();
    p
}

fn tar_dir(d: &tempfile::TempDir, fixture_name: &str) -> PathBuf {
    let p = d.path().join(format!("{fixture_name}.tar"));
    let st =
        std::process::Command::new("tar").arg("-C").arg(fixture(fixture_name)).arg("-cf").arg(&p).arg(".").status();
    assert!(st.unwrap().success());
    p
}

#[test]
fn docker_versions() {
    let d = tempdir();
    let zst = fixture("docker-save-legacy.tar.zst");
    assert!(!predict(&zst, "docker@20.10").0);
    assert!(!predict(&zst, "docker@22.06").0, "22.06 resolves to the 20.10 rules");
    assert!(predict(&zst, "docker@23").0, "moby#41759: zstd from 23.0");
    assert!(predict(&zst, "docker").0);
    let oci = tar_dir(&d, "skopeo-oci-gzip");
    let (loads, codes) = predict(&oci, "docker@25");
    assert!(!loads && codes == ["target-format-unsupported"], "{codes:?}");
    assert!(predict(&oci, "docker@29").0, "the containerd image store loads OCI archives");
    // A layout directory is not what docker load reads, whatever the version.
    let (loads, codes) = predict(&fixture("skopeo-oci-gzip"), "docker@29");
    assert!(!loads, "a directory is not what docker load reads: {codes:?}");
}

#[test]
fn containerd_versions() {
    // containerd 1.x reads a plain tar only; 2's `ctr images import` (the transfer service)
    // decompresses gzip and zstd, and nothing else (measured with 1.6.20, 1.7.24, 2.1.9).
    let gz = fixture("docker-save-legacy.tar.gz");
    let zst = fixture("docker-save-legacy.tar.zst");
    for v in ["containerd@1.6", "containerd@1.7"] {
        for f in [&gz, &zst] {
            let (loads, codes) = predict(f, v);
            assert!(!loads && codes == ["target-compression-unsupported"], "{v}: {codes:?}");
        }
    }
    for v in ["containerd@2", "containerd@2.1", "containerd"] {
        for f in [&gz, &zst] {
            assert_eq!(predict(f, v), (true, vec![]), "{v} {}", f.display());
        }
    }
    let d = tempdir();
    let plain = std::fs::read(fixture("docker-save-legacy.tar")).unwrap();
    for how in ["bz2", "lz4"] {
        let p = d.path().join(format!("app.tar.{how}"));
        std::fs::write(&p, wrap(&plain, how)).unwrap();
        let (loads, codes) = predict(&p, "containerd@2");
        assert!(!loads && codes == ["target-compression-unsupported"], "{how}: {codes:?}");
    }
    let partial = fixture("ctr-export-partial.tar");
    for v in ["containerd@1.7", "containerd@2"] {
        let (loads, codes) = predict(&partial, v);
        assert!(!loads && codes == ["target-platform-missing"], "{v}: {codes:?}");
    }
    assert!(predict(&fixture("ctr-export.tar"), "containerd@2").0);
}

#[test]
fn k3s_and_rke2_choose_the_decompressor_by_name() {
    let d = tempdir();
    for t in ["k3s", "rke2", "k3s@v1.30.2+k3s1"] {
        // The right names: .tar, .tar.gz/.tgz, .tar.zst/.tzst.
        for (fx, name) in [
            ("docker-save-legacy.tar", "images.tar"),
            ("docker-save-legacy.tar.gz", "images.tgz"),
            ("docker-save-legacy.tar.zst", "images.tzst"),
            ("docker-save-legacy.tar.zst", "k3s-airgap-images-amd64.tar.zst"),
        ] {
            let p = copy_as(&d, fx, name);
            assert!(predict(&p, t).0, "{t} {name}");
        }
        // bzip2 and lz4, by their names.
        let plain = std::fs::read(fixture("docker-save-legacy.tar")).unwrap();
        for (how, name) in [("bz2", "images.tar.bz2"), ("bz2", "images.tbz"), ("lz4", "images.tar.lz4")] {
            let p = d.path().join(name);
            std::fs::write(&p, wrap(&plain, how)).unwrap();
            assert!(predict(&p, t).0, "{t} {name}");
        }
        let p = d.path().join("lz4-named.tar.bz2");
        std::fs::write(&p, wrap(&plain, "lz4")).unwrap();
        assert_eq!(predict(&p, t).1, ["target-extension-mismatch"], "{t}");
        // A gzip file named .tar, a plain tar named .tar.gz, zstd named .tar.gz, no extension.
        for (fx, name) in [
            ("docker-save-legacy.tar.gz", "gzip-named.tar"),
            ("docker-save-legacy.tar", "plain-named.tar.gz"),
            ("docker-save-legacy.tar.zst", "zstd-named.tar.gz"),
            ("docker-save-legacy.tar", "no-extension"),
        ] {
            let p = copy_as(&d, fx, name);
            let (loads, codes) = predict(&p, t);
            assert!(!loads && codes == ["target-extension-mismatch"], "{t} {name}: {codes:?}");
        }
        // Their containerd imports every platform.
        let (loads, codes) = predict(&fixture("ctr-export-partial.tar"), t);
        assert!(!loads && codes == ["target-platform-missing"], "{codes:?}");
    }
}

#[test]
fn k3s_caps_the_zstd_window() {
    use std::io::Write;
    let d = tempdir();
    let plain = std::fs::read(fixture("docker-save-legacy.tar")).unwrap();
    let write = |name: &str, window_log: u32| {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.window_log(window_log).unwrap();
        enc.long_distance_matching(true).unwrap();
        enc.write_all(&plain).unwrap();
        let p = d.path().join(name);
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
        p
    };
    // --long=25 (what k3s's own tarballs use): loads. --long=27: over the 32 MiB cap.
    assert!(predict(&write("ok.tar.zst", 25), "k3s").0);
    let (loads, codes) = predict(&write("long.tar.zst", 27), "rke2");
    assert!(!loads && codes == ["target-zstd-window"], "{codes:?}");
    // docker has no such cap.
    assert!(predict(&d.path().join("long.tar.zst"), "docker@23").0);
}

#[test]
fn podman_versions() {
    let gz = fixture("docker-save-legacy.tar.gz");
    assert!(!predict(&gz, "podman@4.3").0, "measured on podman 4.3.1");
    assert!(predict(&gz, "podman@5").0, "measured: podman 5.4.2 loads it");
    assert!(predict(&fixture("skopeo-oci-gzip"), "podman").0, "podman loads an OCI layout directory");
    assert!(predict(&fixture("skopeo-oci-gzip"), "podman@4").0, "a path podman 4 can name the image after");
    // podman 4 names the image after the directory's path: a hidden or upper-case component
    // is not a valid name (measured: 4.3.1 fails, 5.4.2 loads).
    let d = tempdir();
    let dir = d.path().join("Layout");
    copy_dir(&fixture("skopeo-oci-gzip"), &dir);
    assert_eq!(predict(&dir, "podman@4").1, ["target-format-unsupported"]);
    assert!(predict(&dir, "podman@5").0);
    // A zstd stream that starts with a skippable frame (pzstd): neither podman reads it.
    let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0];
    bytes.extend(wrap(&std::fs::read(fixture("docker-save-legacy.tar")).unwrap(), "zst"));
    let p = d.path().join("pzstd.tar.zst");
    std::fs::write(&p, bytes).unwrap();
    for v in ["podman@4", "podman@5"] {
        assert_eq!(predict(&p, v), (false, vec!["target-compression-unsupported".to_string()]), "{v}");
    }
    for v in ["docker@23", "containerd@2"] {
        assert_eq!(predict(&p, v), (true, vec![]), "{v}");
    }
}

#[test]
fn unmeasured_rule_sets_say_so() {
    // docker 23 is run by no test here: its verdict and its findings say they come from sources.
    let zst = fixture("docker-save-legacy.tar.zst");
    let o = airlock(&[
        "verify",
        "--target",
        "docker@23",
        "--target",
        "docker@26",
        "--target",
        "k3s",
        zst.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("targets: docker@23 loads it (from sources, not measured), docker@25 loads it, k3s loads it (from sources, not measured)"),
        "{out}"
    );
    let d = tempdir();
    let r = verify(&tar_dir(&d, "skopeo-oci-gzip"), &["--target", "docker@24", "--target", "docker@28"]);
    let t = &r.json["inputs"][0]["targets"];
    assert_eq!(t[0]["measured_with"], serde_json::json!([]));
    assert_eq!(t[1]["measured_with"], serde_json::json!(["docker 26.1.5", "docker 28.5.2"]));
    let messages: Vec<&str> =
        r.json["inputs"][0]["findings"].as_array().unwrap().iter().filter_map(|f| f["message"].as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("docker@24 will not load this")
                && m.contains("not measured for docker@24; source: moby")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("docker@25 will not load this")
                && m.ends_with("measured: docker 26.1.5, docker 28.5.2]")),
        "{messages:?}"
    );
}

#[test]
fn loads_but_changes_is_a_warning() {
    // Untagged images load untagged in docker: the input still passes.
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let mut man: Value = json_of(find(&mut ms, "manifest.json"));
    man[0]["RepoTags"] = Value::Null;
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
    let p = d.path().join("untagged.tar");
    write_tar(&p, &ms);
    let r = verify(&p, &["--target", "docker@20.10"]);
    assert_codes(&r, &[], &["target-load-changes"]);
    assert_eq!(r.json["inputs"][0]["targets"][0]["loads"], true);
    // --deny makes it fail.
    assert_eq!(verify(&p, &["--target", "docker@20.10", "--deny", "target-load-changes"]).code, 1);
}

#[test]
fn unknown_targets_are_usage_errors() {
    for bad in ["dockr", "docker@19.03", "podman@x"] {
        let o = airlock(&["verify", "--target", bad, fixture("docker-save-legacy.tar").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(bad.split('@').next().unwrap()));
    }
}

#[test]
fn several_targets_one_report() {
    let r = verify(&fixture("ctr-export-partial.tar"), &["--target", "docker@20.10", "--target", "k3s"]);
    let t = r.json["inputs"][0]["targets"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!((t[0]["target"].as_str(), t[0]["loads"].as_bool()), (Some("docker@20.10"), Some(true)));
    assert_eq!((t[1]["target"].as_str(), t[1]["loads"].as_bool()), (Some("k3s"), Some(false)));
    assert_eq!(r.code, 1, "a target that will not load it fails the input");
}

#[test]
fn zstd_layers_under_manifest_json_only_are_recorded_as_gzip_by_containerd() {
    // The zstd layout with a manifest.json naming its blobs, and no index.json: containerd's
    // importer reads manifest.json and types the layers as gzip. It loads: a warning.
    let d = tempdir();
    let dir = d.path().join("x");
    copy_dir(&fixture("skopeo-oci-zstd"), &dir);
    let (_, man) = first_manifest(&dir);
    let blob = |v: &Value| format!("blobs/sha256/{}", v["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let layers: Vec<String> = man["layers"].as_array().unwrap().iter().map(blob).collect();
    let mj = serde_json::json!([{"Config": blob(&man["config"]), "RepoTags": ["airlock/zstd:1"], "Layers": layers}]);
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&mj).unwrap()).unwrap();
    std::fs::remove_file(dir.join("index.json")).unwrap();
    std::fs::remove_file(dir.join("oci-layout")).unwrap();
    let t = d.path().join("zstd-manifest-json.tar");
    assert!(
        std::process::Command::new("tar").arg("-C").arg(&dir).arg("-cf").arg(&t).arg(".").status().unwrap().success()
    );
    let (loads, codes) = predict(&t, "containerd@1.6");
    assert!(loads && codes == ["target-load-changes"], "{codes:?}");
    let (loads, codes) = predict(&t, "docker@20.10");
    assert!(!loads && codes == ["target-compression-unsupported"], "{codes:?}");
}

#[test]
fn docker_before_the_containerd_store_skips_attestations() {
    // A Docker 25+-style archive (ctr's export) with an attestation manifest added to its
    // index: docker's graph-driver load reads manifest.json and never sees it.
    let d = tempdir();
    let dir = d.path().join("x");
    std::fs::create_dir(&dir).unwrap();
    let st = std::process::Command::new("tar").arg("-C").arg(&dir).arg("-xf").arg(fixture("ctr-export.tar")).status();
    assert!(st.unwrap().success());
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let (cd, cs) = put(b"{}");
    let (ld, ls) = put(br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let att = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.in-toto+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": ld, "size": ls}]});
    let (md, ms) = put(&serde_json::to_vec(&att).unwrap());
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
        "platform": {"architecture": "unknown", "os": "unknown"}}));
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let t = d.path().join("with-attestation.tar");
    assert!(
        std::process::Command::new("tar").arg("-C").arg(&dir).arg("-cf").arg(&t).arg(".").status().unwrap().success()
    );
    let (loads, codes) = predict(&t, "docker@25");
    assert!(loads && codes == ["target-load-changes"], "{codes:?}");
    let (loads, codes) = predict(&t, "docker@29");
    assert!(loads && codes.is_empty(), "{codes:?}");
}
