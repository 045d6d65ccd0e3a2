#!/usr/bin/env bash
# `airlock diff` on release pairs that share base layers: two releases of one product line of
# make_fleet.py (an OS base and a runtime shared, each its own application layer, all real
# files), each as its own docker save; and the whole 20-image fleet against itself minus
# nothing (equal). Prints the wall time, CPU time and peak RSS (GNU time) of each.
#
#   bash bench/diff.sh            (inputs cached in bench/work/diff/; delete it to rebuild)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$ROOT/bench/work/diff
AIRLOCK=${AIRLOCK:-$ROOT/target/release/airlock}
mkdir -p "$W"
if [ ! -f "$W/fleet/archives/img-001.tar" ]; then
    python3 "$ROOT/bench/make_fleet.py" "$W/fleet" --images 20 --scale-mb 1000 >&2
fi
A=$W/fleet/archives/img-000.tar
B=$W/fleet/archives/img-001.tar
"$AIRLOCK" lock -q "$A" -o "$W/img-000.lock" --force

measure() { # NAME COMMAND...
    local name=$1
    shift
    local rc=0
    /usr/bin/time -f "%e %U %S %M" -o "$W/time.txt" "$@" >"$W/out.txt" 2>"$W/err.txt" || rc=$?
    [ "$rc" -le 1 ] || { cat "$W/err.txt" >&2; exit 1; }
    read -r wall user sys rss < <(tail -1 "$W/time.txt")
    printf '| %s | %s | %s s | %.2f s | %s MiB |\n' "$name" "$rc" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))"
}

printf 'A = %s (%s MiB), B = %s (%s MiB)\n\n' "${A#"$ROOT"/}" "$(($(stat -c %s "$A") >> 20))" "${B#"$ROOT"/}" "$(($(stat -c %s "$B") >> 20))"
echo '| command | exit | wall | CPU | peak RSS |'
echo '|---|---|---|---|---|'
measure 'diff A B' "$AIRLOCK" diff -q "$A" "$B"
measure 'diff A.lock B' "$AIRLOCK" diff -q "$W/img-000.lock" "$B"
measure 'diff A B --files' "$AIRLOCK" diff -q "$A" "$B" --files
measure 'diff fleet.tar fleet-installer.tgz' "$AIRLOCK" diff -q "$W/fleet/fleet.tar" "$W/fleet/fleet-installer.tgz"
echo
"$AIRLOCK" diff -q "$A" "$B" --files | head -20 || true
