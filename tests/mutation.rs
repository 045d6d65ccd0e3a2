//! Random damage to real fixtures: airlock never panics, and never says ok once a byte
//! that a digest covers was changed or cut off.

mod common;
use common::*;
use std::path::Path;

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Byte ranges of members whose every byte some digest covers: blobs, configs, layers.
/// manifest.json, index.json, repositories and legacy `json`/`VERSION` files carry no digest.
fn protected_ranges(tar_path: &Path) -> Vec<(String, u64, u64)> {
    let mut a = tar::Archive::new(std::fs::File::open(tar_path).unwrap());
    let mut out = Vec::new();
    for e in a.entries_with_seek().unwrap() {
        let e = e.unwrap();
        if e.header().entry_type() != tar::EntryType::Regular || e.size() == 0 {
            continue;
        }
        let p = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let p = p.trim_start_matches("./").to_string();
        let unprotected = ["manifest.json", "index.json", "repositories", "oci-layout"].contains(&p.as_str())
            || p.ends_with("/json")
            || p.ends_with("/VERSION");
        if !unprotected {
            out.push((p, e.raw_file_position(), e.size()));
        }
    }
    out
}

/// Damages a byte that a digest covers, `rounds` times, and requires exit status 1 each time.
/// `damage` gets the archive and an offset inside a protected member, and returns the
/// damaged archive.
fn check_damage(name: &str, seed: u64, rounds: usize, what: &str, damage: impl Fn(&[u8], usize, &mut Rng) -> Vec<u8>) {
    let src = fixture(name);
    let bytes = std::fs::read(&src).unwrap();
    let ranges = protected_ranges(&src);
    assert!(!ranges.is_empty());
    let d = tempdir();
    let p = d.path().join(name);
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let (member, off, len) = &ranges[rng.below(ranges.len() as u64) as usize];
        let at = (off + rng.below(*len)) as usize;
        std::fs::write(&p, damage(&bytes, at, &mut rng)).unwrap();
        let r = verify(&p, &[]);
        assert_eq!(
            r.code,
            1,
            "{name} seed {seed} round {round}: {what} at {at} in {member} went unnoticed: {:?}",
            codes(&r.json)
        );
    }
}

fn check_flips(name: &str, seed: u64, rounds: usize) {
    check_damage(name, seed, rounds, "bit flip", |bytes, at, rng| {
        let mut b = bytes.to_vec();
        b[at] ^= 1 << rng.below(8);
        b
    });
}

fn check_truncations(name: &str, seed: u64, rounds: usize) {
    check_damage(name, seed, rounds, "cut", |bytes, at, _| bytes[..at].to_vec());
}

#[test]
fn flips_in_docker_save() {
    check_flips("docker-save-legacy.tar", 0x5eed_0001, 60);
}

#[test]
fn flips_in_oci_archive() {
    check_flips("skopeo-oci-archive.tar", 0x5eed_0002, 60);
}

#[test]
fn flips_in_crane_tarball() {
    check_flips("crane-tarball.tar", 0x5eed_0003, 40);
}

#[test]
fn flips_in_containerd_export() {
    check_flips("ctr-export.tar", 0x5eed_0004, 40);
}

#[test]
fn truncations() {
    check_truncations("docker-save-legacy.tar", 0x7777_0001, 30);
    check_truncations("skopeo-oci-archive.tar", 0x7777_0002, 30);
}

/// Flips one bit of `name` past its first 16 bytes, and cuts it there, `rounds` times: each
/// must fail. With `noop_flips`, a flip that leaves what the file decompresses to as it was
/// (some deflate bits are redundant: `gzip -t` accepts them too) must pass instead.
fn flip_and_cut(name: &str, seed: u64, rounds: usize, noop_flips: bool) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let d = tempdir();
    let p = d.path().join(Path::new(name).file_name().unwrap());
    let mut rng = Rng(seed);
    for round in 0..rounds {
        // Skip the 10-byte gzip header (mtime and OS bytes are not covered by the CRC).
        let at = 16 + rng.below(bytes.len() as u64 - 16) as usize;
        let mut b = bytes.clone();
        b[at] ^= 1 << rng.below(8);
        std::fs::write(&p, &b).unwrap();
        let r = verify(&p, &[]);
        let same = noop_flips && decompressed(&b) == decompressed(&bytes);
        assert_eq!(r.code, if same { 0 } else { 1 }, "{name} round {round}: flip at {at} (content same: {same})");
        std::fs::write(&p, &bytes[..at]).unwrap();
        let r = verify(&p, &[]);
        assert_eq!(r.code, 1, "{name} round {round}: cut at {at} went unnoticed");
    }
}

/// A gzip- or zstd-wrapped archive: any change or cut breaks the outer checksum or a digest.
#[test]
fn wrapped_archives() {
    for name in ["docker-save-legacy.tar.gz", "docker-save-legacy.tar.zst"] {
        flip_and_cut(name, 0xabcd_0001, 30, false);
    }
}

/// Arbitrary damage anywhere (headers included) must never panic or hang.
#[test]
fn damage_anywhere_never_panics() {
    for name in ["docker-save-legacy.tar", "ctr-export.tar", "skopeo-oci-archive.tar"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let d = tempdir();
        let p = d.path().join(name);
        let mut rng = Rng(0x0bad_0001);
        for _ in 0..25 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len() as u64) as usize;
                b[at] = rng.next() as u8;
            }
            std::fs::write(&p, &b).unwrap();
            let r = verify(&p, &[]);
            assert!(r.code == 0 || r.code == 1, "{name}: exit {}", r.code);
        }
    }
}

/// A Zarf package: checksums.txt covers every file but zarf.yaml (its aggregateChecksum
/// covers checksums.txt), so a flip anywhere in a file's bytes, the images/ layout's
/// index.json included, fails the package.
#[test]
fn flips_in_a_zarf_package() {
    let d = tempdir();
    let tar = d.path().join("zarf.tar");
    let out = std::process::Command::new("zstd")
        .args(["-dcq"])
        .arg(fixture("bundles/zarf-package-airlock-amd64-0.0.1.tar.zst"))
        .output()
        .unwrap();
    std::fs::write(&tar, &out.stdout).unwrap();
    let bytes = std::fs::read(&tar).unwrap();
    let ranges: Vec<(String, u64, u64)> = {
        let mut a = tar::Archive::new(std::fs::File::open(&tar).unwrap());
        let mut v = Vec::new();
        for e in a.entries_with_seek().unwrap() {
            let e = e.unwrap();
            let p = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            if e.header().entry_type() == tar::EntryType::Regular && e.size() > 0 && p != "zarf.yaml" {
                v.push((p, e.raw_file_position(), e.size()));
            }
        }
        v
    };
    assert!(ranges.iter().any(|(p, _, _)| p == "images/index.json"));
    let p = d.path().join("damaged.tar");
    let mut rng = Rng(0x2a2f_0001);
    for round in 0..40 {
        let (member, off, len) = &ranges[rng.below(ranges.len() as u64) as usize];
        let at = (off + rng.below(*len)) as usize;
        let mut b = bytes.clone();
        b[at] ^= 1 << rng.below(8);
        std::fs::write(&p, &b).unwrap();
        let r = verify(&p, &[]);
        assert_eq!(r.code, 1, "round {round}: flip at {at} in {member} went unnoticed: {:?}", codes(&r.json));
    }
}

/// What a compressed file holds, or `None` if it does not decompress cleanly.
fn decompressed(b: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    if b.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(b).read_to_end(&mut out).ok()?;
    } else {
        out = zstd::stream::decode_all(b).ok()?;
    }
    Some(out)
}

/// Bundles, split parts and chunks damaged anywhere: never a panic or a hang, and any
/// change to what a compressed bundle holds fails it. (Some deflate bits are redundant: a
/// flip there changes nothing, `gzip -t` included, and must not fail.)
#[test]
fn damage_to_bundles() {
    for name in [
        "bundles/harbor-offline-installer-v2.10.0.tgz",
        "bundles/zarf-package-airlock-amd64-0.0.1.tar.zst",
        "bundles/haul.tar.zst",
    ] {
        flip_and_cut(name, 0xb0b0_0001, 20, true);
    }
    // A chunk of a chunked haul, damaged anywhere.
    let d = tempdir();
    let mut names: Vec<String> = std::fs::read_dir(fixture("bundles/chunked"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut rng = Rng(0xc4c4_0001);
    for round in 0..20 {
        for n in &names {
            std::fs::copy(fixture(&format!("bundles/chunked/{n}")), d.path().join(n)).unwrap();
        }
        let victim = d.path().join(&names[rng.below(names.len() as u64) as usize]);
        let mut b = std::fs::read(&victim).unwrap();
        let at = if victim.ends_with("haul.tar.zst.001") { 16 } else { 0 } + rng.below(b.len() as u64 - 16) as usize;
        b[at] ^= 1 << rng.below(8);
        std::fs::write(&victim, &b).unwrap();
        let r = verify(&d.path().join("haul.tar.zst.001"), &[]);
        // zstd frames carry a content checksum: any flip past the frame header shows.
        assert_eq!(r.code, 1, "round {round}: flip at {at} of {} went unnoticed", victim.display());
    }
}
