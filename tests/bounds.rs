//! Bounded work whatever an archive claims, and inputs that are read once (pipes). Each
//! hostile case is generated here and run through the binary under `/usr/bin/time`, which
//! reports the child's peak RSS and CPU time: every case must stay under 128 MiB and take
//! seconds of CPU.
//!
//! The time bound is on CPU time (user + system), not wall time: it is there to catch work
//! that grows faster than the input (the quadratic cases below took minutes), and CPU time
//! measures that work whatever else the machine runs. A debug build on a loaded 2-core
//! machine took 3 to 6 times the wall time of the CPU it used (the 250,000-member tar: 51 s
//! wall, about 9 s CPU). A wall-clock bound ten times the CPU bound still catches a hang.

mod common;
use common::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MAX_RSS_KIB: u64 = 128 * 1024;

struct Measured {
    code: i32,
    json: Value,
    stderr: String,
    rss_kib: Option<u64>,
    /// User + system CPU time, where GNU time measured it.
    cpu: Option<Duration>,
    took: Duration,
}

/// `airlock verify --json -q INPUT` with its peak RSS (GNU time's %M) and CPU time (%U + %S)
/// when /usr/bin/time is there. CI installs it (scripts/real-tools.sh); elsewhere the bounds
/// fall back to wall time and no memory bound, loudly.
fn measured(input: &Path) -> Measured {
    measured_with(input, &[])
}

fn measured_with(input: &Path, extra: &[&str]) -> Measured {
    let input = input.to_str().unwrap();
    let mut args = vec!["verify", "--json", "-q", input];
    args.extend_from_slice(extra);
    measured_run(&args)
}

/// `airlock ARGS…` under GNU time, as [`measured`].
fn measured_run(args: &[&str]) -> Measured {
    let bin = env!("CARGO_BIN_EXE_airlock");
    let d = tempdir();
    let rss_file = d.path().join("rss");
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M %U %S").arg("-o").arg(&rss_file).arg(bin);
        c
    } else {
        if std::env::var("AIRLOCK_REQUIRE_INTEROP").is_ok_and(|v| v == "1") {
            panic!("/usr/bin/time is missing: the memory bounds cannot be measured");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED memory bound: /usr/bin/time is not installed");
        Command::new(bin)
    };
    let start = Instant::now();
    let out = cmd.args(args).env("NO_COLOR", "1").output().unwrap();
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // GNU time writes "Command exited with non-zero status N" first on a failure.
    let (rss_kib, cpu) = if timed {
        let text = std::fs::read_to_string(&rss_file).unwrap();
        let f: Vec<&str> = text.lines().last().unwrap().split_whitespace().collect();
        let secs = |s: &str| Duration::from_secs_f64(s.parse::<f64>().unwrap());
        (Some(f[0].parse().unwrap()), Some(secs(f[1]) + secs(f[2])))
    } else {
        (None, None)
    };
    Measured {
        code: out.status.code().unwrap(),
        json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
        rss_kib,
        cpu,
        took,
    }
}

#[track_caller]
fn assert_bounded(m: &Measured, what: &str, secs: u64) {
    assert_bounded_in(m, what, secs, MAX_RSS_KIB);
}

/// [`assert_bounded`] with a memory bound of its own.
fn assert_bounded_in(m: &Measured, what: &str, secs: u64, max_rss_kib: u64) {
    let bound = Duration::from_secs(secs);
    match m.cpu {
        Some(cpu) => assert!(cpu < bound, "{what}: {cpu:?} of CPU"),
        None => assert!(m.took < bound, "{what}: took {:?}", m.took),
    }
    assert!(m.took < bound * 10, "{what}: took {:?} (wall)", m.took);
    if let Some(kib) = m.rss_kib {
        assert!(kib < max_rss_kib, "{what}: peak RSS {} MiB", kib / 1024);
    }
    let _ = writeln!(
        std::io::stderr(),
        "bounds: {what}: {:.2} s CPU ({:.2} s wall), peak RSS {}",
        m.cpu.map_or(f64::NAN, |c| c.as_secs_f64()),
        m.took.as_secs_f64(),
        m.rss_kib.map_or("not measured".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
}

fn codes_of(m: &Measured) -> Vec<String> {
    codes(&m.json)
}

/// [`assert_codes`] of a measured run: the exact error and warning codes, and the exit status.
#[track_caller]
fn assert_measured_codes(m: &Measured, errors: &[&str], warnings: &[&str]) {
    let run = Run { code: m.code, json: m.json.clone(), stderr: m.stderr.clone() };
    assert_codes(&run, errors, warnings);
}

// ---------------------------------------------------------------------------------------------
// A small OCI layout writer
// ---------------------------------------------------------------------------------------------

fn put_blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let hex = sha256_hex(bytes);
    std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// A plain layer tar holding `files` (name, data).
fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(name).unwrap();
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// An OCI layout of one image whose manifest lists `layer` `repeat` times, and whose index
/// lists that manifest `copies` times, each under its own tag. The layer is stored as given
/// (`stored`, with `media_type`), its diffID is the sha256 of `plain`.
fn oci_layout(dir: &Path, plain: &[u8], stored: &[u8], media_type: &str, repeat: usize, copies: usize) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let diff_id = format!("sha256:{}", sha256_hex(plain));
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": vec![diff_id; repeat]},
    });
    let (cd, cs) = put_blob(dir, &serde_json::to_vec(&config).unwrap());
    let (ld, ls) = put_blob(dir, stored);
    let layer = json!({"mediaType": media_type, "digest": ld, "size": ls});
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": vec![layer; repeat],
    });
    let (md, ms) = put_blob(dir, &serde_json::to_vec(&manifest).unwrap());
    let manifests: Vec<Value> = (0..copies)
        .map(|i| {
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                   "annotations": {"org.opencontainers.image.ref.name": format!("app-{i}")}})
        })
        .collect();
    let index = json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn small_layer() -> Vec<u8> {
    layer_tar(&[("etc/hello", b"hello\n")])
}

// ---------------------------------------------------------------------------------------------
// Hostile fan-out and repetition
// ---------------------------------------------------------------------------------------------

#[test]
fn index_listing_one_manifest_ten_thousand_times() {
    let d = tempdir();
    let dir = d.path().join("oci");
    let layer = small_layer();
    oci_layout(&dir, &layer, &layer, "application/vnd.oci.image.layer.v1.tar", 1, 10_000);
    assert!(std::fs::metadata(dir.join("index.json")).unwrap().len() > 2_000_000);
    let m = measured(&dir);
    assert_bounded(&m, "index with 10,000 copies of one manifest", 20);
    assert_measured_codes(&m, &[], &[]);
    let images = m.json["inputs"][0]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "one image, however often it is listed");
    assert_eq!(images[0]["tags"].as_array().unwrap().len(), 10_000, "every descriptor's tag is kept");
}

#[test]
fn index_listing_a_thousand_layer_manifest_ten_thousand_times() {
    let d = tempdir();
    let dir = d.path().join("oci");
    let layer = small_layer();
    oci_layout(&dir, &layer, &layer, "application/vnd.oci.image.layer.v1.tar", 1_000, 10_000);
    let m = measured(&dir);
    assert_bounded(&m, "index with 10,000 copies of a 1,000-layer manifest", 30);
    assert_measured_codes(&m, &[], &[]);
    assert_eq!(m.json["inputs"][0]["images"][0]["layers"].as_array().unwrap().len(), 1_000);
}

#[test]
fn manifest_json_repeating_one_image_twenty_thousand_times() {
    // Tag merging was quadratic: every repeat compared its tags with all the image's tags.
    let d = tempdir();
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(find(&mut ms, "manifest.json"));
    let entries: Vec<Value> = (0..20_000)
        .map(|i| {
            let mut e = man[0].clone();
            e["RepoTags"] = json!([format!("airlock/app:{i}")]);
            e
        })
        .collect();
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&entries).unwrap();
    let p = d.path().join("app.tar");
    write_tar(&p, &ms);
    let m = measured(&p);
    assert_bounded(&m, "manifest.json with 20,000 entries of one image", 20);
    assert_measured_codes(&m, &[], &[]);
    assert_eq!(m.json["inputs"][0]["images"][0]["tags"].as_array().unwrap().len(), 20_000);
}

#[test]
fn plain_tar_of_a_quarter_million_empty_members() {
    // Deduplicating members was quadratic (223 s for this archive).
    let d = tempdir();
    let p = d.path().join("many.tar");
    let mut b = tar::Builder::new(std::io::BufWriter::new(std::fs::File::create(&p).unwrap()));
    for i in 0..250_000u32 {
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_path(format!("f{i}")).unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
    let m = measured(&p);
    // The catalog records the first `MAX_MEMBERS` (200,000) members, each its name and what
    // was read of it (a layer's scan is boxed, so a member that is not a layer does not carry
    // its size): 112 MiB measured for the whole run in a debug build, 130 MiB before the box;
    // the members past the cap are counted, not recorded.
    assert_bounded_in(&m, "plain tar of 250,000 empty members", 20, 128 * 1024);
    // The member cap is reported, and nothing else.
    assert_measured_codes(&m, &["archive-corrupt"], &[]);
}

#[test]
fn zstd_layer_with_a_huge_window() {
    // Frames declaring a 512 MiB window (Go's limit: docker, containerd and podman load it) and
    // 1 GiB (they refuse it: "window size exceeded"). The first verifies within the bound, the
    // second is refused without being decoded.
    let d = tempdir();
    let plain = small_layer();
    let layer = |window_log: u32| {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.window_log(window_log).unwrap();
        enc.write_all(&plain).unwrap();
        enc.finish().unwrap()
    };
    let dir = d.path().join("w29");
    oci_layout(&dir, &plain, &layer(29), "application/vnd.oci.image.layer.v1.tar+zstd", 2, 1);
    let m = measured(&dir);
    assert_bounded(&m, "zstd layer with a 512 MiB window", 20);
    assert_measured_codes(&m, &[], &[]);

    let dir = d.path().join("w30");
    oci_layout(&dir, &plain, &layer(30), "application/vnd.oci.image.layer.v1.tar+zstd", 2, 1);
    let m = measured(&dir);
    assert_bounded(&m, "zstd layer with a 1 GiB window", 20);
    assert_measured_codes(&m, &["layer-zstd-window"], &[]);
    assert!(m.json.to_string().contains("needs a 1024 MiB window"), "{}", m.json);

    // A whole archive wrapped the same ways: the same limit.
    let archive = std::fs::read(fixture("docker-save-legacy.tar")).unwrap();
    for (window_log, errors) in [(29, &[][..]), (30, &["archive-corrupt"][..])] {
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.window_log(window_log).unwrap();
        enc.write_all(&archive).unwrap();
        let p = d.path().join(format!("w{window_log}.tar.zst"));
        std::fs::write(&p, enc.finish().unwrap()).unwrap();
        let m = measured(&p);
        assert_bounded(&m, &format!("archive wrapped in zstd with window log {window_log}"), 20);
        assert_measured_codes(&m, errors, &[]);
    }

    // The same layer with an ordinary window verifies.
    let dir = d.path().join("ok");
    let stored = zstd::encode_all(&plain[..], 3).unwrap();
    oci_layout(&dir, &plain, &stored, "application/vnd.oci.image.layer.v1.tar+zstd", 2, 1);
    assert_eq!(measured(&dir).code, 0);
}

/// Two layers whose frames declare a 512 MiB window and fill 96 MiB of it each (zeros:
/// cheap to make, but the decoder still writes every byte into its window), scanned in
/// parallel: one large window is live at a time (`ZSTD_LARGE_WINDOW_SLOTS`), so the peak
/// stays near one window, not two.
#[test]
fn large_zstd_windows_are_decoded_one_at_a_time() {
    let d = tempdir();
    let dir = d.path().join("oci");
    let zeros = vec![0u8; 96 << 20];
    let layers: Vec<(Vec<u8>, Vec<u8>)> = ["a", "b"]
        .iter()
        .map(|name| {
            let plain = layer_tar(&[(name, &zeros[..])]);
            let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
            enc.window_log(29).unwrap();
            enc.write_all(&plain).unwrap();
            (plain, enc.finish().unwrap())
        })
        .collect();
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let diff_ids: Vec<String> = layers.iter().map(|(p, _)| format!("sha256:{}", sha256_hex(p))).collect();
    let config = json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let (cd, cs) = put_blob(&dir, &serde_json::to_vec(&config).unwrap());
    let descs: Vec<Value> = layers
        .iter()
        .map(|(_, z)| {
            let (ld, ls) = put_blob(&dir, z);
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": ld, "size": ls})
        })
        .collect();
    drop(layers);
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": descs});
    let (md, ms) = put_blob(&dir, &serde_json::to_vec(&manifest).unwrap());
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let m = measured(&dir);
    assert_measured_codes(&m, &[], &[]);
    assert!(m.took < Duration::from_secs(120), "took {:?}", m.took);
    let _ = writeln!(
        std::io::stderr(),
        "bounds: two layers with filled 512 MiB-window frames: {:.2} s, peak RSS {}",
        m.took.as_secs_f64(),
        m.rss_kib.map_or("not measured".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
    if let Some(kib) = m.rss_kib {
        assert!(kib < 160 << 10, "peak RSS {} MiB: both large windows were live at once", kib >> 10);
    }
}

// ---------------------------------------------------------------------------------------------
// Read-once inputs and a false reject
// ---------------------------------------------------------------------------------------------

fn verify_stdin(data: &[u8]) -> (i32, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "--json", "-q", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

#[test]
fn a_pipe_is_read_as_a_stream() {
    for name in ["docker-save-legacy.tar", "docker-save-legacy.tar.zst", "skopeo-oci-archive.tar"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let (code, json) = verify_stdin(&bytes);
        assert_eq!(code, 0, "{name} through a pipe: {json}");
        let file = verify(&fixture(name), &[]);
        assert_eq!(
            json["inputs"][0]["images"], file.json["inputs"][0]["images"],
            "{name}: a pipe gives the same report as the file"
        );
    }
    // A damaged archive through a pipe is still found damaged.
    let mut bytes = std::fs::read(fixture("docker-save-legacy.tar")).unwrap();
    bytes.truncate(bytes.len() / 2);
    assert_eq!(verify_stdin(&bytes).0, 1);
}

#[test]
fn a_fifo_is_read_as_a_stream_and_convert_refuses_it() {
    let d = tempdir();
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let src = fixture("docker-save-legacy.tar");
    let f = fifo.clone();
    let feeder = std::thread::spawn(move || std::fs::write(&f, std::fs::read(src).unwrap()));
    let run = verify(&fifo, &[]);
    feeder.join().unwrap().unwrap();
    assert_eq!(run.code, 0, "{}", run.json);

    // convert reads blobs after the documents: a FIFO is refused up front (exit 2), and no
    // writer is needed for that (the FIFO is never opened).
    let out = d.path().join("out");
    let o = airlock(&["convert", fifo.to_str().unwrap(), "--to", "oci", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("save it to a file first"));
    assert!(!out.exists());
}

#[test]
fn a_layer_whose_first_entry_is_named_bracket() {
    // `[` starts a JSON array; the tar header's checksum says it is a tar.
    let d = tempdir();
    let dir = d.path().join("oci");
    let layer = layer_tar(&[("[", b"test(1)\n"), ("{", b"brace\n")]);
    assert_eq!(layer[0], b'[');
    oci_layout(&dir, &layer, &layer, "application/vnd.oci.image.layer.v1.tar", 1, 1);
    let run = verify(&dir, &[]);
    assert_eq!(run.code, 0, "{}", run.json);
}

// ---------------------------------------------------------------------------------------------
// JSON documents: read once, into what the model needs (issue 14)
// ---------------------------------------------------------------------------------------------

/// `[0,0,…]`: one tree node per two bytes for a reader that builds a tree.
fn zeros(bytes: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes + 2);
    v.push(b'[');
    while v.len() < bytes {
        v.extend_from_slice(b"0,");
    }
    v.extend_from_slice(b"0]");
    v
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The legacy fixture with its config given a field `pad` of `pad` (a valid image still),
/// as a .tar.gz.
fn legacy_with_padded_config(dir: &Path, pad: &[u8]) -> std::path::PathBuf {
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let mut man = json_of(find(&mut ms, "manifest.json"));
    let old = man[0]["Config"].as_str().unwrap().to_string();
    let cfg = find(&mut ms, &old).data.clone();
    let mut big = cfg[..cfg.len() - 1].to_vec();
    big.extend_from_slice(b",\"pad\":");
    big.extend_from_slice(pad);
    big.push(b'}');
    let name = format!("{}.json", sha256_hex(&big));
    ms.retain(|m| m.path != old && m.path != "repositories");
    ms.push(regular(&name, big));
    man[0]["Config"] = json!(name);
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
    let tar = dir.join("app.tar");
    write_tar(&tar, &ms);
    let gz = dir.join("app.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&tar).unwrap())).unwrap();
    std::fs::remove_file(tar).unwrap();
    gz
}

#[test]
fn a_31_mib_config_in_a_small_tar_gz() {
    // Read as whole trees several times, it peaked at 532 MiB.
    let d = tempdir();
    let gz = legacy_with_padded_config(d.path(), &zeros(31 << 20));
    assert!(std::fs::metadata(&gz).unwrap().len() < 1 << 20);
    let m = measured(&gz);
    assert_bounded(&m, "a 31 MiB config in a .tar.gz", 20);
    assert_measured_codes(&m, &[], &[]);
}

#[test]
fn a_32_mib_lock() {
    // A lock is read into its types: what it holds besides is skipped unread (548 MiB before).
    let d = tempdir();
    let lock = d.path().join("images.lock");
    let o = airlock(&["lock", "-q", fixture("docker-save-legacy.tar").to_str().unwrap(), "-o", lock.to_str().unwrap()]);
    assert!(o.status.success());
    let text = std::fs::read(&lock).unwrap();
    let mut big = text[..text.iter().rposition(|&b| b == b'}').unwrap()].to_vec();
    big.extend_from_slice(b",\"pad\":");
    big.extend_from_slice(&zeros((32 << 20) - text.len() - 64));
    big.push(b'}');
    assert!(big.len() <= 32 << 20);
    std::fs::write(&lock, &big).unwrap();
    let m = measured_with(&fixture("docker-save-legacy.tar"), &["--lock", lock.to_str().unwrap()]);
    assert_bounded(&m, "a 32 MiB lock", 20);
    assert_measured_codes(&m, &[], &[]);

    // Tiny tags: each a few bytes of JSON, a hundred of memory: refused past the bound
    // (a usage error, as every bad lock).
    let img = |i: usize| {
        let tags = vec!["a"; 900];
        json!({"image_id": format!("sha256:{i:064x}"), "platform": null, "tags": tags,
               "manifest_digest": null, "input": "a", "layers": []})
    };
    let images: Vec<Value> = (0..(30 << 20) / 3700).map(img).collect();
    let doc = json!({"version": 1, "inputs": [{"name": "a", "format": null, "size": null, "sha256": null}], "images": images});
    std::fs::write(&lock, serde_json::to_vec(&doc).unwrap()).unwrap();
    let m = measured_with(&fixture("docker-save-legacy.tar"), &["--lock", lock.to_str().unwrap()]);
    assert_bounded(&m, "a lock of 8 million tags", 20);
    assert_eq!(m.code, 2);
    assert!(
        m.stderr.contains("has the wrong shape: more than 50000 images, 100000 tags or 200000 layers"),
        "{}",
        m.stderr
    );
}

/// A docker archive whose manifest.json describes `images` images of `layers` layers each,
/// none of which is there (each a `blob-missing`), beside `junk` JSON members of `junk_mib`
/// MiB each: documents are kept up to the process's pool, the model up to its budget.
fn at_the_limits(path: &Path, images: usize, layers: usize, junk: usize, junk_mib: usize) {
    let entries: Vec<Value> = (0..images)
        .map(|i| {
            let layers: Vec<String> = (0..layers).map(|j| format!("{:064x}/layer.tar", i * layers + j)).collect();
            json!({"Config": format!("{i:064x}.json"), "RepoTags": [format!("airlock/app:{i}")], "Layers": layers})
        })
        .collect();
    let mut ms = vec![regular("manifest.json", serde_json::to_vec(&entries).unwrap())];
    for k in 0..junk {
        ms.push(regular(&format!("junk{k}.json"), zeros(junk_mib << 20)));
    }
    let tar = path.with_extension("plain");
    write_tar(&tar, &ms);
    std::fs::write(path, gzip(&std::fs::read(&tar).unwrap())).unwrap();
    std::fs::remove_file(tar).unwrap();
}

#[test]
fn documents_and_model_at_their_limits() {
    // The documents' pool (48 MiB) full, and a manifest.json that takes the model past its
    // budget: the most one input holds. Every reference is missing: one finding each.
    let d = tempdir();
    let p = d.path().join("limits.tar.gz");
    at_the_limits(&p, 8_000, 11, 2, 22);
    let m = measured(&p);
    assert_bounded(&m, "documents and model at their limits", 30);
    assert_measured_codes(&m, &["blob-missing", "manifest-invalid"], &[]);
    let invalid: Vec<&Value> = m.json["inputs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "manifest-invalid")
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["member"], "manifest.json");
    assert_eq!(
        invalid[0]["message"],
        "manifest.json entry 2825 takes the input past the 48 MiB airlock models of an input's documents: refused, the rest is not read"
    );

    // A bundle of two such archives: the pool and the budget are the process's, not each
    // archive's (both archives' models live together until the report).
    std::fs::copy(&p, d.path().join("again.tar.gz")).unwrap();
    let bundle = d.path().join("bundle.tar");
    tar_c(d.path(), &bundle, &["limits.tar.gz", "again.tar.gz"]);
    let m = measured(&bundle);
    assert_bounded(&m, "a bundle of two archives at the limits", 30);
    assert_measured_codes(&m, &["blob-missing", "manifest-invalid"], &[]);
}

#[test]
fn lists_past_their_bounds_are_refused() {
    let d = tempdir();
    // manifest.json: one entry with 8 million tags of one letter.
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let man = json_of(find(&mut ms, "manifest.json"));
    let text = serde_json::to_vec(&man).unwrap();
    let mut tags = b"[\"a\"".to_vec();
    while tags.len() < 31 << 20 {
        tags.extend_from_slice(b",\"a\"");
    }
    tags.push(b']');
    let at = text.windows(10).position(|w| w == b"\"RepoTags\"").unwrap() + 11;
    let end = at + text[at..].iter().position(|&b| b == b']').unwrap() + 1;
    let mut doc = text[..at].to_vec();
    doc.extend_from_slice(&tags);
    doc.extend_from_slice(&text[end..]);
    find(&mut ms, "manifest.json").data = doc;
    let p = d.path().join("tags.tar");
    write_tar(&p, &ms);
    let m = measured(&p);
    assert_bounded(&m, "8 million tags in one manifest.json entry", 20);
    assert_measured_codes(&m, &["manifest-invalid"], &[]);
    assert_eq!(codes_of(&m), ["manifest-invalid"], "{}", m.json);

    // A config whose history is 10 million empty entries.
    let mut history = b"[{}".to_vec();
    while history.len() < 31 << 20 {
        history.extend_from_slice(b",{}");
    }
    history.push(b']');
    let mut ms = read_tar(&fixture("docker-save-legacy.tar"));
    let mut man = json_of(find(&mut ms, "manifest.json"));
    let old = man[0]["Config"].as_str().unwrap().to_string();
    let mut cfg = json_of(find(&mut ms, &old));
    cfg["history"] = Value::Null;
    let cfg = serde_json::to_vec(&cfg).unwrap();
    let at = cfg.windows(14).position(|w| w == b"\"history\":null").unwrap();
    let mut big = cfg[..at + 10].to_vec();
    big.extend_from_slice(&history);
    big.extend_from_slice(&cfg[at + 14..]);
    let name = format!("{}.json", sha256_hex(&big));
    ms.retain(|m| m.path != old && m.path != "repositories");
    ms.push(regular(&name, big));
    man[0]["Config"] = json!(name);
    find(&mut ms, "manifest.json").data = serde_json::to_vec(&man).unwrap();
    let p = d.path().join("history.tar");
    write_tar(&p, &ms);
    let m = measured(&p);
    assert_bounded(&m, "a history of 10 million entries", 20);
    assert_measured_codes(&m, &["config-invalid"], &[]);
    assert_eq!(codes_of(&m), ["config-invalid"], "{}", m.json);

    // An index of 150,000 entries (25 MiB).
    let dir = d.path().join("oci");
    let layer = small_layer();
    oci_layout(&dir, &layer, &layer, "application/vnd.oci.image.layer.v1.tar", 1, 1);
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut e = index["manifests"][0].clone();
    e["annotations"] = json!({});
    let many = json!({"schemaVersion": 2, "manifests": vec![e; 150_000]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&many).unwrap()).unwrap();
    let m = measured(&dir);
    assert_bounded(&m, "an index of 150,000 entries", 20);
    // Refused whole: no blob is known unreferenced while the index is not read.
    assert_measured_codes(&m, &["manifest-invalid"], &[]);
    let c = codes_of(&m);
    assert_eq!(c.iter().filter(|c| *c == "manifest-invalid").count(), 1, "{c:?}");
    let f =
        m.json["inputs"][0]["findings"].as_array().unwrap().iter().find(|f| f["code"] == "manifest-invalid").cloned();
    let msg = f.unwrap()["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("index.json is not an image index or manifest: an array of more than 20000 items"),
        "{msg}"
    );
}

#[test]
fn converting_documents_with_large_fields() {
    // convert rewrote manifests and indexes through trees too (560 MiB for this layout).
    let d = tempdir();
    let dir = d.path().join("oci");
    let layer = small_layer();
    oci_layout(&dir, &layer, &layer, "application/vnd.oci.image.layer.v1.tar", 1, 1);
    let pad = |path: &Path, mib: usize| {
        let text = std::fs::read(path).unwrap();
        let mut big = text[..text.len() - 1].to_vec();
        big.extend_from_slice(b",\"pad\":");
        big.extend_from_slice(&zeros(mib << 20));
        big.push(b'}');
        big
    };
    rewrite_manifest(&dir, |m| m["annotations"] = json!({"a": "b"}));
    let (old, _) = first_manifest(&dir);
    let big = pad(&old, 31);
    let (md, ms) = put_blob(&dir, &big);
    std::fs::remove_file(&old).unwrap();
    let mut index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"] = json!(md);
    index["manifests"][0]["size"] = json!(ms);
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let big_index = pad(&dir.join("index.json"), 15);
    std::fs::write(dir.join("index.json"), big_index).unwrap();
    let src = dir.to_str().unwrap();
    for (what, extra) in [("kept as it is", &[][..]), ("re-compressed", &["--compression", "zstd"][..])] {
        let out = d.path().join(format!("out-{}", extra.len()));
        let mut args = vec!["convert", "-q", src, "--to", "oci", "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let m = measured_run(&args);
        assert_bounded(&m, &format!("convert, {what}, of a 31 MiB manifest and a 15 MiB index"), 20);
        assert_eq!(m.code, 0, "{}", m.stderr);
        let v = verify(&out, &[]);
        assert_codes(&v, &[], &[]);
    }
}
