//! Parser differentials, tar: headers that Go's archive/tar (docker, containerd, podman,
//! skopeo) reads differently from a naive reader. Each case is generated here, byte by byte,
//! and airlock must read it as Go does, or refuse it. Where dockerd runs (CI), tests/interop.rs
//! loads the same archives and asserts docker did what airlock predicted
//! (`docker_agrees_on_tar_differentials`).

mod common;
use common::*;
use serde_json::{Value, json};

use common::tar_cases::{cases, end, file, hidden_manifest};

fn verify_layer(layer: &[u8]) -> Run {
    let d = tempdir();
    let p = d.path().join("app.tar");
    docker_archive(&p, &[layer.to_vec()], "airlock/diff:1");
    verify(&p, &[])
}

fn messages(run: &Run) -> String {
    run.json["inputs"][0]["findings"].to_string()
}

#[test]
fn gnu_long_name_wins_over_pax_path() {
    let c = cases();
    let run = verify_layer(&c[0].layer);
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
    assert!(messages(&run).contains("cron.d"), "{}", messages(&run));
    // And the PAX path is not what Go uses: an escaping PAX path under a safe GNU name is
    // what docker extracts as safe.txt, no false alarm.
    let run = verify_layer(&c[1].layer);
    assert_codes(&run, &[], &[]);
}

#[test]
fn an_empty_gnu_long_name_hides_no_layer_entry() {
    let c = cases().into_iter().find(|c| c.name == "empty-gnu-long-name").unwrap();
    let run = verify_layer(&c.layer);
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
    let unsafe_entries: Vec<&Value> = run.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "unsafe-layer-entry")
        .collect();
    assert_eq!(unsafe_entries.len(), 1, "{}", messages(&run));
    assert!(
        unsafe_entries[0]["message"].as_str().unwrap().contains("../../../../etc/cron.d/airlock"),
        "{}",
        messages(&run)
    );
}

/// A second manifest.json behind an empty GNU long name: docker and ctr load the image it
/// names (tests/interop.rs `runtimes_load_the_manifest_behind_an_empty_long_name`). airlock
/// sees both members, reports the later one's image (the one the runtimes load) and refuses
/// the archive for the duplicate.
#[test]
fn a_manifest_behind_an_empty_long_name_is_the_one_reported() {
    for payload in [&b""[..], b"\0"] {
        let d = tempdir();
        let h = hidden_manifest(d.path(), payload);
        let run = verify(&h.archive, &[]);
        assert_eq!(run.code, 1, "{}", run.json);
        let images: Vec<&str> = run.json["inputs"][0]["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["config_digest"].as_str().unwrap())
            .collect();
        assert_eq!(images, [h.evil_id.as_str()], "the image the runtimes load: {}", run.json);
        let findings = &run.json["inputs"][0]["findings"];
        let dup: Vec<&Value> = findings.as_array().unwrap().iter().filter(|f| f["code"] == "duplicate-entry").collect();
        assert_eq!(dup.len(), 1, "{findings}");
        assert!(dup[0]["message"].as_str().unwrap().contains("manifest.json"), "{findings}");
        assert_eq!(codes(&run.json), ["duplicate-entry"], "{findings}");
    }
}

#[test]
fn nul_typeflag_directory_has_no_data() {
    let run = verify_layer(&cases()[2].layer);
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
}

#[test]
fn one_zero_block_then_more_headers_fails() {
    let run = verify_layer(&cases()[3].layer);
    assert_codes(&run, &["layer-corrupt"], &[]);
    assert!(messages(&run).contains("zero block"), "{}", messages(&run));
    // Two zero blocks then junk: Go stops at the end marker, so does airlock (and the diffID
    // still covers the junk).
    let layer = [file("a.txt", b"a"), end(), b"trailing junk".to_vec()].concat();
    assert_codes(&verify_layer(&layer), &[], &[]);
}

#[test]
fn gnu_sparse_name_is_the_name() {
    let run = verify_layer(&cases()[5].layer);
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
    assert!(messages(&run).contains("cron.d"), "{}", messages(&run));
}

#[test]
fn size_fields_read_as_go_reads_them() {
    // "0000\0" then "0001": Go trims, cuts at the first NUL, and reads 0. A reader that
    // skips every NUL reads 1 and treats the next block as data.
    let hidden = raw_header(b"../../../evil", b'0', 0, false, |_| {});
    let h = raw_header(b"a.txt", b'0', 0, false, |b| b[124..136].copy_from_slice(b"0000\x000001\0\0\0"));
    let layer = [h.to_vec(), hidden.to_vec(), end()].concat();
    let run = verify_layer(&layer);
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
    assert!(messages(&run).contains("../../../evil"), "{}", messages(&run));
    // A mode Go cannot parse fails the load: not a pass.
    let bad = raw_header(b"a.txt", b'0', 0, false, |b| b[100..108].copy_from_slice(b"06x4\0\0\0\0"));
    let run = verify_layer(&[bad.to_vec(), end()].concat());
    assert_codes(&run, &["layer-corrupt"], &[]);
    assert!(messages(&run).contains("mode"), "{}", messages(&run));
}

#[test]
fn star_prefix_is_131_bytes() {
    // STAR (ustar magic, "tar\0" at 508): the prefix ends at 476; bytes after it are the
    // access and change times, which Go parses: valid ones read, a bad one fails the header.
    let star = |times: &[u8; 24]| {
        raw_header(b"x", b'0', 0, false, |b| {
            b[345..476].fill(b'p');
            b[476..500].copy_from_slice(times);
            b[508..512].copy_from_slice(b"tar\0");
        })
    };
    let layer = [star(b"00000000000\x0000000000000\x00").to_vec(), end()].concat();
    // The name is ppp…/x, inside the root.
    assert_codes(&verify_layer(&layer), &[], &[]);
    let run = verify_layer(&[star(b"./////////////////////\0\0").to_vec(), end()].concat());
    assert_codes(&run, &["layer-corrupt"], &[]);
    assert!(messages(&run).contains("atime"), "{}", messages(&run));
    // The same bytes as USTAR (no STAR trailer): the 155-byte prefix holds "/..//…": the
    // name starts with 131 'p's and then climbs out.
    let h = raw_header(b"x", b'0', 0, false, |b| {
        b[345..347].copy_from_slice(b"..");
        b[347..476].fill(b'/');
    });
    let run = verify_layer(&[h.to_vec(), end()].concat());
    assert_codes(&run, &["unsafe-layer-entry"], &[]);
}

/// GNU tar writes 'S' headers with extension blocks for a file with many holes. airlock reads
/// them correctly (the layer is not corrupt) but reports what every loader does with them:
/// docker 20.10, containerd 1.6 and podman 4.3 fail with "unhandled tar header type 83".
#[test]
fn a_real_old_gnu_sparse_layer_is_read_and_refused() {
    // GNU tar writes 'S' headers with extension blocks for a file with many holes.
    let d = tempdir();
    let dir = d.path().join("src");
    std::fs::create_dir(&dir).unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(dir.join("sparse.bin")).unwrap();
        for i in 0..12u64 {
            f.seek(SeekFrom::Start(i * 65536)).unwrap();
            f.write_all(format!("data{i}").as_bytes()).unwrap();
        }
        f.set_len(12 * 65536).unwrap();
    }
    std::fs::write(dir.join("after.txt"), b"after\n").unwrap();
    let layer_path = d.path().join("layer.tar");
    let st = std::process::Command::new("tar")
        .args(["--format=oldgnu", "--sparse", "-cf"])
        .arg(&layer_path)
        .args(["-C", dir.to_str().unwrap(), "sparse.bin", "after.txt"])
        .status()
        .expect("GNU tar");
    assert!(st.success());
    let layer = std::fs::read(&layer_path).unwrap();
    assert_eq!(layer[156], b'S', "GNU tar wrote an old GNU sparse header");
    assert_eq!(layer[482], 1, "with extension blocks");
    let run = verify_layer(&layer);
    // Read correctly (not a corrupt layer), and refused for the entry no runtime unpacks.
    assert_codes(&run, &["unpackable-layer-entry"], &[]);
    let m = messages(&run);
    assert!(m.contains("sparse.bin"), "{m}");
    assert!(!m.contains("after.txt"), "the entry after it is read as a normal file: {m}");
}

/// `x -> .` then `x/DOC` (a copy of the archive's own `DOC`) appended to fixture `name`: an
/// extractor writes the second at ./DOC.
fn through_link(d: &tempfile::TempDir, name: &str, doc: &str) -> (std::path::PathBuf, Run) {
    let mut ms = read_tar(&fixture(name));
    let bytes = find(&mut ms, doc).data.clone();
    ms.push(M { path: "x".into(), data: Vec::new(), kind: tar::EntryType::Symlink, link: Some(".".into()) });
    ms.push(regular(&format!("x/{doc}"), bytes));
    let p = d.path().join("app.tar");
    write_tar(&p, &ms);
    let run = verify(&p, &[]);
    (p, run)
}

#[test]
fn member_written_through_a_symlink_is_flagged() {
    let d = tempdir();
    let (p, run) = through_link(&d, "docker-save-legacy.tar", "manifest.json");
    assert_eq!(run.code, 1, "{}", run.json);
    // The archive's own finding, and only that: `x/` is no layout of its own (its blobs,
    // there only through the link, are not reported missing), and only the one input.
    let input = p.to_str().unwrap();
    assert_eq!(
        all_findings(&run.json),
        want_findings(&[(input, "error", "unsafe-path", "x/manifest.json")]),
        "{}",
        run.json
    );
    assert_eq!(run.json["inputs"].as_array().unwrap().len(), 1, "{}", run.json);
    assert!(messages(&run).contains("written through symlink"), "{}", messages(&run));
    // The member is not verified (the finding names it); the link leads to nothing loadable.
    let c = &run.json["inputs"][0]["coverage"];
    assert_eq!((&c["members"], &c["image"], &c["other"], &c["error"]), (&json!(26), &json!(24), &json!(1), &json!(1)));
}

#[test]
fn an_oci_index_written_through_a_symlink_is_flagged_once() {
    let d = tempdir();
    let (p, run) = through_link(&d, "skopeo-oci-archive.tar", "index.json");
    let input = p.to_str().unwrap();
    assert_eq!(run.code, 1, "{}", run.json);
    assert_eq!(
        all_findings(&run.json),
        want_findings(&[(input, "error", "unsafe-path", "x/index.json")]),
        "{}",
        run.json
    );
    assert_eq!(run.json["inputs"].as_array().unwrap().len(), 1, "{}", run.json);
}

#[test]
fn non_utf8_names_are_compared_as_bytes() {
    // Two junk members whose names differ only in an invalid byte: not a duplicate.
    let d = tempdir();
    let mut bytes = Vec::new();
    for m in read_tar(&fixture("docker-save-legacy.tar")) {
        let kind = match m.kind {
            tar::EntryType::Directory => b'5',
            tar::EntryType::Symlink => b'2',
            _ => b'0',
        };
        let size = if kind == b'0' { m.data.len() as u64 } else { 0 };
        let link = m.link.clone().unwrap_or_default();
        bytes.extend(raw_header(m.path.as_bytes(), kind, size, false, |b| {
            b[157..157 + link.len()].copy_from_slice(link.as_bytes())
        }));
        if kind == b'0' {
            bytes.extend(padded(&m.data));
        }
    }
    for name in [&b"junk\xff"[..], &b"junk\xfe"[..]] {
        bytes.extend(raw_header(name, b'0', 1, false, |_| {}));
        bytes.extend(padded(b"j"));
    }
    bytes.extend(end());
    let p = d.path().join("app.tar");
    std::fs::write(&p, &bytes).unwrap();
    let run = verify(&p, &[]);
    assert_codes(&run, &[], &[]);
}

#[test]
fn a_member_under_a_file_fails_extraction() {
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    ms.push(regular("junk", b"a file".to_vec()));
    ms.push(regular("junk/inside", b"cannot be".to_vec()));
    let p = d.path().join("app.tar");
    write_tar(&p, &ms);
    let run = verify(&p, &[]);
    assert_codes(&run, &["archive-corrupt"], &[]);
    assert!(messages(&run).contains("which is a file"), "{}", messages(&run));
}

/// Go's tar reader stops at the end-of-archive marker: what follows in the gzip stream is
/// never read, and docker loads the archive (tests/interop.rs). A warning, with every member
/// verified; damage before the marker is still an error.
#[test]
fn gzip_damage_after_the_tar_is_a_warning() {
    let d = tempdir();
    let p = d.path().join("app.tar.gz");
    for (name, bytes) in common::tar_cases::gzip_trailer_cases() {
        std::fs::write(&p, &bytes).unwrap();
        let run = verify(&p, &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.json);
        assert_eq!(codes(&run.json), ["archive-trailer-ignored"], "{name}: {}", run.json);
        assert_eq!(run.json["inputs"][0]["images"].as_array().unwrap().len(), 1, "{name}");
        let run = verify(&p, &["--deny", "warnings"]);
        assert_eq!(run.code, 1, "{name}: --deny warnings");
    }
    // Cut inside the tar: the members are not all there.
    let good = std::fs::read(fixture("docker-save-legacy.tar.gz")).unwrap();
    std::fs::write(&p, &good[..good.len() / 2]).unwrap();
    let run = verify(&p, &[]);
    assert_codes(&run, &["archive-corrupt"], &[]);
}
