//! Coverage as a property over generated bundles: random trees (seeded, bounded, the same on
//! every run) of OCI layouts at any depth, image archives (plain, gzip, gzip with trailing
//! bytes or a bad CRC, zstd, zstd with a 1 GiB window, bzip2, lz4, xz), bundles inside
//! bundles, hard links and symlinks, scripts and junk. For each, `verify --json`:
//! - every member, nested ones included, has exactly one verdict: the counts add up to the
//!   members the generator wrote (the members of a tar the scan read whole and found only
//!   plain files in are not opened, so not counted: the generator knows which those are);
//! - every archive-shaped member is verified (an input of its own, its images the ones the
//!   real tools reported) or an error naming it; every layout is verified; everything else
//!   is listed as another file.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

/// How many bundles are generated and checked.
const CASES: u64 = 48;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrap {
    Plain,
    Gzip,
    GzipTrailing,
    GzipBadCrc,
    Zstd,
    ZstdHugeWindow,
    Bzip2,
    Lz4,
    Xz,
}

const WRAPS: [Wrap; 9] = [
    Wrap::Plain,
    Wrap::Gzip,
    Wrap::GzipTrailing,
    Wrap::GzipBadCrc,
    Wrap::Zstd,
    Wrap::ZstdHugeWindow,
    Wrap::Bzip2,
    Wrap::Lz4,
    Wrap::Xz,
];

fn wrapped(data: &[u8], w: Wrap) -> Vec<u8> {
    match w {
        Wrap::Plain => data.to_vec(),
        Wrap::Gzip => gz(data),
        Wrap::GzipTrailing => [gz(data), b"trailing bytes\n".to_vec()].concat(),
        Wrap::GzipBadCrc => {
            let mut g = gz(data);
            let n = g.len();
            g[n - 8] ^= 0xff;
            g
        }
        Wrap::Zstd => zstd::encode_all(data, 3).unwrap(),
        Wrap::ZstdHugeWindow => zstd_window(data, 30),
        Wrap::Bzip2 => wrap(data, "bz2"),
        Wrap::Lz4 => wrap(data, "lz4"),
        Wrap::Xz => wrap(data, "xz"),
    }
}

/// What the generator put at a path, and so what verify must say of it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Want {
    /// An image archive: reported as an input of its own with these image IDs.
    Images(Vec<String>),
    /// Archive-shaped and unreadable: an error naming it.
    Error,
    /// A bundle inside: searched; an error when its wrapping is broken (`Some(true)`), either
    /// for bytes after its gzip stream (`None`: Go's readers stop at the tar's end, so that is
    /// at most a warning where airlock reads as Go does).
    Archive { broken: Option<bool> },
    /// Not archive-shaped.
    Other,
}

enum Entry {
    File(String, Vec<u8>),
    Symlink(String, String),
    Hardlink(String, String),
}

/// One generated archive level: its entries, and what is expected of every path in it and
/// below it (names relative to the input, `A!B` inside archive `A`).
#[derive(Default)]
struct Level {
    entries: Vec<Entry>,
    /// Plain files only (scripts, junk): a tar of them is read by the scan and not opened.
    plain_only: bool,
}

struct Gen {
    rng: Rng,
    n: usize,
    /// Expected verdict of each archive-shaped member or layout (by name), and of links.
    want: BTreeMap<String, Want>,
    /// Layouts: `NAME/` → image IDs.
    layouts: BTreeMap<String, Vec<String>>,
    /// Links: the name of the file they lead to → their names.
    aliases: BTreeMap<String, Vec<String>>,
    /// Directories of this level holding a layout: files go inside them too.
    layout_dirs: Vec<String>,
    /// Members the report must count.
    members: usize,
    /// What was generated, by kind (for the variety check and the summary).
    seen: BTreeMap<String, usize>,
}

fn image_ids(name: &str) -> Vec<String> {
    let e: Value = serde_json::from_slice(&std::fs::read(fixture(&format!("expected/{name}.json"))).unwrap()).unwrap();
    let set: BTreeSet<String> =
        e["images"].as_array().unwrap().iter().map(|i| i["image_id"].as_str().unwrap().to_string()).collect();
    set.into_iter().collect()
}

/// Non-directory members of a tar fixture, or files of a layout fixture.
fn fixture_members(name: &str) -> usize {
    let p = fixture(name);
    if p.is_dir() {
        return walkdir::WalkDir::new(&p).into_iter().filter(|e| e.as_ref().unwrap().file_type().is_file()).count();
    }
    read_tar(&p).iter().filter(|m| m.kind != tar::EntryType::Directory).count()
}

fn join(prefix: &str, p: &str) -> String {
    if prefix.is_empty() { p.to_string() } else { format!("{prefix}!{p}") }
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: Rng(seed),
            n: 0,
            want: BTreeMap::new(),
            layouts: BTreeMap::new(),
            aliases: BTreeMap::new(),
            layout_dirs: Vec::new(),
            members: 0,
            seen: BTreeMap::new(),
        }
    }

    fn name(&mut self, ext: &str) -> String {
        self.n += 1;
        let mut dirs = vec!["".to_string(), "images/".into(), "a/b/".into(), "a/b/c/d/e/".into(), "harbor/".into()];
        dirs.extend(self.layout_dirs.iter().map(|d| format!("{d}/")));
        let dir = self.rng.pick(&dirs).clone();
        format!("{dir}f{}{ext}", self.n)
    }

    /// A level of `count` entries, `depth` archives down, inside archive `prefix`.
    fn level(&mut self, prefix: &str, depth: usize, count: usize) -> Level {
        let mut l = Level { plain_only: true, ..Level::default() };
        let mut files: Vec<String> = Vec::new();
        let outer_dirs = std::mem::take(&mut self.layout_dirs);
        for _ in 0..count {
            match self.rng.below(if depth < 3 { 8 } else { 6 }) {
                0 | 1 => self.image_archive(prefix, &mut l, &mut files),
                2 => self.layout(prefix, &mut l),
                3 => {
                    let p = self.name(".sh");
                    self.add_plain(prefix, &mut l, &mut files, p, b"#!/bin/sh\ndocker load -i x.tar\n".to_vec());
                }
                4 => {
                    let p = self.name(".bin");
                    let junk: Vec<u8> = (0..300).map(|_| b'a' + (self.rng.next() % 26) as u8).collect();
                    self.add_plain(prefix, &mut l, &mut files, p, junk);
                }
                5 => self.link(prefix, &mut l, &files),
                _ => self.bundle(prefix, depth, &mut l, &mut files),
            }
        }
        // An empty tar is no archive (its first block is zeros): never generate one.
        if l.entries.is_empty() {
            let p = self.name(".sh");
            self.add_plain(prefix, &mut l, &mut files, p, b"#!/bin/sh\n".to_vec());
        }
        self.layout_dirs = outer_dirs;
        l
    }

    fn add_plain(&mut self, prefix: &str, l: &mut Level, files: &mut Vec<String>, p: String, data: Vec<u8>) {
        self.saw("script or junk".into());
        self.want.insert(join(prefix, &p), Want::Other);
        self.members += 1;
        files.push(p.clone());
        l.entries.push(Entry::File(p, data));
    }

    fn saw(&mut self, what: String) {
        *self.seen.entry(what).or_default() += 1;
    }

    fn image_archive(&mut self, prefix: &str, l: &mut Level, files: &mut Vec<String>) {
        let fx = *self.rng.pick(&["docker-save-legacy.tar", "crane-tarball.tar"]);
        let w = *self.rng.pick(&WRAPS);
        self.saw(format!("image archive, {w:?}"));
        let p = self.name(".tar");
        let name = join(prefix, &p);
        self.members += 1;
        if w == Wrap::ZstdHugeWindow {
            self.want.insert(name, Want::Error);
        } else {
            self.members += fixture_members(fx);
            self.want.insert(name, Want::Images(image_ids(fx)));
        }
        l.plain_only = false;
        files.push(p.clone());
        l.entries.push(Entry::File(p, wrapped(&std::fs::read(fixture(fx)).unwrap(), w)));
    }

    fn layout(&mut self, prefix: &str, l: &mut Level) {
        let fx = *self.rng.pick(&["multi-platform-oci", "skopeo-oci-gzip"]);
        self.n += 1;
        let dir = format!("{}l{}", self.rng.pick(&["", "images/", "a/b/c/d/e/f/"]), self.n);
        let root = fixture(fx);
        for e in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                l.entries.push(Entry::File(format!("{dir}/{rel}"), std::fs::read(e.path()).unwrap()));
                self.members += 1;
            }
        }
        self.saw(format!("layout, {} deep", dir.matches('/').count() + 1));
        self.layouts.insert(format!("{}/", join(prefix, &dir)), image_ids(fx));
        self.layout_dirs.push(dir);
        l.plain_only = false;
    }

    /// A symlink or hard link, beside an earlier file of this level, to it.
    fn link(&mut self, prefix: &str, l: &mut Level, files: &[String]) {
        let Some(target) = (!files.is_empty()).then(|| self.rng.pick(files).clone()) else { return };
        let (dir, base) = target.rsplit_once('/').map_or(("", target.as_str()), |(d, b)| (d, b));
        self.n += 1;
        let p = if dir.is_empty() { format!("link{}.tar", self.n) } else { format!("{dir}/link{}.tar", self.n) };
        let (t, link) = (join(prefix, &target), join(prefix, &p));
        let want = self.want[&t].clone();
        if matches!(want, Want::Images(_)) {
            // One archive, opened once under the first of its names; checked in `check`.
            self.aliases.entry(t).or_default().push(link);
        } else {
            self.want.insert(link.clone(), want);
            self.aliases.entry(t).or_default().push(link);
        }
        self.members += 1;
        let hard = self.rng.below(2) == 0;
        self.saw(format!("{} link", if hard { "hard" } else { "symbolic" }));
        l.entries.push(if hard { Entry::Hardlink(p, target) } else { Entry::Symlink(p, base.to_string()) });
    }

    fn bundle(&mut self, prefix: &str, depth: usize, l: &mut Level, files: &mut Vec<String>) {
        let w = *self.rng.pick(&WRAPS);
        self.saw(format!("bundle, {w:?}, {} archives down", depth));
        let p = self.name(".tar");
        let name = join(prefix, &p);
        self.members += 1;
        if w == Wrap::ZstdHugeWindow {
            // Not opened: nothing inside is counted or expected.
            let mut scratch = Gen::new(self.rng.next());
            scratch.n = self.n;
            let count = 1 + self.rng.below(3) as usize;
            let inner = scratch.level(&name, depth + 1, count);
            self.n = scratch.n;
            self.want.insert(name, Want::Error);
            l.entries.push(Entry::File(p.clone(), wrapped(&tar_bytes(&inner.entries), w)));
        } else {
            let before = self.members;
            let count = 1 + self.rng.below(4) as usize;
            let inner = self.level(&name, depth + 1, count);
            let broken = match w {
                // Damage after the tar's end (trailing bytes, a bad CRC): Go's readers stop at
                // the tar's end, so airlock warns (archive-trailer-ignored) or, where it reads
                // past it, errs: either is a verdict.
                Wrap::GzipBadCrc | Wrap::GzipTrailing => None,
                _ => Some(false),
            };
            // Read whole by the scan and found holding plain files only: not opened. Trailing
            // bytes after the gzip stream do not stop the scan (Go's readers stop at the tar's
            // end, as for a layer); a bad CRC does.
            if inner.plain_only && w != Wrap::Lz4 && w != Wrap::GzipBadCrc {
                self.members = before;
                let inside = format!("{name}!");
                self.want.retain(|k, _| !k.starts_with(&inside));
                self.aliases.retain(|k, _| !k.starts_with(&inside));
            }
            self.want.insert(name, Want::Archive { broken });
            l.entries.push(Entry::File(p.clone(), wrapped(&tar_bytes(&inner.entries), w)));
        }
        l.plain_only = false;
        files.push(p);
    }
}

fn tar_bytes(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match e {
            Entry::File(p, d) => {
                h.set_size(d.len() as u64);
                b.append_data(&mut h, p, &d[..]).unwrap();
            }
            Entry::Symlink(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
            Entry::Hardlink(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

#[test]
fn every_member_of_a_generated_bundle_has_exactly_one_verdict() {
    let d = tempdir();
    let mut checked = 0;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut members = 0;
    for case in 0..CASES {
        let mut g = Gen::new(0x9e37_79b9_7f4a_7c15 ^ (case + 1));
        let count = 2 + g.rng.below(5) as usize;
        let top = g.level("", 1, count);
        if top.entries.is_empty() {
            continue;
        }
        let outer = *g.rng.pick(&[Wrap::Plain, Wrap::Gzip, Wrap::Zstd, Wrap::Xz, Wrap::Bzip2, Wrap::Lz4]);
        let path = d.path().join(format!("case{case}.bundle"));
        std::fs::write(&path, wrapped(&tar_bytes(&top.entries), outer)).unwrap();
        check(&path, &g, &format!("case {case} ({outer:?})"));
        checked += 1;
        members += g.members;
        for (k, v) in g.seen {
            *seen.entry(k).or_default() += v;
        }
    }
    assert!(checked >= CASES * 3 / 4, "{checked} cases checked");
    // The generator reached every kind: each wrapping around an image archive, links of
    // both kinds, layouts deeper than four directories, bundles two archives down.
    for w in WRAPS {
        assert!(seen.contains_key(&format!("image archive, {w:?}")), "no image archive {w:?}: {seen:?}");
    }
    for k in ["hard link", "symbolic link", "layout, 7 deep", "script or junk"] {
        assert!(seen.contains_key(k), "no {k}: {seen:?}");
    }
    assert!(seen.keys().any(|k| k.starts_with("bundle") && k.ends_with("2 archives down")), "{seen:?}");
    let _ = writeln!(
        std::io::stderr(),
        "coverage property: {checked} bundles, {members} members checked; generated: {seen:?}"
    );
}

fn check(path: &std::path::Path, g: &Gen, what: &str) {
    let r = verify(path, &[]);
    let p = path.display().to_string();
    let ctx = |m: &str| format!("{what}: {m}\n{}", serde_json::to_string_pretty(&r.json["inputs"][0]).unwrap());
    assert!(matches!(r.code, 0 | 1), "{}", ctx("exit status"));
    let inputs = r.json["inputs"].as_array().unwrap();
    let top = &inputs[0];
    let c = &top["coverage"];
    let n = |k: &str| c[k].as_u64().unwrap() as usize;
    // One verdict each: the counts add up, to what the generator wrote.
    assert_eq!(n("image") + n("artifact") + n("archive") + n("other") + n("error"), n("members"), "{}", ctx("sum"));
    assert_eq!(n("members"), g.members, "{}", ctx("members"));
    let listed: BTreeMap<&str, &str> = c["listed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["member"].as_str().unwrap(), m["verdict"].as_str().unwrap()))
        .collect();
    let reported: BTreeMap<String, Vec<String>> = inputs
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, inp)| {
            let mut ids: Vec<String> = inp["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|im| im["config_digest"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids.dedup();
            let _ = i;
            (inp["path"].as_str().unwrap().strip_prefix(&format!("{p}!")).unwrap().to_string(), ids)
        })
        .collect();
    let error_members: BTreeSet<&str> = top["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["member"].as_str())
        .collect();
    for (name, want) in &g.want {
        let got = listed.get(name.as_str()).copied();
        // The first of a file's names (itself and the links to it) is the one an archive is
        // opened under.
        let target = g.aliases.iter().find(|(_, links)| links.contains(name)).map_or(name, |(t, _)| t);
        let mut names: Vec<&String> =
            std::iter::once(target).chain(g.aliases.get(target).into_iter().flatten()).collect();
        names.sort();
        let first = names[0];
        match want {
            Want::Images(ids) => {
                assert_eq!(reported.get(first), Some(ids), "{}", ctx(&format!("{first}: verified, with its images")));
                for other in &names {
                    assert_eq!(listed.get(other.as_str()), None, "{}", ctx(other));
                }
            }
            Want::Error => {
                assert_eq!(got, Some("error"), "{}", ctx(name));
                assert!(error_members.contains(first.as_str()), "{}", ctx(&format!("{first}: a finding names it")));
            }
            Want::Archive { broken: Some(false) } => assert_eq!(got, Some("archive"), "{}", ctx(name)),
            Want::Archive { broken: Some(true) } => assert_eq!(got, Some("error"), "{}", ctx(name)),
            Want::Archive { broken: None } => assert!(matches!(got, Some("error" | "archive")), "{}", ctx(name)),
            Want::Other => assert_eq!(got, Some("other"), "{}", ctx(name)),
        }
    }
    for (dir, ids) in &g.layouts {
        assert_eq!(reported.get(dir), Some(ids), "{}", ctx(&format!("layout {dir}")));
    }
    // Nothing is reported that the generator did not put there.
    let expected_parts = g.want.values().filter(|w| matches!(w, Want::Images(_))).count() + g.layouts.len();
    assert_eq!(reported.len(), expected_parts, "{}", ctx("parts"));
}

#[test]
fn every_member_of_every_real_fixture_is_part_of_its_images() {
    // Archives real tools wrote hold nothing but their images: every member is read by an
    // image (docker save's per-layer json and VERSION, skopeo's and podman's layer.tar
    // symlinks, Docker 25+'s legacy blobs included), none is listed.
    let mut seen = 0;
    for e in std::fs::read_dir(fixture("")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let is_layout = p.join("index.json").is_file();
        if !(is_layout || name.ends_with(".tar")) {
            continue;
        }
        let r = verify(&p, &[]);
        let c = &r.json["inputs"][0]["coverage"];
        let members = fixture_members(&name);
        assert_eq!(c["members"].as_u64(), Some(members as u64), "{name}: {c}");
        assert_eq!(c["image"].as_u64(), Some(members as u64), "{name}: {c}");
        assert_eq!(c["listed"], serde_json::json!([]), "{name}: {c}");
        seen += 1;
    }
    assert!(seen >= 15, "{seen} fixtures");
}
