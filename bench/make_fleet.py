#!/usr/bin/env python3
"""Build the 100-image bench: images from real layers sharing base layers as releases do.

    python3 bench/make_fleet.py OUT_DIR [--images 100] [--scale-mb 200]

What a site carries across an air gap: a few product lines, each released many times. Every
image is three layers, from real directories of this machine (make_inputs.py's capped walk
and the real GNU tar, never sharing a file between layers):

- an OS base (4 of them, `--scale-mb` x 5% each), shared by a quarter of the images;
- a runtime (one per product line of 10 releases, `--scale-mb` x 5% each), shared by the
  10 releases of the line;
- the release's own application layer (`--scale-mb` x 30% / images each).

So about `--scale-mb` MiB of distinct layers (default 200; 1000 for ~1 GiB, which makes the
100 single-image archives ~10 GB), listed ~10x over by the images. Written in three shapes,
the ones users carry:

    OUT_DIR/fleet.tar                  one docker-save of all the images (shared layers once)
    OUT_DIR/archives/img-NNN.tar       one docker-save per image (each holds its base again)
    OUT_DIR/fleet-installer.tgz        a bundle: fleet.tar.gz (pigz -6) inside a .tgz with
                                       an install script, as Harbor's offline installer ships

Deterministic for a given machine. Prints a JSON summary on the last line.
"""

import argparse
import json
import os
import shutil
import subprocess
import tarfile
import time

import make_inputs as mi

ROOTS = [r for group in mi.LAYER_CANDIDATES for r in group]
BASES = 4
RELEASES_PER_LINE = 10


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--scale-mb", type=int, default=200)
    args = ap.parse_args()
    out = os.path.abspath(args.out_dir)
    os.makedirs(os.path.join(out, "archives"), exist_ok=True)
    tmp = os.path.join(out, ".layers")
    os.makedirs(tmp, exist_ok=True)
    seen = set()
    made = []
    t0 = time.monotonic()

    def layer(kind, cap_mb):
        paths, _est, roots = mi.walk_capped(ROOTS, max(1, int(cap_mb)) << 20, seen)
        if len(paths) < 5:
            raise SystemExit("make_fleet: the machine has run out of files for layers "
                             "(use a smaller --scale-mb)")
        path = os.path.join(tmp, f"{len(made):03d}-{kind}.tar")
        digest, size = mi.make_layer(paths, path)
        l = dict(roots=roots, tmp=path, diff_id="sha256:" + digest, size=size, kind=kind)
        made.append(l)
        return l

    def app_layer(files):
        paths = sorted({d for f in files for d in parents(f)} | set(files))
        path = os.path.join(tmp, f"{len(made):03d}-app.tar")
        digest, size = mi.make_layer(paths, path)
        l = dict(roots=["/" + files[0]], tmp=path, diff_id="sha256:" + digest, size=size, kind="app")
        made.append(l)
        return l

    lines = (args.images + RELEASES_PER_LINE - 1) // RELEASES_PER_LINE
    bases = [layer("base", args.scale_mb * 0.05) for _ in range(BASES)]
    runtimes = [layer("runtime", args.scale_mb * 0.05) for _ in range(lines)]
    apps = app_files(seen, args.images, (args.scale_mb << 20) * 0.30 / args.images)
    images = []
    for i in range(args.images):
        line, release = divmod(i, RELEASES_PER_LINE)
        app = app_layer(apps[i])
        tag = f"fleet/product{line:02d}:1.{release}.0"
        images.append((tag, [bases[line % BASES], runtimes[line], app]))

    fleet = os.path.join(out, "fleet.tar")
    mi.write_legacy(fleet, images)
    for i, image in enumerate(images):
        mi.write_legacy(os.path.join(out, "archives", f"img-{i:03d}.tar"), [image])
    installer(out, fleet)
    shutil.rmtree(tmp)
    archives = [os.path.join(out, "archives", f) for f in os.listdir(os.path.join(out, "archives"))]
    print(json.dumps({
        "images": len(images),
        "layers": len(made),
        "distinct_layer_bytes": sum(l["size"] for l in made),
        "listed_layer_bytes": sum(l["size"] for _, ls in images for l in ls),
        "fleet_tar_bytes": os.path.getsize(fleet),
        "archives_bytes": sum(os.path.getsize(a) for a in archives),
        "installer_bytes": os.path.getsize(os.path.join(out, "fleet-installer.tgz")),
        "seconds": round(time.monotonic() - t0, 1),
    }))


def parents(rel):
    """The parent directories of a path relative to /, outermost first."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def app_files(seen, n, size):
    """`n` lists of regular files (paths relative to /) not used by another layer, about
    `size` bytes each: a release's own files, the next ones in a sorted walk (none larger
    than `size`)."""
    out, cur, total = [], [], 0
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                if p in seen or os.path.islink(p) or not os.path.isfile(p) or not os.access(p, os.R_OK):
                    continue
                cost = mi.tar_cost(os.lstat(p))
                if cost > size:
                    continue  # left for a larger layer
                seen.add(p)
                cur.append(p.lstrip("/"))
                total += cost
                if total >= size:
                    out.append(cur)
                    cur, total = [], 0
                    if len(out) == n:
                        return out
    raise SystemExit("make_fleet: the machine has run out of files for application layers")


def installer(out, fleet):
    """fleet-installer.tgz: installer/fleet.tar.gz and a script, gzip-wrapped (pigz -6)."""
    src = os.path.join(out, ".installer")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(os.path.join(src, "installer"))
    with open(os.path.join(src, "installer", "fleet.tar.gz"), "wb") as f:
        subprocess.run(["pigz", "-6", "-n", "-c", fleet], stdout=f, check=True)
    with open(os.path.join(src, "installer", "install.sh"), "w") as f:
        f.write("#!/bin/sh\ndocker load -i fleet.tar.gz\n")
    partial = os.path.join(out, "fleet-installer.tgz.partial")
    tar = subprocess.Popen(["tar", "-C", src, "-c", "-f", "-", *mi.TAR_FLAGS, "installer"],
                           stdout=subprocess.PIPE)
    with open(partial, "wb") as f:
        subprocess.run(["pigz", "-6", "-n"], stdin=tar.stdout, stdout=f, check=True)
    if tar.wait() != 0:
        raise SystemExit("make_fleet: tar of the installer failed")
    os.replace(partial, os.path.join(out, "fleet-installer.tgz"))
    shutil.rmtree(src)


if __name__ == "__main__":
    main()
