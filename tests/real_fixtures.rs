//! Every fixture written by a real tool verifies clean, and airlock's recomputed digests,
//! diffIDs and chainIDs equal what the tools themselves reported
//! (`fixtures/expected/<fixture>.json`, written by fixtures/make-fixtures.sh).

mod common;
use common::*;
use serde_json::Value;

/// Fixtures the real tools wrote oddly, and the one warning each must get: they load.
const REAL_WORLD_DEFECTS: &[(&str, &str)] = &[
    // skopeo 1.9 `--dest-oci-accept-uncompressed-layers` keeps the source's +gzip media type
    // on layers it stores uncompressed. docker, containerd and podman sniff the bytes and
    // load it (umoci alone refuses it: "gzip: invalid header").
    ("skopeo-oci-uncompressed-mislabeled", "media-type-uncompressed"),
];

fn defect(name: &str) -> Option<&'static str> {
    REAL_WORLD_DEFECTS.iter().find(|d| d.0 == name).map(|d| d.1)
}

fn expectations() -> Vec<(String, Value)> {
    let dir = fixture("expected");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixtures/expected")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_str().unwrap().to_string();
            (name, serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "expected an expectation per fixture, found {}", out.len());
    out
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().map(|x| x.as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn every_fixture_verifies_with_the_tools_digests() {
    for (name, exp) in expectations() {
        let path = fixture(&name);
        assert!(path.exists(), "fixture {name} is missing");
        let r = verify(&path, &[]);
        let input = &r.json["inputs"][0];
        let errors: Vec<&Value> =
            input["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").collect();
        assert_eq!(r.code, 0, "{name}: {errors:#?}");
        // A real tool's known defect is its one warning; every other fixture has none.
        let warnings: Vec<&str> = defect(&name).into_iter().collect();
        assert_codes(&r, &[], &warnings);
        let images = input["images"].as_array().unwrap();
        for want in exp["images"].as_array().unwrap() {
            let id = want["image_id"].as_str().unwrap();
            let got = images
                .iter()
                .find(|i| i["image_id"] == id && (want["platform"].is_null() || i["platform"] == want["platform"]))
                .unwrap_or_else(|| panic!("{name}: no image with ID {id}"));
            let layers = got["layers"].as_array().unwrap();
            let diff: Vec<String> = layers.iter().map(|l| l["diff_id"].as_str().unwrap().to_string()).collect();
            assert_eq!(diff, strs(&want["diff_ids"]), "{name}: recomputed diffIDs");
            let chain: Vec<String> = layers.iter().map(|l| l["chain_id"].as_str().unwrap().to_string()).collect();
            assert_eq!(chain, strs(&want["chain_ids"]), "{name}: chainIDs");
            if let Some(ld) = want.get("layer_digests").filter(|v| !v.is_null()) {
                let got: Vec<String> = layers.iter().map(|l| l["digest"].as_str().unwrap().to_string()).collect();
                assert_eq!(got, strs(ld), "{name}: layer blob digests");
            }
            if let Some(md) = want.get("manifest_digest").filter(|v| !v.is_null()) {
                assert_eq!(&got["manifest_digest"], md, "{name}: manifest digest");
            }
            // The report spells tags normalized (README, "JSON output"); the tools' as they print them.
            for t in strs(&want["tags"]).iter().map(|t| airlock::testing::normalize_reference(t)) {
                assert!(strs(&got["tags"]).contains(&t), "{name}: tag {t} in {:?}", got["tags"]);
            }
        }
    }
}

#[test]
fn inspect_shows_the_same_images_without_hashing_layers() {
    for (name, exp) in expectations() {
        let r = run_json(&["inspect", "--json", fixture(&name).to_str().unwrap()]);
        assert_eq!(r.code, 0, "{name}: {}", r.json);
        let images = r.json["inputs"][0]["images"].as_array().unwrap();
        for want in exp["images"].as_array().unwrap() {
            let got = images
                .iter()
                .find(|i| i["image_id"] == want["image_id"])
                .unwrap_or_else(|| panic!("{name}: inspect lacks {}", want["image_id"]));
            let diff: Vec<String> =
                got["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].as_str().unwrap().to_string()).collect();
            assert_eq!(diff, strs(&want["diff_ids"]), "{name}: declared diffIDs");
            let hist = got["history"].as_array().expect("history");
            let made: Vec<&Value> = hist.iter().filter(|h| !h["layer"].is_null()).collect();
            assert_eq!(made.len(), diff.len(), "{name}: one non-empty history entry per layer");
        }
    }
}

#[test]
fn all_fixtures_in_one_call() {
    let names: Vec<String> =
        expectations().into_iter().map(|(n, _)| fixture(&n).to_str().unwrap().to_string()).collect();
    let mut args = vec!["verify", "--json", "-q"];
    args.extend(names.iter().map(String::as_str));
    let r = run_json(&args);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), names.len());
    for input in r.json["inputs"].as_array().unwrap() {
        assert_eq!(input["ok"], true, "{}", input["path"]);
    }
    // Together they are not fine: podman's OCI archive and podman's docker archive both tag
    // localhost/airlock/app:1, on two different images (the OCI one is skopeo's conversion,
    // which rewrote the config). Loaded together, the tag ends on whichever is loaded last.
    assert_eq!(r.code, 1);
    let found: Vec<(&str, &str)> = r.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    let oci = fixture("podman-oci-archive.tar");
    let save = fixture("podman-save-multi.tar");
    let want = format!(
        "tag localhost/airlock/app:1 names two different images: image d9ef92df35f1 (linux/amd64) in {} and image e46a39f5dc01 (linux/amd64) in {}; docker load and ctr images import leave it on the one loaded last",
        oci.display(),
        save.display()
    );
    assert_eq!(found, [("tag-conflict", want.as_str())]);
}

/// `ctr images export` of a multi-platform image: the whole index, one platform's blobs.
/// The present platform verifies with the values podman and skopeo reported for the same
/// blobs (multi-platform-oci.json's linux/amd64 image); the absent one is a warning.
#[test]
fn partial_multi_platform_export_from_ctr() {
    let exp = &serde_json::from_slice::<Value>(&std::fs::read(fixture("expected/multi-platform-oci.json")).unwrap())
        .unwrap()["images"];
    let amd64 = exp.as_array().unwrap().iter().find(|i| i["platform"] == "linux/amd64").unwrap();
    let r = verify(&fixture("ctr-export-partial.tar"), &[]);
    assert_codes(&r, &[], &["platform-absent"]);
    assert_eq!(r.code, 0, "{}", r.json);
    let input = &r.json["inputs"][0];
    let images = input["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["config_digest"], amd64["image_id"]);
    let diff: Vec<String> =
        images[0]["layers"].as_array().unwrap().iter().map(|l| l["diff_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(diff, strs(&amd64["diff_ids"]));
    let findings = input["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["code"], "platform-absent");
    assert!(findings[0]["message"].as_str().unwrap().contains("linux/arm64"));

    // Asking for the absent platform is an error of this archive (exit 1), not a usage error.
    let r = verify(&fixture("ctr-export-partial.tar"), &["--platform", "linux/arm64"]);
    assert_eq!(r.code, 1, "{}", r.json);
    assert_codes(&r, &["blob-missing"], &["platform-absent"]);
    // --deny turns the warning into a failure.
    let r = verify(&fixture("ctr-export-partial.tar"), &["--deny", "platform-absent"]);
    assert_eq!(r.code, 1, "{}", r.json);
}

/// A partial export whose present platform lost a layer, and one with no platform at all:
/// both errors.
#[test]
fn partial_export_damage_is_still_an_error() {
    let ms = read_tar(&fixture("ctr-export-partial.tar"));
    let d = tempdir();
    let index: Value = json_of(ms.iter().find(|m| m.path == "index.json").unwrap());
    let top = index["manifests"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let nested = json_of(ms.iter().find(|m| m.path.ends_with(&top)).unwrap());
    let amd64 =
        nested["manifests"].as_array().unwrap().iter().find(|m| m["platform"]["architecture"] == "amd64").unwrap();
    let man_hex = amd64["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let man = json_of(ms.iter().find(|m| m.path.ends_with(&man_hex)).unwrap());
    let layer_hex = man["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();

    let no_layer: Vec<M> =
        read_tar(&fixture("ctr-export-partial.tar")).into_iter().filter(|m| !m.path.ends_with(&layer_hex)).collect();
    let p = d.path().join("no-layer.tar");
    write_tar(&p, &no_layer);
    let r = verify(&p, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["blob-missing"], &["platform-absent"]);

    // Without its amd64 manifest (and without manifest.json, which would still name the
    // amd64 image for docker load), nothing is left to load.
    let no_platform: Vec<M> = read_tar(&fixture("ctr-export-partial.tar"))
        .into_iter()
        .filter(|m| !m.path.ends_with(&man_hex) && m.path != "manifest.json")
        .collect();
    let p = d.path().join("no-platform.tar");
    write_tar(&p, &no_platform);
    let r = verify(&p, &[]);
    assert_codes(&r, &["blob-missing"], &["platform-absent", "unreferenced-blob"]);
    assert_eq!(r.code, 1);
    assert!(r.json.to_string().contains("no platform of the index is in the archive"), "{}", r.json);
}

/// k3s and RKE2 airgap tarballs also come as .tar.bz2 and .tar.lz4, and docker and podman
/// load .tar.xz (measured: 20.10, 4.3): read as streams, the same images and values as the
/// plain archive; and convert unwraps them.
#[test]
fn bzip2_lz4_and_xz_wrapped_archives_read_the_same() {
    let d = tempdir();
    for name in ["docker-save-multi.tar", "ctr-export-partial.tar"] {
        let plain = std::fs::read(fixture(name)).unwrap();
        let want = verify(&fixture(name), &[]).json["inputs"][0]["images"].clone();
        for (how, compression) in [("bz2", "bzip2"), ("lz4", "lz4"), ("xz", "xz")] {
            let p = d.path().join(format!("{name}.{how}"));
            std::fs::write(&p, wrap(&plain, how)).unwrap();
            let r = verify(&p, &[]);
            let warnings: &[&str] = if name == "ctr-export-partial.tar" { &["platform-absent"] } else { &[] };
            assert_codes(&r, &[], warnings);
            assert_eq!(r.code, 0, "{name}.{how}: {}", r.json);
            assert_eq!(r.json["inputs"][0]["compression"], compression);
            assert_eq!(r.json["inputs"][0]["images"], want, "{name}.{how}: same images");
            let out = d.path().join(format!("{name}.{how}.oci"));
            let o = airlock(&["convert", "-q", p.to_str().unwrap(), "--to", "oci", "-o", out.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(verify(&out, &[]).code, 0);
        }
    }
    // Damage inside the bzip2 or xz stream is found.
    for how in ["bz2", "xz"] {
        let mut bad = wrap(&std::fs::read(fixture("docker-save-legacy.tar")).unwrap(), how);
        let n = bad.len();
        bad[n / 2] ^= 0xff;
        let p = d.path().join(format!("bad.tar.{how}"));
        std::fs::write(&p, bad).unwrap();
        let r = verify(&p, &[]);
        assert_eq!(r.code, 1, "{how}: {}", r.json);
        assert_codes(&r, &["archive-corrupt"], &[]);
    }
}

/// docker loads bzip2-compressed layers; airlock now recomputes their diffIDs.
#[test]
fn bzip2_layers_are_verified() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(ms.iter().find(|m| m.path == "manifest.json").unwrap());
    let first = man[0]["Layers"][0].as_str().unwrap().to_string();
    let m = find(&mut ms, &first);
    m.data = wrap(&m.data, "bz2");
    let p = d.path().join("bz2-layer.tar");
    write_tar(&p, &ms);
    let r = verify(&p, &[]);
    assert_codes(&r, &[], &[]);
    assert_eq!(r.code, 0, "{}", r.json);
    let l = &r.json["inputs"][0]["images"][0]["layers"][0];
    assert_eq!(l["compression"], "bzip2");
    let exp: Value =
        serde_json::from_slice(&std::fs::read(fixture("expected/docker-save-legacy.tar.json")).unwrap()).unwrap();
    assert_eq!(l["diff_id"], exp["images"][0]["diff_ids"][0], "the diffID of the decompressed layer");
    // A damaged bzip2 layer is layer-corrupt.
    let m = find(&mut ms, &first);
    let n = m.data.len();
    m.data[n / 2] ^= 0xff;
    write_tar(&p, &ms);
    let r = verify(&p, &[]);
    assert_eq!(r.code, 1);
    assert_codes(&r, &["layer-corrupt"], &[]);
}

/// `@N` is an image's index in its input everywhere: the report under `--platform` numbers
/// an image as `--image @N` does (it used to number within the selection: "image @0", which
/// `--image @0 --platform linux/arm64` then did not select).
#[test]
fn image_numbers_agree_with_image_selection() {
    let dir = fixture("multi-platform-oci");
    let p = dir.to_str().unwrap();
    let index_of = |r: &Run| -> Vec<(u64, String)> {
        r.json["inputs"][0]["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["index"].as_u64().unwrap(), i["platform"].as_str().unwrap().to_string()))
            .collect()
    };
    let all = run_json(&["verify", "--json", "-q", p]);
    assert_eq!(index_of(&all), [(0, "linux/amd64".to_string()), (1, "linux/arm64".to_string())]);
    let arm = run_json(&["verify", "--json", "-q", p, "--platform", "linux/arm64"]);
    assert_eq!((arm.code, index_of(&arm)), (0, vec![(1, "linux/arm64".to_string())]));
    let both = run_json(&["verify", "--json", "-q", p, "--platform", "linux/arm64", "--image", "@1"]);
    assert_eq!((both.code, index_of(&both)), (0, vec![(1, "linux/arm64".to_string())]));
    let human = airlock(&["verify", p, "--platform", "linux/arm64"]);
    let images: Vec<String> = String::from_utf8_lossy(&human.stdout)
        .lines()
        .filter(|l| l.trim_start().starts_with("image @"))
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(images, ["image @1 1"]);
}
