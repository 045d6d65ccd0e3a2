//! The overlay rules, one case (or more) per rule of `rules::RULES`, each naming its rule.
//! Layers are written as lines: `f PATH [SIZE]` file, `d PATH` directory, `l PATH -> T`
//! symlink, `h PATH => T` hard link, `c`/`b`/`p PATH` char/block device and FIFO, `x PATH`
//! a contiguous file ('7'), then `key=value` options: mode (octal), uid, gid, major,
//! xattr (`name:value`). Whiteouts are files named `.wh.NAME`.
//!
//! A result lists every path in walk order: `PATH[/] TYPE@LAYER` (`i` when only made as a
//! missing parent), files with `=L.E` (the layer and entry holding their bytes), symlinks
//! with `-> T`.

use super::*;
use crate::export::rules::RULES;
use crate::tarstream::Meta;

fn item_of(line: &str) -> (Vec<u8>, ItemKind, Vec<u8>, u64, Meta) {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let kind = match words.remove(0) {
        "f" => ItemKind::File,
        "d" => ItemKind::Dir,
        "l" => ItemKind::Symlink,
        "h" => ItemKind::Hardlink,
        "c" => ItemKind::Char,
        "b" => ItemKind::Block,
        "p" => ItemKind::Fifo,
        "x" => ItemKind::Unsupported(b'7'),
        k => panic!("kind {k}"),
    };
    let name = words.remove(0).as_bytes().to_vec();
    let mut link = Vec::new();
    let mut size = 1;
    let mut meta = Meta { mode: 0o644, ..Meta::default() };
    let mut rest = words.into_iter();
    while let Some(w) = rest.next() {
        match w.split_once('=') {
            _ if w == "->" || w == "=>" => link = rest.next().map(|t| t.as_bytes().to_vec()).unwrap_or_default(),
            Some(("mode", v)) => meta.mode = i64::from_str_radix(v, 8).unwrap(),
            Some(("uid", v)) => meta.uid = v.parse().unwrap(),
            Some(("gid", v)) => meta.gid = v.parse().unwrap(),
            Some(("major", v)) => meta.devmajor = v.parse().unwrap(),
            Some(("xattr", v)) => {
                let (k, x) = v.split_once(':').unwrap();
                meta.xattrs.push((k.as_bytes().to_vec(), x.as_bytes().to_vec()));
            }
            _ => size = w.parse().unwrap(),
        }
    }
    (name, kind, link, size, meta)
}

/// Applies the layers; on a refusal, its layer, entry and rule.
fn build(layers: &[&[&str]], tree: &mut Tree) -> Result<(), (u16, u32, &'static str)> {
    for (l, entries) in layers.iter().enumerate() {
        tree.begin_layer(l as u16);
        for (e, line) in entries.iter().enumerate() {
            let (name, kind, link, size, meta) = item_of(line);
            let item = Item { name: &name, kind, link: &link, size, meta: &meta };
            let at = Pos { layer: l as u16, entry: e as u32 };
            tree.apply(at, &item).map_err(|r| (l as u16, e as u32, r.rule()))?;
        }
    }
    Ok(())
}

fn render(tree: &Tree) -> Vec<String> {
    tree.paths()
        .map(|(k, n)| {
            let i = tree.inode(n.inode);
            let p = String::from_utf8(path_of(k)).unwrap();
            let imp = if n.implicit { "i" } else { "" };
            match i.kind {
                Kind::Dir => format!("{p}/ d@{}{imp}", n.layer),
                Kind::File => format!("{p} f@{} ={}.{}", n.layer, i.at.layer, i.at.entry),
                Kind::Symlink => format!("{p} l@{} -> {}", n.layer, String::from_utf8_lossy(i.target())),
                Kind::Char => format!("{p} c@{}", n.layer),
                Kind::Block => format!("{p} b@{}", n.layer),
                Kind::Fifo => format!("{p} p@{}", n.layer),
            }
        })
        .collect()
}

type Want = Result<&'static [&'static str], (u16, u32, &'static str)>;

/// (rule, layers, result).
const CASES: &[(&str, &[&[&str]], Want)] = &[
    ("clean-names", &[&["f ./a//b/../c"]], Ok(&["a/ d@0i", "a/c f@0 =0.0"])),
    ("clean-names", &[&["d a/", "f a/../../x"]], Err((0, 1, "clean-names"))),
    ("clean-names", &[&["f /etc/passwd"]], Err((0, 0, "clean-names"))),
    (
        "layers-in-order",
        &[&["d etc/", "f etc/a", "f etc/b"], &["f etc/a"]],
        Ok(&["etc/ d@0", "etc/a f@1 =1.0", "etc/b f@0 =0.2"]),
    ),
    ("layers-in-order", &[&["f a", "f a"]], Ok(&["a f@0 =0.1"])),
    // A directory replaced by a file and back: what was under it does not come back.
    (
        "replace-unless-both-dirs",
        &[&["d x/", "f x/a", "d x/s/", "f x/s/b"], &["f x"], &["d x/", "f x/c"]],
        Ok(&["x/ d@2", "x/c f@2 =2.1"]),
    ),
    ("replace-unless-both-dirs", &[&["d x/", "f x/a"], &["l x -> y"]], Ok(&["x l@1 -> y"])),
    ("dir-over-dir-merges", &[&["d d/", "f d/a"], &["d d/"]], Ok(&["d/ d@1", "d/a f@0 =0.1"])),
    ("implicit-parents", &[&["f a/b/c"]], Ok(&["a/ d@0i", "a/b/ d@0i", "a/b/c f@0 =0.0"])),
    ("implicit-parents", &[&["f q/.wh.x"]], Ok(&["q/ d@0i"])),
    (
        "whiteout",
        &[&["d etc/", "f etc/a", "d etc/sub/", "f etc/sub/x", "f etc/b"], &["f etc/.wh.a", "f etc/.wh.sub"]],
        Ok(&["etc/ d@0", "etc/b f@0 =0.4"]),
    ),
    // docker removes what this very layer wrote before the whiteout, not what comes after.
    ("whiteout", &[&["f a", "f .wh.a", "f b", "f .wh.b", "f b"]], Ok(&["b f@0 =0.4"])),
    ("whiteout", &[&["f a"], &["f .wh.nothing-here"]], Ok(&["a f@0 =0.0"])),
    ("whiteout-names-a-child", &[&["d a/", "f a/.wh.."]], Err((0, 1, "whiteout-names-a-child"))),
    ("whiteout-names-a-child", &[&["f .wh..."]], Err((0, 0, "whiteout-names-a-child"))),
    ("whiteout-names-a-child", &[&["d a/", "f a/.wh."]], Err((0, 1, "whiteout-names-a-child"))),
    (
        "opaque",
        &[&["d o/", "f o/a", "d o/s/", "f o/s/b", "f keep"], &["d o/", "f o/new", "f o/.wh..wh..opq", "f o/late"]],
        Ok(&["keep f@0 =0.4", "o/ d@1", "o/late f@1 =1.3", "o/new f@1 =1.1"]),
    ),
    // moby's walk descends into what this layer wrote and removes the rest below it.
    (
        "opaque",
        &[&["d o/", "d o/k/", "f o/k/old", "f o/gone"], &["d o/k/", "f o/k/new", "f o/.wh..wh..opq"]],
        Ok(&["o/ d@0", "o/k/ d@1", "o/k/new f@1 =1.1"]),
    ),
    // A parent made in this layer only because it was missing is not "unpacked": removed.
    ("opaque", &[&["d o/", "f o/a/b"], &["f o/.wh..wh..opq"]], Ok(&["o/ d@0"])),
    ("opaque", &[&["f a", "d d/", "f d/x"], &["f .wh..wh..opq", "f b"]], Ok(&["b f@1 =1.1"])),
    ("one-opaque-per-dir", &[&["d o/", "f o/.wh..wh..opq", "f o/.wh..wh..opq"]], Err((0, 2, "one-opaque-per-dir"))),
    ("one-opaque-per-dir", &[&["d o/", "f o/.wh..wh..opq"], &["f o/.wh..wh..opq"]], Ok(&["o/ d@0"])),
    (
        "aufs-metadata",
        &[&["f .wh..wh.aufs", "d .wh..wh.orph/", "f .wh..wh.plnk/123", "f a"]],
        Ok(&[".wh..wh.plnk/ d@0i", "a f@0 =0.3"]),
    ),
    ("aufs-metadata", &[&["f .wh..wh.plnk/123", "h a => .wh..wh.plnk/123"]], Err((0, 1, "aufs-metadata"))),
    (
        "no-path-through-symlink",
        &[&["d usr/", "d usr/lib/", "l lib -> usr/lib"], &["f lib/x"]],
        Err((1, 0, "no-path-through-symlink")),
    ),
    ("no-path-through-symlink", &[&["l evil -> /etc"], &["f evil/passwd"]], Err((1, 0, "no-path-through-symlink"))),
    ("no-path-through-symlink", &[&["l up -> ../.."], &["f up/x"]], Err((1, 0, "no-path-through-symlink"))),
    ("no-path-through-symlink", &[&["l e -> /etc", "f e/.wh.passwd"]], Err((0, 1, "no-path-through-symlink"))),
    ("no-path-through-symlink", &[&["l e -> /etc", "f e/.wh..wh..opq"]], Err((0, 1, "no-path-through-symlink"))),
    ("no-path-through-symlink", &[&["l e -> /etc", "h x => e/passwd"]], Err((0, 1, "no-path-through-symlink"))),
    ("no-path-through-symlink", &[&["l d -> .", "d d/", "f d/x"]], Ok(&["d/ d@0", "d/x f@0 =0.2"])),
    ("parent-must-be-directory", &[&["f a"], &["f a/b"]], Err((1, 0, "parent-must-be-directory"))),
    ("parent-must-be-directory", &[&["p a", "f a/.wh.b"]], Err((0, 1, "parent-must-be-directory"))),
    ("no-entry-under-whiteout", &[&["f a/.wh.b/c"]], Err((0, 0, "no-entry-under-whiteout"))),
    ("root-entry", &[&["d ./ mode=0700", "f a"]], Ok(&["a f@0 =0.1"])),
    ("root-entry", &[&["f ."]], Err((0, 0, "root-entry"))),
    ("hard-link-to-final-inode", &[&["f orig 5", "h alias => orig"], &["f .wh.orig"]], Ok(&["alias f@0 =0.0"])),
    ("hard-link-to-final-inode", &[&["f a", "h b => a"], &["f a"]], Ok(&["a f@1 =1.0", "b f@0 =0.0"])),
    ("hard-link-to-final-inode", &[&["f a"], &["h b => a"]], Ok(&["a f@0 =0.0", "b f@1 =0.0"])),
    ("hard-link-target-exists", &[&["h a => nope"]], Err((0, 0, "hard-link-target-exists"))),
    ("hard-link-target-exists", &[&["d d/", "h a => d"]], Err((0, 1, "hard-link-target-exists"))),
    ("hard-link-target-exists", &[&["f a", "h a => a"]], Err((0, 1, "hard-link-target-exists"))),
    ("hard-link-target-exists", &[&["h a => nope/x"]], Err((0, 0, "hard-link-target-exists"))),
    ("hard-link-target-exists", &[&["f a", "h b => ../a"]], Err((0, 1, "clean-names"))),
    (
        "entry-types",
        &[&["c dev/null major=1", "b dev/sda major=8", "p run/fifo", "l s -> t"]],
        Ok(&["dev/ d@0i", "dev/null c@0", "dev/sda b@0", "run/ d@0i", "run/fifo p@0", "s l@0 -> t"]),
    ),
    ("entry-types", &[&["x a"]], Err((0, 0, "entry-types"))),
    ("entry-types", &[&["l a ->"]], Err((0, 0, "entry-types"))),
    ("modes-and-owners", &[&["f a uid=-1"]], Err((0, 0, "modes-and-owners"))),
    ("modes-and-owners", &[&["f a gid=4294967295"]], Err((0, 0, "modes-and-owners"))),
    ("modes-and-owners", &[&["c a major=-3"]], Err((0, 0, "modes-and-owners"))),
    ("modes-and-owners", &[&["f a uid=4294967294 gid=70000"]], Ok(&["a f@0 =0.0"])),
];

#[test]
fn the_rule_cases() {
    for (rule, layers, want) in CASES {
        let mut tree = Tree::new();
        let got = build(layers, &mut tree).map(|()| render(&tree));
        let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(got, want, "rule {rule}: {layers:?}");
    }
}

#[test]
fn every_rule_has_a_case() {
    let extra = ["dir-over-dir-merges", "hard-link-metadata", "modes-and-owners", "names-the-kernel-takes", "bounded"];
    for r in RULES {
        assert!(
            CASES.iter().any(|(name, ..)| *name == r.name) || extra.contains(&r.name),
            "rule {} has no case",
            r.name
        );
    }
}

type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

fn meta_of(tree: &Tree, path: &str) -> (u32, u32, u32, Xattrs) {
    let i = tree.inode(tree.get(&key_of(path.as_bytes())).unwrap().inode);
    (i.mode, i.uid, i.gid, i.xattrs().to_vec())
}

fn x(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (k.as_bytes().to_vec(), v.as_bytes().to_vec())
}

#[test]
fn dir_over_dir_takes_the_last_writers_metadata_and_adds_xattrs() {
    let mut t = Tree::new();
    build(
        &[
            &["d d/ mode=0700 uid=1 gid=1 xattr=user.a:1 xattr=user.b:1"],
            &["d d/ mode=01777 uid=2 gid=3 xattr=user.b:2"],
        ],
        &mut t,
    )
    .unwrap();
    assert_eq!(meta_of(&t, "d"), (0o1777, 2, 3, vec![x("user.a", "1"), x("user.b", "2")]));
}

#[test]
fn a_new_file_has_only_its_own_xattrs_and_mode_bits() {
    let mut t = Tree::new();
    build(&[&["f a mode=0644 xattr=user.a:1"], &["f a mode=0104755 xattr=security.capability:c"]], &mut t).unwrap();
    assert_eq!(meta_of(&t, "a"), (0o4755, 0, 0, vec![x("security.capability", "c")]));
}

#[test]
fn hard_link_metadata_goes_to_the_shared_inode() {
    let mut t = Tree::new();
    build(&[&["f a mode=0644 uid=1 xattr=user.a:1"], &["h b => a mode=0600 uid=7 gid=8 xattr=user.b:2"]], &mut t)
        .unwrap();
    let both = (0o600, 7, 8, vec![x("user.a", "1"), x("user.b", "2")]);
    assert_eq!(meta_of(&t, "a"), both);
    assert_eq!(meta_of(&t, "b"), both);
    // A link to a symlink: the owner changes, the mode does not (there is no lchmod).
    let mut t = Tree::new();
    build(&[&["l s -> x mode=0777"], &["h t => s mode=0600 uid=3"]], &mut t).unwrap();
    assert_eq!(meta_of(&t, "t"), (0o777, 3, 0, vec![]));
}

#[test]
fn the_root_entry_sets_the_roots_metadata() {
    let mut t = Tree::new();
    build(&[&["d ./ mode=0700 uid=5"], &["d . mode=0750"]], &mut t).unwrap();
    assert!(t.root_written);
    assert_eq!((t.root().mode, t.root().uid), (0o750, 0));
}

#[test]
fn names_the_kernel_takes() {
    let long = "a".repeat(256);
    let deep = "d/".repeat(2048);
    for name in [long.as_str(), deep.as_str()] {
        let (n, kind, link, size, meta) = item_of("f x");
        let _ = n;
        let item = Item { name: name.as_bytes(), kind, link: &link, size, meta: &meta };
        assert_eq!(Tree::new().apply(Pos { layer: 0, entry: 0 }, &item), Err(Refusal::NameTooLong));
    }
}

#[test]
fn bounded_by_paths_and_by_name_bytes() {
    let mut t = Tree::with_bounds(3, 1 << 20);
    assert_eq!(build(&[&["f a", "f b", "f c", "f d"]], &mut t), Err((0, 3, "bounded")));
    let mut t = Tree::with_bounds(100, 4);
    assert_eq!(build(&[&["f ab", "f cd", "f e"]], &mut t), Err((0, 2, "bounded")));
    // Removed paths give their room back.
    let mut t = Tree::with_bounds(2, 1 << 20);
    build(&[&["f a", "f b"], &["f .wh.a", "f c"], &["f .wh.b", "f .wh.c", "f d", "f e"]], &mut t).unwrap();
    assert_eq!(render(&t), ["d f@2 =2.2", "e f@2 =2.3"]);
}

#[test]
fn inodes_are_reused_so_memory_follows_the_paths_not_the_entries() {
    let mut t = Tree::new();
    for l in 0..50u16 {
        t.begin_layer(l);
        for e in 0..100u32 {
            let name = format!("f{e}");
            let meta = Meta::default();
            let item = Item { name: name.as_bytes(), kind: ItemKind::File, link: b"", size: 1, meta: &meta };
            t.apply(Pos { layer: l, entry: e }, &item).unwrap();
        }
    }
    assert_eq!(t.len(), 100);
    assert!(t.inodes.len() <= 201, "{} inodes for 100 paths", t.inodes.len());
}

#[test]
fn walk_order_is_go_filepath_walk() {
    let mut t = Tree::new();
    build(&[&["d a/", "f a/b", "f a-c", "f a.d", "d a/z/", "f a/z/y", "f B"]], &mut t).unwrap();
    let got: Vec<String> = t.paths().map(|(k, _)| String::from_utf8(path_of(k)).unwrap()).collect();
    assert_eq!(got, ["B", "a", "a/b", "a/z", "a/z/y", "a-c", "a.d"]);
}
