#!/usr/bin/env bash
# The 100-image bench (not a test): airlock verify on the shapes a site carries 100 images
# in, beside skopeo and crane where they can read the input, with /usr/bin/time -v for
# wall time, CPU time and peak memory.
#
#   bash bench/fleet.sh                       # 100 images, ~0.2 GB of distinct layers
#   FLEET_SCALE_MB=1000 bash bench/fleet.sh   # ~1 GB distinct; the 100 archives are ~10 GB
#
# Inputs (bench/make_fleet.py, cached in $BENCH_WORK/fleet-<images>-<scale>/; delete it to
# rebuild): fleet.tar (one docker-save of all images), archives/img-NNN.tar (one per image),
# fleet-installer.tgz (a bundle: the gzipped fleet.tar inside a .tgz).
#
# Env:
#   FLEET_IMAGES=100  FLEET_SCALE_MB=200   what make_fleet.py builds
#   FLEET_RUNS=3       airlock runs per row (the best is shown); skopeo and crane run once
#   FLEET_BASELINES=1  0: airlock only (the skopeo loops take minutes)
#   AIRLOCK=path       airlock binary (default target/release/airlock, built if missing)
#   CRANE=path         crane (default: crane on PATH, else $AIRLOCK_TOOLS_DIR/bin/crane)
# Prints a markdown table; it is also left in the input directory as results.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IMAGES=${FLEET_IMAGES:-100}
SCALE=${FLEET_SCALE_MB:-200}
RUNS=${FLEET_RUNS:-3}
WORK=${BENCH_WORK:-$ROOT/bench/work}
DIR=$WORK/fleet-$IMAGES-$SCALE
AIRLOCK=${AIRLOCK:-$ROOT/target/release/airlock}
export LC_ALL=C

log() { printf '== %s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { echo "fleet: needs GNU time (Debian package 'time')" >&2; exit 1; }
[ -x "$AIRLOCK" ] || cargo build --release --quiet
CRANE=${CRANE:-$(command -v crane || echo "${AIRLOCK_TOOLS_DIR:-/tmp/airlock-tools}/bin/crane")}

if [ ! -f "$DIR/fleet-installer.tgz" ]; then
    log "building $DIR ($IMAGES images, --scale-mb $SCALE) from real files"
    rm -rf "$DIR"
    (cd bench && python3 make_fleet.py "$DIR" --images "$IMAGES" --scale-mb "$SCALE") | tail -n1 >"$DIR.summary"
    mv "$DIR.summary" "$DIR/summary.json"
fi
ARCHIVES=()
while IFS= read -r f; do ARCHIVES+=("$f"); done < <(find "$DIR/archives" -name 'img-*.tar' | sort)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROWS=$DIR/rows.md
: >"$ROWS"

mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
bytes_of() { du -cb --apparent-size "$@" | tail -n1 | cut -f1; }

# measure LABEL TOOL INPUT_DESC BYTES RUNS CMD... : best wall time of RUNS runs under
# /usr/bin/time -v, with that run's CPU time and the highest peak RSS; one table row.
measure() {
    local label=$1 tool=$2 input=$3 bytes=$4 runs=$5
    shift 5
    local i best="" cpu="" rss=0 rc=0 a
    # Warm page cache: every file named on the command line is read once first.
    for a in "$@"; do [ -f "$a" ] && cat "$a" >/dev/null; done
    for ((i = 0; i < runs; i++)); do
        rc=0
        /usr/bin/time -v -o "$TMP/t" "$@" >"$TMP/out" 2>&1 || rc=$?
        if ((rc != 0)); then
            log "$label: $tool exited $rc:"; tail -n 5 "$TMP/out" >&2
        fi
        local wall u s m
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); t = 0; for (j = 1; j <= n; j++) t = t * 60 + p[j]; print t }' "$TMP/t")
        u=$(awk -F': ' '/User time/ { print $2 }' "$TMP/t")
        s=$(awk -F': ' '/System time/ { print $2 }' "$TMP/t")
        m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/t")
        ((m > rss)) && rss=$m
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall
            cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
        fi
    done
    local rate
    rate=$(awk -v b="$bytes" -v t="$best" 'BEGIN { printf "%.0f", (t > 0) ? b / 1048576 / t : 0 }')
    printf '| %s | %s | %s | %s | %.2f | %s | %s | %.1f MiB | %s |\n' "$label" "$tool" "$input" \
        "$(mib "$bytes")" "$best" "$cpu" "$rate" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
        "$([ "$rc" = 0 ] && echo ok || echo "exit $rc")" | tee -a "$ROWS" >&2
}

loop_skopeo() { # docker-archive references...
    local r i=0
    for r in "$@"; do
        skopeo copy -q --insecure-policy "docker-archive:$r" "dir:$TMP/skopeo-$i" || return 1
        rm -rf "$TMP/skopeo-$i"
        i=$((i + 1))
    done
}
loop_crane() { local f; for f in "$@"; do "$CRANE" validate --tarball "$f" >/dev/null || return 1; done; }

all=$(bytes_of "${ARCHIVES[@]}")
fleet=$(bytes_of "$DIR/fleet.tar")
tgz=$(bytes_of "$DIR/fleet-installer.tgz")

log "airlock: growth with the bytes read (the first N single-image archives)"
for n in 10 25 50 100; do
    ((n <= ${#ARCHIVES[@]})) || continue
    measure "$n archives" airlock "archives/img-000..$((n - 1)).tar" "$(bytes_of "${ARCHIVES[@]:0:n}")" "$RUNS" \
        "$AIRLOCK" verify -q "${ARCHIVES[@]:0:n}"
done
log "airlock: the three shapes"
measure "one archive" airlock "fleet.tar (docker-save, $IMAGES images)" "$fleet" "$RUNS" "$AIRLOCK" verify -q "$DIR/fleet.tar"
measure "bundle" airlock "fleet-installer.tgz (fleet.tar.gz inside)" "$tgz" "$RUNS" "$AIRLOCK" verify -q "$DIR/fleet-installer.tgz"

if [ "${FLEET_BASELINES:-1}" != 0 ]; then
    log "baselines (one run each)"
    refs=()
    for ((i = 0; i < IMAGES; i++)); do refs+=("$DIR/fleet.tar:@$i"); done
    measure "one archive" "skopeo copy …:@N dir: (each image)" "fleet.tar" "$fleet" 1 bash -c "$(declare -f loop_skopeo); TMP=$TMP; loop_skopeo \"\$@\"" _ "${refs[@]}"
    measure "100 archives" "skopeo copy docker-archive: dir: (each)" "archives/*.tar" "$all" 1 bash -c "$(declare -f loop_skopeo); TMP=$TMP; loop_skopeo \"\$@\"" _ "${ARCHIVES[@]}"
    if [ -x "$CRANE" ]; then
        measure "100 archives" "crane validate --tarball (each)" "archives/*.tar" "$all" 1 bash -c "$(declare -f loop_crane); CRANE=$CRANE; loop_crane \"\$@\"" _ "${ARCHIVES[@]}"
    else
        log "no crane at $CRANE: its row is left out"
    fi
    measure "bundle" "tar -xzO \\| pigz -dc \\| openssl dgst" "fleet-installer.tgz" "$tgz" 1 \
        bash -c 'tar -xzOf "$1" installer/fleet.tar.gz | pigz -dc | openssl dgst -sha256' _ "$DIR/fleet-installer.tgz"
fi

{
    printf '### 100 images (%s)\n\n' "$(date -u +%F)"
    printf -- '- machine: %s, %s cores; load average at the end: %s\n' \
        "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- airlock %s (git %s); input: %s\n' "$("$AIRLOCK" --version | awk '{ print $2 }')" \
        "$(git rev-parse --short HEAD)" "$(cat "$DIR/summary.json")"
    printf -- '- airlock rows: best of %s; baselines: one run; MiB = input bytes read\n\n' "$RUNS"
    printf '| shape | tool | input | MiB | wall s | CPU s | MiB/s | peak RSS | exit |\n'
    printf '|---|---|---|---:|---:|---:|---:|---:|---|\n'
    cat "$ROWS"
} | tee "$DIR/results.md"
