#!/usr/bin/env python3
"""Build a k3s-style airgap archive: one docker-save of many images sharing base layers.

    python3 bench/make_airgap.py OUT.tar [--images 20] [--base-mb 40] [--layer-mb 12]

What `k3s-airgap-images-amd64.tar` is: `docker save` of ~20 images (pause, coredns, traefik,
metrics-server, local-path-provisioner, klipper-helm, ...), several built on the same base,
so shared base layers are stored once and listed by each image. Here: two base layers of
real files (`--base-mb` and half of it), and per image one or two layers of its own
(`--layer-mb` each; every third image has two), all from real directories of this machine
via make_inputs.py's capped walk and the real GNU tar, never sharing a file. Images
alternate between the two bases. Deterministic for a given machine. Prints a JSON summary.
"""

import argparse
import json
import os
import time

import make_inputs as mi

# Every candidate root, in order: each layer takes the next files not used yet.
ROOTS = [r for group in mi.LAYER_CANDIDATES for r in group]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--base-mb", type=int, default=40)
    ap.add_argument("--layer-mb", type=int, default=12)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    workdir = os.path.dirname(out)
    os.makedirs(workdir, exist_ok=True)
    seen = set()
    t0 = time.monotonic()
    made = []

    def layer(cap_mb):
        paths, _est, roots = mi.walk_capped(ROOTS, cap_mb << 20, seen)
        if len(paths) < 10:
            raise SystemExit("make_airgap: the machine has run out of files for layers")
        tmp = os.path.join(workdir, f".airgap-layer{len(made)}.tar")
        digest, size = mi.make_layer(paths, tmp)
        l = dict(roots=roots, tmp=tmp, diff_id="sha256:" + digest, size=size, entries=len(paths))
        made.append(l)
        return l

    bases = [layer(args.base_mb), layer(max(1, args.base_mb // 2))]
    images = []
    for i in range(args.images):
        own = [layer(args.layer_mb) for _ in range(2 if i % 3 == 2 else 1)]
        images.append((f"bench/airgap-{i:02d}:v1", [bases[i % 2], *own]))
    ids = mi.write_legacy(out, images)
    for l in made:
        os.unlink(l["tmp"])
    print(json.dumps({
        "archive": out,
        "bytes": os.path.getsize(out),
        "images": len(images),
        "layers": len(made),
        "layer_bytes": sum(l["size"] for l in made),
        "listed_layer_bytes": sum(l["size"] for _, ls in images for l in ls),
        "image_ids": ids if isinstance(ids, list) else [ids],
        "seconds": round(time.monotonic() - t0, 1),
    }))


if __name__ == "__main__":
    main()
