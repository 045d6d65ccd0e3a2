#!/usr/bin/env bash
# `airlock delta` / `airlock apply` on a release pair built by the real docker (README,
# "Shipping updates"): airlock/rel:1 and airlock/rel:2 share a base layer of real files
# (/usr/lib/x86_64-linux-gnu, ~660 MiB) and each has its own application layer (~80 MiB of
# /usr/bin, one file changed in release 2), as an application update looks.
#
#   bash bench/delta.sh
#
# Inputs are cached in bench/work/delta/ (delete it to rebuild). Prints sizes, and the wall
# time, CPU time and peak RSS (GNU time) of lock, delta, apply (from a docker save and from
# skopeo's gzip OCI archive) and of convert of the full archive, for comparison.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$ROOT/bench/work/delta
AIRLOCK=${AIRLOCK:-$ROOT/target/release/airlock}
mkdir -p "$W"

if [ ! -f "$W/rel-2.tar" ]; then
    # docker 20.10 of scripts/real-tools.sh, in a temp dir of its own (stopped at the end):
    # the stores the tests use are never touched.
    export AIRLOCK_TOOLS_DIR AIRLOCK_NEWER_RUNTIMES=0
    AIRLOCK_TOOLS_DIR=$(mktemp -d /tmp/airlock-bench-delta.XXXXXX)
    # shellcheck source=../scripts/real-tools.sh
    source "$ROOT/scripts/real-tools.sh" up >&2
    trap 'airlock_tools_down >/dev/null 2>&1 || true; rm -rf "$AIRLOCK_TOOLS_DIR"' EXIT
    D=$AIRLOCK_TOOLS_DIR/bin/docker-20.10
    export DOCKER_BUILDKIT=0
    ctx=$(mktemp -d "$W/ctx.XXXXXX")
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C /usr/lib -c x86_64-linux-gnu \
        | "$D" import -c 'CMD ["/bin/sh"]' - airlock/rel-base:1 >/dev/null
    mkdir -p "$ctx/app"
    # ~80 MiB of real programs, the same set in both releases.
    find /usr/bin -maxdepth 1 -type f -size +100k | sort | while read -r f; do
        [ "$(du -sm "$ctx/app" | cut -f1)" -lt 80 ] || break
        cp "$f" "$ctx/app/"
    done || true
    for rel in 1 2; do
        printf 'release %s\n' "$rel" >"$ctx/app/RELEASE"
        printf 'FROM airlock/rel-base:1\nCOPY app/ /opt/app/\n' >"$ctx/Dockerfile"
        "$D" build -q --network none -t "airlock/rel:$rel" "$ctx" >/dev/null
        "$D" save -o "$W/rel-$rel.tar.tmp" "airlock/rel:$rel"
        mv "$W/rel-$rel.tar.tmp" "$W/rel-$rel.tar"
    done
    rm -rf "$ctx"
    skopeo --insecure-policy copy -q "docker-archive:$W/rel-1.tar" "oci-archive:$W/rel-1.oci.tar:airlock/rel:1"
fi

measure() { # NAME COMMAND...
    local name=$1
    shift
    rm -rf "$W/out"
    mkdir -p "$W/out"
    /usr/bin/time -f "%e %U %S %M" -o "$W/time.txt" "$@" >/dev/null 2>"$W/err.txt" || { cat "$W/err.txt" >&2; exit 1; }
    read -r wall user sys rss <"$W/time.txt"
    printf '| %s | %s s | %.2f s | %s MiB |\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))"
}

"$AIRLOCK" lock -q "$W/rel-1.tar" -o "$W/rel-1.lock"
"$AIRLOCK" lock -q "$W/rel-1.oci.tar" -o "$W/rel-1.oci.lock"
"$AIRLOCK" lock -q "$W/rel-2.tar" -o "$W/rel-2.lock"
"$AIRLOCK" delta -q "$W/rel-2.tar" --have "$W/rel-1.lock" -o "$W/rel-2.delta" --force
size() { stat -c %s "$1"; }
echo "| file | bytes |"
echo "|---|---|"
for f in rel-1.tar rel-1.oci.tar rel-2.tar rel-2.delta; do echo "| $f | $(size "$W/$f") |"; done
echo
echo "| step | wall | CPU (user+sys) | peak RSS |"
echo "|---|---|---|---|"
measure "lock rel-2.tar" "$AIRLOCK" lock -q "$W/rel-2.tar" -o "$W/out/x.lock"
measure "delta rel-2.tar --have rel-1.lock" "$AIRLOCK" delta -q "$W/rel-2.tar" --have "$W/rel-1.lock" -o "$W/out/x.delta"
measure "apply --from rel-1.tar" "$AIRLOCK" apply -q "$W/rel-2.delta" --from "$W/rel-1.tar" -o "$W/out/rel-2.tar"
"$AIRLOCK" verify -q "$W/out/rel-2.tar" --lock "$W/rel-2.lock" --deny warnings >/dev/null
measure "apply --from rel-1.oci.tar (gzip, by diffID)" "$AIRLOCK" apply -q "$W/rel-2.delta" --from "$W/rel-1.oci.tar" -o "$W/out/rel-2.tar"
"$AIRLOCK" verify -q "$W/out/rel-2.tar" --lock "$W/rel-2.lock" --deny warnings >/dev/null
measure "convert rel-2.tar --to docker" "$AIRLOCK" convert -q "$W/rel-2.tar" --to docker -o "$W/out/x.tar"
measure "convert rel-2.tar --to oci-archive" "$AIRLOCK" convert -q "$W/rel-2.tar" --to oci-archive -o "$W/out/x.tar"
rm -rf "$W/out"
