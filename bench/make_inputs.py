#!/usr/bin/env python3
"""Build the benchmark's docker-save archive from real files on this machine.

    python3 bench/make_inputs.py OUT.tar [--layer-cap-mb N] [--layers N]

Each layer is a GNU tar of real directories (a capped, sorted walk of one or more of the
candidate roots below that exist), made by the real `tar` with
`--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner`. The layers are then assembled
into a docker-save *legacy* layout (what `docker save` wrote before Docker 25):

    <layerid>/VERSION      "1.0"
    <layerid>/json         v1 layer JSON (id, parent, created, ...)
    <layerid>/layer.tar    the uncompressed layer
    <imageid>.json         the config (image ID = sha256 of these exact bytes)
    manifest.json          [{"Config": "<imageid>.json", "RepoTags": ["bench/app:1"], "Layers": [...]}]
    repositories           {"bench/app": {"1": "<top layer id>"}}

Everything is deterministic for a given set of files on disk (mtime 0, uid/gid 0, sorted).
Prints one line per layer and a JSON summary on the last line of stdout.
"""

import argparse
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

# Candidate roots per layer, in order of preference; a layer takes files from the first
# existing roots until it reaches the cap. The history line says what it holds.
LAYER_CANDIDATES = [
    ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"],
    ["/usr/share"],
    [
        "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu",
        "/root/.rustup/toolchains",
        "/usr/local",
    ],
    ["/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/lib/llvm-14", "/usr/lib/gcc"],
    ["/usr/lib/jvm", "/usr/lib/go-1.19", "/usr/lib/google-cloud-sdk", "/usr/lib/python3", "/opt"],
    ["/usr/lib/llvm-15", "/usr/lib/llvm-14", "/usr/include", "/var/lib"],
]

TAR_FLAGS = [
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
]

BLOCK = 512


def tar_cost(st):
    """Approximate bytes an entry adds to a GNU tar (header + padded data)."""
    cost = BLOCK
    if stat.S_ISREG(st.st_mode):
        cost += (st.st_size + BLOCK - 1) // BLOCK * BLOCK
    return cost


def walk_capped(roots, cap, seen):
    """Sorted depth-first walk of `roots`; returns (paths relative to /, estimated bytes).

    Directories, regular files and symlinks only (no sockets, fifos, devices). Skips entries
    that would exceed `cap` and stops once within 1 MiB of it. A directory listed is followed by its contents, so
    with `--no-recursion` tar gets exactly these entries, in this order. `seen` holds the
    non-directory paths already used by an earlier layer, so layers do not share files
    (directories, as in real images, may appear in several layers).
    """
    out = []
    dirs = set()  # directories emitted in this layer
    inodes = set()  # (dev, ino) of multiply-linked files in this layer: tar stores them once
    total = 0
    full = False
    used = []  # roots actually walked

    def emit(path, cost):
        nonlocal total, full
        if total + cost > cap:
            # Skip what does not fit (a big file may be followed by smaller ones); the layer
            # is full once within 1 MiB of the cap.
            full = total + (1 << 20) > cap
            return False
        out.append(path.lstrip("/"))
        total += cost
        return True

    def visit(path):
        try:
            st = os.lstat(path)
        except OSError:
            return
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            if path not in dirs:
                if not emit(path, BLOCK):
                    return
                dirs.add(path)
            try:
                names = sorted(os.listdir(path))
            except OSError:
                return
            for name in names:
                if full:
                    return
                visit(os.path.join(path, name))
        elif stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            if path in seen or (stat.S_ISREG(mode) and not os.access(path, os.R_OK)):
                return
            key = (st.st_dev, st.st_ino) if st.st_nlink > 1 and stat.S_ISREG(mode) else None
            cost = BLOCK if key in inodes else tar_cost(st)
            if emit(path, cost):
                seen.add(path)
                if key:
                    inodes.add(key)

    for root in roots:
        if full:
            break
        if not os.path.isdir(root) or os.path.islink(root):
            continue
        # Parent directories of the root, so the layer is a proper filesystem tree.
        parents = []
        p = os.path.dirname(root)
        while p not in ("/", ""):
            parents.append(p)
            p = os.path.dirname(p)
        for parent in reversed(parents):
            if parent not in dirs:
                emit(parent, BLOCK)
                dirs.add(parent)
        used.append(root)
        visit(root)
    return out, total, used


def make_layer(paths, dest_path):
    """Run the real tar on `paths` (relative to /); write to dest_path; return (sha256, size)."""
    with tempfile.NamedTemporaryFile("w", delete=False, suffix=".list") as lst:
        for p in paths:
            lst.write(p + "\n")
        list_path = lst.name
    try:
        cmd = ["tar", "-C", "/", "-c", "-f", "-", *TAR_FLAGS, "--no-recursion",
               "--verbatim-files-from", "-T", list_path]
        h = hashlib.sha256()
        size = 0
        with open(dest_path, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, bufsize=0)
            while True:
                chunk = proc.stdout.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
            rc = proc.wait()
        # GNU tar: 1 = "some files differ / changed as we read them" (the archive is still
        # a valid tar, and we hash what we wrote); 2 = fatal.
        if rc not in (0, 1):
            raise SystemExit(f"make_inputs: tar failed with exit {rc}")
        if rc == 1:
            print("make_inputs: warning: tar exit 1 (a file changed while read); continuing",
                  file=sys.stderr)
        return h.hexdigest(), size
    finally:
        os.unlink(list_path)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def add_bytes(tf, name, data, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    tf.addfile(ti, io.BytesIO(data))


def add_dir(tf, name):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    tf.addfile(ti)


def add_file(tf, name, path, size):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = 0o644
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    with open(path, "rb") as f:
        tf.addfile(ti, f)


def write_legacy(out, images):
    """Write a docker-save legacy archive of `images` [(tag, layers)] to `out` (atomically).

    A layer is a dict with diff_id, tmp (its tar), size and roots. Layer directories are
    named by v1 IDs chained as Docker's legacy export chains them (each depends on its parent
    and diffID), so a base shared by several images is one directory, listed by each of
    them, as `docker save` of several images writes it. Returns the image IDs (one per
    image; a str when there is one image).
    """
    created = "1970-01-01T00:00:00Z"
    dirs = {}  # v1 id -> (json bytes, layer)
    manifest = []
    repositories = {}
    configs = []
    for tag, layers in images:
        history = [
            {
                "created": created,
                "created_by": f"/bin/sh -c #(nop) ADD dir:{l['diff_id'][7:19]} in / "
                              f"# {', '.join(l['roots'])}",
            }
            for l in layers
        ]
        config = {
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
                "WorkingDir": "/",
                "Labels": {"bench.image": tag},
            },
            "history": history,
            "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        }
        config_bytes = dumps(config)
        image_id = hashlib.sha256(config_bytes).hexdigest()
        parent = ""
        ids = []
        for i, l in enumerate(layers):
            v1 = {"created": created, "os": "linux", "architecture": "amd64",
                  "container_config": {"Cmd": [history[i]["created_by"]]},
                  "layer_id": l["diff_id"]}
            if parent:
                v1["parent"] = parent
            if i == len(layers) - 1:
                v1["config"] = config["config"]
            lid = hashlib.sha256(dumps(v1)).hexdigest()
            v1.pop("layer_id")
            v1["id"] = lid
            dirs.setdefault(lid, (dumps(v1), l))
            ids.append(lid)
            parent = lid
        manifest.append({
            "Config": f"{image_id}.json",
            "RepoTags": [tag],
            "Layers": [f"{lid}/layer.tar" for lid in ids],
        })
        name, _, t = tag.rpartition(":")
        repositories.setdefault(name, {})[t] = ids[-1]
        configs.append((image_id, config_bytes))

    tmp_out = out + ".partial"
    with tarfile.open(tmp_out, "w", format=tarfile.USTAR_FORMAT) as tf:
        for lid, (v1_json, l) in sorted(dirs.items()):
            add_dir(tf, f"{lid}/")
            add_bytes(tf, f"{lid}/VERSION", b"1.0")
            add_bytes(tf, f"{lid}/json", v1_json)
            add_file(tf, f"{lid}/layer.tar", l["tmp"], l["size"])
        for image_id, config_bytes in configs:
            add_bytes(tf, f"{image_id}.json", config_bytes)
        add_bytes(tf, "manifest.json", dumps(manifest))
        add_bytes(tf, "repositories", dumps(repositories))
    os.replace(tmp_out, out)
    ids = ["sha256:" + i for i, _ in configs]
    return ids[0] if len(ids) == 1 else ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=5, help="number of layers (4-6)")
    ap.add_argument("--layer-cap-mb", type=int, default=300, help="cap per layer, MiB")
    args = ap.parse_args()
    if not 1 <= args.layers <= len(LAYER_CANDIDATES):
        ap.error(f"--layers must be 1..{len(LAYER_CANDIDATES)}")

    out = os.path.abspath(args.out)
    workdir = os.path.dirname(out)
    os.makedirs(workdir, exist_ok=True)
    cap = args.layer_cap_mb << 20
    seen = set()
    layers = []  # dicts: roots, tmp, diff_id, size, entries
    t0 = time.monotonic()
    for i, candidates in enumerate(LAYER_CANDIDATES[: args.layers]):
        paths, _est, roots = walk_capped(candidates, cap, seen)
        if len(paths) < 10:
            raise SystemExit(f"make_inputs: layer {i}: nothing usable under {candidates}")
        tmp = os.path.join(workdir, f".layer{i}.tar")
        t = time.monotonic()
        digest, size = make_layer(paths, tmp)
        layers.append(dict(roots=roots, tmp=tmp, diff_id="sha256:" + digest, size=size,
                           entries=len(paths)))
        print(f"layer {i}: {size / 2**20:7.1f} MiB  {len(paths):6d} entries  "
              f"from {' '.join(roots)}  ({time.monotonic() - t:.1f}s)  sha256:{digest[:12]}",
              flush=True)

    image_id = write_legacy(out, [("bench/app:1", layers)])
    for l in layers:
        os.unlink(l["tmp"])

    summary = {
        "archive": out,
        "bytes": os.path.getsize(out),
        "image_id": image_id,
        "layers": [{"diff_id": l["diff_id"], "bytes": l["size"], "entries": l["entries"],
                    "roots": l["roots"]} for l in layers],
        "seconds": round(time.monotonic() - t0, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
