//! Every fixture written by a real tool verifies clean, and airlock's recomputed digests,
//! diffIDs and chainIDs equal what the tools themselves reported
//! (`fixtures/expected/<fixture>.json`, written by fixtures/make-fixtures.sh).

mod common;
use common::*;
use serde_json::Value;

/// Fixtures the real tools wrote wrong, and the one code each must get.
const REAL_WORLD_DEFECTS: &[(&str, &str)] = &[
    // skopeo 1.9 `--dest-oci-accept-uncompressed-layers` keeps the source's +gzip media type
    // on layers it stores uncompressed; umoci refuses it ("gzip: invalid header").
    ("skopeo-oci-uncompressed-mislabeled", "media-type-mismatch"),
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
        match defect(&name) {
            None => assert_eq!(r.code, 0, "{name}: {errors:#?}"),
            Some(code) => {
                assert_eq!(r.code, 1, "{name} has a known defect");
                assert!(errors.iter().all(|f| f["code"] == code), "{name}: only {code}: {errors:#?}");
            }
        }
        let images = input["images"].as_array().unwrap();
        for want in exp["images"].as_array().unwrap() {
            let id = want["image_id"].as_str().unwrap();
            let got = images
                .iter()
                .find(|i| i["config_digest"] == id && (want["platform"].is_null() || i["platform"] == want["platform"]))
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
            for t in strs(&want["tags"]) {
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
                .find(|i| i["config_digest"] == want["image_id"])
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
    let names: Vec<String> = expectations()
        .into_iter()
        .filter(|(n, _)| defect(n).is_none())
        .map(|(n, _)| fixture(&n).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["verify", "--json", "-q"];
    args.extend(names.iter().map(String::as_str));
    let r = run_json(&args);
    assert_eq!(r.code, 0);
    assert_eq!(r.json["inputs"].as_array().unwrap().len(), names.len());
}
