#!/usr/bin/env bash
# airlock benchmark (not a test): times `airlock verify` against plain openssl/pigz/zstd
# pipelines doing the same hashing, on a ~1.5 GB image built from real files on this machine.
#
#   bash bench/run.sh                 # every section
#   bash bench/run.sh oci-gzip oci-zstd   # some sections (names: bash bench/run.sh --list)
#   just bench [SECTION...]
#
# Inputs are built once and cached under bench/work/ (git-ignored); delete a file or
# directory there to rebuild it. See bench/README.md.
#
# Env:
#   BENCH_RUNS=3            timed runs per command (the table shows the best; mean in details)
#   BENCH_WORK=bench/work   where inputs and results live
#   BENCH_LAYERS=5          layers in the generated image (4-6)
#   BENCH_LAYER_CAP_MB=300  size cap per layer, MiB
#   AIRLOCK=path            airlock binary (default target/release/airlock, rebuilt if stale)
#   BENCH_NO_BUILD=1        never run cargo build
#   BENCH_SKIP_SANITY=1     keep going when `airlock verify` rejects the generated archive
#
# All timings are warm-cache: dropping the page cache is not reliably possible here, so each
# input is read once (`cat >/dev/null`) before its runs, and every run reads from memory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
cd "$ROOT"
WORK=${BENCH_WORK:-$BENCH/work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RES=$WORK/results
RUNS=${BENCH_RUNS:-3}
LAYERS=${BENCH_LAYERS:-5}
LAYER_CAP_MB=${BENCH_LAYER_CAP_MB:-300}
AIRLOCK=${AIRLOCK:-$ROOT/target/release/airlock}
RSS_TARGET_MIB=64
export LC_ALL=C

log() { printf '== %s\n' "$*" >&2; }
warn() { printf 'bench: warning: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------

need_tools() {
    local missing=() c
    for c in python3 tar openssl pigz zstd skopeo cargo; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}"
    if [ ! -x /usr/bin/time ]; then
        log "installing GNU time (Debian package 'time') for peak RSS"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null ||
            die "cannot install 'time'; apt-get install time"
    fi
    if ! command -v hyperfine >/dev/null 2>&1; then
        warn "hyperfine not found: timing with a plain best-of-$RUNS loop"
    fi
    if ! command -v igzip >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing ISA-L's igzip (Debian package 'isal') for the gzip layout's work floor"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends isal >/dev/null ||
            warn "cannot install 'isal': the work floor will use pigz"
    fi
}

build_airlock() {
    if [ -n "${BENCH_NO_BUILD:-}" ] || [ "$AIRLOCK" != "$ROOT/target/release/airlock" ]; then
        [ -x "$AIRLOCK" ] || die "no airlock binary at $AIRLOCK"
        return
    fi
    if [ -x "$AIRLOCK" ] &&
        [ -z "$(find src Cargo.toml Cargo.lock -newer "$AIRLOCK" -print -quit 2>/dev/null)" ]; then
        return
    fi
    log "cargo build --release (src/ changed since target/release/airlock; cargo decides)"
    cargo build --release --quiet
}

# ---------------------------------------------------------------------------------------
# Inputs (cached; each is written under a temporary name and renamed when complete)
# ---------------------------------------------------------------------------------------

BUILD_LOG=$WORK/build-times.tsv   # step <TAB> seconds <TAB> date, appended when built

now() { date +%s.%N; }
record_build() { # step start
    local secs
    secs=$(awk -v a="$2" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    printf '%s\t%s\t%s\n' "$1" "$secs" "$(date -u +%FT%TZ)" >>"$BUILD_LOG"
    log "built $1 in ${secs}s"
}

DOCKER_SAVE=$WORK/docker-save.tar

ensure_docker_save() {
    [ -f "$DOCKER_SAVE" ] && return
    local unverified=$WORK/docker-save.tar.unverified t
    if [ ! -f "$unverified" ]; then
        log "building $DOCKER_SAVE from real files ($LAYERS layers, <= $LAYER_CAP_MB MiB each)"
        t=$(now)
        python3 "$BENCH/make_inputs.py" "$unverified" \
            --layers "$LAYERS" --layer-cap-mb "$LAYER_CAP_MB" | tee "$WORK/docker-save.summary"
        record_build docker-save.tar "$t"
    else
        log "reusing $unverified (built earlier, not yet accepted by airlock verify)"
    fi
    log "sanity check: airlock verify $unverified"
    local rc=0 out
    out=$("$AIRLOCK" verify -q "$unverified" 2>&1) || rc=$?
    if ((rc != 0)); then
        printf '%s\n' "$out" | tee "$WORK/sanity-check.log" >&2
        if [ -z "${BENCH_SKIP_SANITY:-}" ]; then
            die "airlock verify exited $rc on the generated docker-save archive (output above," \
                "also in $WORK/sanity-check.log). Kept $unverified; BENCH_SKIP_SANITY=1 to go on."
        fi
        warn "airlock verify exited $rc; BENCH_SKIP_SANITY is set, continuing"
    fi
    mv "$unverified" "$DOCKER_SAVE"
}

ensure_oci() { # gzip|zstd
    local fmt=$1 dir=$WORK/oci-$1 t
    [ -f "$dir/index.json" ] && return
    ensure_docker_save
    log "skopeo copy docker-archive -> oci ($fmt)"
    rm -rf "$dir" "$dir.partial"
    local extra=()
    [ "$fmt" = zstd ] && extra=(--dest-compress-format zstd)
    t=$(now)
    skopeo copy --quiet --insecure-policy "${extra[@]}" \
        "docker-archive:$DOCKER_SAVE" "oci:$dir.partial:app"
    mv "$dir.partial" "$dir"
    record_build "oci-$fmt" "$t"
}

ensure_wrapped() { # zst|gz
    local ext=$1 out=$DOCKER_SAVE.$1 t
    [ -f "$out" ] && return
    ensure_docker_save
    log "compressing docker-save.tar -> docker-save.tar.$ext"
    t=$(now)
    case $ext in
        zst) zstd -T0 -3 -q -f "$DOCKER_SAVE" -o "$out.partial" ;;
        gz) pigz -6 -c "$DOCKER_SAVE" >"$out.partial" ;;
    esac
    mv "$out.partial" "$out"
    record_build "docker-save.tar.$ext" "$t"
}

# "KIND PATH" per blob of an OCI layout, from magic bytes (for bench/oci_baseline.sh).
blob_list() { # dir -> prints list path
    local dir=$1 list=$RES/$(basename "$1").blobs
    python3 - "$dir" >"$list" <<'PY'
import os, sys
d = os.path.join(sys.argv[1], "blobs", "sha256")
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    with open(p, "rb") as f:
        magic = f.read(4)
    kind = "gzip" if magic[:2] == b"\x1f\x8b" else "zstd" if magic == b"\x28\xb5\x2f\xfd" else "raw"
    print(kind, p)
PY
    printf '%s' "$list"
}

# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------

ROWS=$RES/rows.tsv   # id tool input seconds mean ratio target rss_kib status

warm() { # read every file once so all runs are warm-cache
    local p
    for p in "$@"; do
        if [ -d "$p" ]; then find "$p" -type f -exec cat {} + >/dev/null; else cat "$p" >/dev/null; fi
    done
}

# time_pair ID CMD_A CMD_B [ignore-failure] -> writes $RES/ID.json (hyperfine format subset)
time_pair() {
    local id=$1 a=$2 b=$3 ignore=${4:-}
    if command -v hyperfine >/dev/null 2>&1; then
        local flags=(--runs "$RUNS" --export-json "$RES/$id.json" --style basic)
        [ -n "$ignore" ] && flags+=(-i)
        hyperfine "${flags[@]}" -n airlock "$a" -n baseline "$b" >&2
    else
        python3 - "$RES/$id.json" "$RUNS" "$a" "$b" "$ignore" <<'PY' >&2
import json, resource, subprocess, sys, time
out, runs, cmds, ignore = sys.argv[1], int(sys.argv[2]), sys.argv[3:5], sys.argv[5]
results = []
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
for name, cmd in zip(["airlock", "baseline"], cmds):
    times, cpus = [], []
    for _ in range(runs):
        t, c = time.monotonic(), children_cpu()
        rc = subprocess.call(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - t)
        cpus.append(children_cpu() - c)
        if rc and not ignore:
            sys.exit(f"{name} exited {rc}: {cmd}")
    print(f"{name}: best {min(times):.3f}s mean {sum(times)/len(times):.3f}s cpu {min(cpus):.2f}s  {cmd}")
    results.append({"command": name, "min": min(times), "mean": sum(times) / len(times), "times": times,
                    "cpu": min(cpus), "cpus": cpus})
json.dump({"results": results}, open(out, "w"), indent=1)
PY
    fi
}

# peak RSS (KiB) and exit status of one run; output kept in $RES/ID.airlock.log
rss_run() { # id cmd...
    local id=$1 rc=0
    shift
    /usr/bin/time -v -o "$RES/$id.time" "$@" >"$RES/$id.airlock.log" 2>&1 || rc=$?
    RSS_KIB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$RES/$id.time")
    RUN_RC=$rc
}

# compare ID INPUT_LABEL RATIO_TARGET BASELINE_LABEL BASELINE_CMD -- AIRLOCK_ARGV...
# RATIO_TARGET "-" means report only. Warm-up must be done by the caller.
compare() {
    local id=$1 input=$2 target=$3 base_label=$4 base_cmd=$5
    shift 6
    local a_cmd
    a_cmd=$(printf '%q ' "$@")
    log "[$id] $input (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    rss_run "$id" "$@"
    local status=ok
    if ((RUN_RC != 0)); then
        status="airlock exit $RUN_RC"
        warn "[$id] airlock exited $RUN_RC; its output ($RES/$id.airlock.log):"
        sed 's/^/    | /' "$RES/$id.airlock.log" >&2
    fi
    time_pair "$id" "$a_cmd" "$base_cmd" "$([ "$status" = ok ] || echo ignore)"
    python3 - "$RES/$id.json" "$ROWS" "$id" "$input" "$target" "$RSS_KIB" "$status" \
        "$base_label" "$RSS_TARGET_MIB" "${AIRLOCK_LABEL:-airlock $2}" <<'PY'
import json, sys
res, rows, id_, input_, target, rss, status, base_label, rss_target, tool = sys.argv[1:]
r = {x["command"]: x for x in json.load(open(res))["results"]}
a, b = r["airlock"], r["baseline"]
ratio = a["min"] / b["min"]
# CPU seconds (user + system, the least of the runs; hyperfine gives means): on a shared
# machine the wall time depends on what else runs, the CPU time much less.
cpu = lambda x: x["cpu"] if "cpu" in x else x.get("user", 0) + x.get("system", 0)
a["cpu_s"], b["cpu_s"] = f"{cpu(a):.2f}", f"{cpu(b):.2f}"
notes = [status] if status != "ok" else []
if target != "-":
    notes.append(("meets" if ratio <= float(target) else "MISSES") + f" ratio target <= {target}")
else:
    notes.append("report only")
rss_mib = int(rss) / 1024
notes.append(("meets" if rss_mib <= float(rss_target) else "MISSES") + f" RSS target <= {rss_target} MiB")
with open(rows, "a") as f:
    f.write("\t".join([id_, tool, input_, f"{a['min']:.3f}", f"{a['mean']:.3f}",
                       f"{ratio:.2f}", target, f"{rss_mib:.1f}", "; ".join(notes), a["cpu_s"]]) + "\n")
    f.write("\t".join([id_, base_label, input_, f"{b['min']:.3f}", f"{b['mean']:.3f}",
                       "1.00", "", "", "baseline", b["cpu_s"]]) + "\n")
print(f"   -> {tool} {a['min']:.3f}s vs {base_label} {b['min']:.3f}s: ratio {ratio:.2f}"
      f" (target {target}), peak RSS {rss_mib:.1f} MiB", file=sys.stderr)
PY
}

# ---------------------------------------------------------------------------------------
# Sections: one function per comparison. To add one (e.g. `convert` later), write a
# bench_<name> function that ensures its inputs, warms them and calls `compare`, then add
# <name> to SECTIONS.
# ---------------------------------------------------------------------------------------

bench_docker_save() {
    ensure_docker_save
    warm "$DOCKER_SAVE"
    compare docker-save "docker-save.tar" 0.6 "openssl dgst -sha256 (one stream)" \
        "openssl dgst -sha256 $(printf %q "$DOCKER_SAVE")" \
        -- "$AIRLOCK" verify -q "$DOCKER_SAVE"
}

bench_oci() { # gzip|zstd
    local fmt=$1 dir=$WORK/oci-$1 list tool
    ensure_oci "$fmt"
    list=$(blob_list "$dir")
    [ "$fmt" = gzip ] && tool=pigz || tool=zstd
    warm "$dir"
    compare "oci-$fmt" "oci-$fmt/ (layout dir)" "$([ "$fmt" = gzip ] && echo 0.30 || echo 0.35)" \
        "per-blob openssl + $tool -dc | openssl (sequential)" \
        "bash $(printf %q "$BENCH/oci_baseline.sh") $(printf %q "$list")" \
        -- "$AIRLOCK" verify -q "$dir"
}
bench_oci_gzip() {
    bench_oci gzip
    work_floor oci-gzip "$WORK/oci-gzip" 0.30
}
bench_oci_zstd() {
    bench_oci zstd
    core_floor oci-zstd 5
}

# What the machine's cores can do: airlock's own CPU seconds (user + system) spread over
# every core is the least wall time any scheduling of that work could take; the wall time's
# excess over it is what the threading loses (a serial start, a tail where one layer is left,
# hand-offs). Taken from one run (the fastest; hyperfine gives means only, so there the
# means). Only meaningful on a quiet machine: other work on the cores counts as excess.
CORES=$RES/cores.tsv

core_floor() { # id goal-percent
    local id=$1 goal=$2
    python3 - "$RES/$id.json" "$id" "$goal" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" >>"$CORES" <<'PY'
import json, sys
res, id_, goal, cores, load = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
a = {x["command"]: x for x in json.load(open(res))["results"]}["airlock"]
if "cpus" in a:
    i = min(range(len(a["times"])), key=lambda k: a["times"][k])
    wall, cpu, which = a["times"][i], a["cpus"][i], "its fastest run"
elif "user" in a:
    wall, cpu, which = a["mean"], a["user"] + a["system"], "mean of the runs"
else:
    wall, cpu, which = a["min"], a["cpu"], "fastest and least-CPU runs"
floor = cpu / cores
excess = (wall / floor - 1) * 100
verdict = "meets" if excess <= goal else "MISSES"
print(f"{id_}\t{cores} cores: airlock used {cpu:.2f} CPU-s ({which}), so {cores} cores need at least "
      f"{floor:.3f} s; it took {wall:.3f} s: {excess:+.1f}% over that floor ({verdict} <= +{goal:g}%; load {load})")
PY
}

# What the work itself costs, whoever does it: the gzip layout's verify is sha256 of every
# stored blob, inflate of every gzip layer, and sha256 of what it inflates to. Each step is
# timed alone with the fastest single-purpose tool on this machine, user + system CPU, the
# least of BENCH_RUNS runs: inflate with ISA-L's igzip (Debian's `isal` package; else pigz)
# into /dev/null, sha256 with openssl (SHA-NI) over the stored blobs; the inflated bytes
# (counted once, untimed) are charged at the rate openssl hashed the stored ones. Spread
# over every core that is the least wall time any verifier could take, and against the
# baseline's best wall time the least ratio any could reach in this run. (airlock's own CPU
# for the verify is printed beside it: below the tools' sum, it has no waste to cut.)
work_floor() { # id layout-dir goal-ratio
    local id=$1 dir=$2 goal=$3 inflate
    if command -v igzip >/dev/null 2>&1; then inflate="igzip -dc"; else inflate="pigz -dc"; fi
    python3 - "$RES/$id.json" "$id" "$goal" "$(nproc)" "$RUNS" "$inflate" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$RES/$id.blobs" >>"$CORES" <<'PY'
import json, os, resource, subprocess, sys
res, id_, goal, cores, runs, inflate, load, blobs = sys.argv[1:]
cores, runs, goal = int(cores), int(runs), float(goal)
kinds = [l.split(" ", 1) for l in open(blobs).read().splitlines()]
stored = [p for _, p in kinds]
gz = [p for k, p in kinds if k == "gzip"]
q = lambda p: "'" + p.replace("'", "'\\''") + "'"
def cpu(cmd):
    best = None
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best = c if best is None else min(best, c)
    return best
sha_stored = cpu("openssl dgst -sha256 " + " ".join(q(p) for p in stored))
inflate_cpu = cpu("; ".join(f"{inflate} <{q(p)} >/dev/null" for p in gz))
stored_bytes = sum(os.path.getsize(p) for p in stored)
raw_bytes = sum(int(subprocess.run(f"{inflate} <{q(p)} | wc -c", shell=True, check=True,
                                   capture_output=True, text=True).stdout) for p in gz)
sha_raw = raw_bytes * sha_stored / stored_bytes
work = sha_stored + inflate_cpu + sha_raw
r = {x["command"]: x for x in json.load(open(res))["results"]}
base = r["baseline"]["min"]
mine = r["airlock"]["cpu"] if "cpu" in r["airlock"] else r["airlock"]["user"] + r["airlock"]["system"]
floor = work / cores
ratio = floor / base
verdict = "within reach" if ratio <= goal else "OUT OF REACH"
print(f"{id_}\tthe work itself: {inflate.split()[0]} inflates {raw_bytes / 1e9:.2f} GB in {inflate_cpu:.2f} CPU-s, "
      f"sha256 of {stored_bytes / 1e9:.2f} GB stored takes {sha_stored:.2f} and of the inflated bytes "
      f"{sha_raw:.2f} at that rate: {work:.2f} CPU-s (airlock's verify: {mine:.2f}), so {cores} cores need at "
      f"least {floor:.3f} s for it, a ratio of "
      f"{ratio:.2f} against this run's baseline ({base:.3f} s): the goal <= {goal:g} is {verdict} for any "
      f"verifier (load {load})")
PY
}

bench_wrapped() { # zst|gz
    local ext=$1 f=$DOCKER_SAVE.$1 tool
    ensure_wrapped "$ext"
    [ "$ext" = zst ] && tool="zstd -dcq" || tool="pigz -dc"
    warm "$f"
    compare "wrapped-$ext" "docker-save.tar.$ext" - "$tool | openssl dgst -sha256" \
        "$tool $(printf %q "$f") | openssl dgst -sha256" \
        -- "$AIRLOCK" verify -q "$f"
}
bench_wrapped_zst() { bench_wrapped zst; }
bench_wrapped_gz() { bench_wrapped gz; }

# convert: the output is removed before each run (airlock refuses to overwrite, and skopeo
# would add to an existing layout). Output sizes go to $SIZES and into the report.
SIZES=$RES/sizes.tsv

bench_convert_gzip() {
    ensure_docker_save
    warm "$DOCKER_SAVE"
    local a=$WORK/convert-airlock b=$WORK/convert-skopeo
    AIRLOCK_LABEL="airlock convert" compare convert-gzip "docker-save.tar -> OCI, gzip layers" 0.40 \
        "skopeo copy docker-archive: -> oci:" \
        "rm -rf $(printf %q "$b") && skopeo copy -q --insecure-policy docker-archive:$(printf %q "$DOCKER_SAVE") oci:$(printf %q "$b"):app" \
        -- bash -c 'rm -rf "$1" && exec "$2" convert -q "$3" --to oci --compression gzip -o "$1"' _ "$a" "$AIRLOCK" "$DOCKER_SAVE"
    local sa sb
    sa=$(du -sb "$a" | cut -f1)
    sb=$(du -sb "$b" | cut -f1)
    printf 'convert-gzip\tairlock %s bytes, skopeo %s bytes: %+.1f%% (target <= +3%%)\n' "$sa" "$sb" \
        "$(python3 -c "print(($sa / $sb - 1) * 100)")" >>"$SIZES"
    rm -rf "$a" "$b"
}

bench_convert_keep() {
    ensure_docker_save
    warm "$DOCKER_SAVE"
    local a=$WORK/convert-keep c=$WORK/convert-copy.tar
    AIRLOCK_LABEL="airlock convert" compare convert-keep "docker-save.tar -> OCI, --compression keep" - "cp (copy the bytes)" \
        "rm -f $(printf %q "$c") && cp $(printf %q "$DOCKER_SAVE") $(printf %q "$c") && sync -f $(printf %q "$WORK")" \
        -- bash -c 'rm -rf "$1" && "$2" convert -q "$3" --to oci -o "$1" && sync -f "$1"' _ "$a" "$AIRLOCK" "$DOCKER_SAVE"
    rm -rf "$a" "$c"
}

# verify --lock against plain verify: holding the inputs against a lock must cost nothing
# measurable (the baseline here is airlock's own verify).
bench_verify_lock() {
    ensure_docker_save
    warm "$DOCKER_SAVE"
    local l=$WORK/docker-save.lock
    "$AIRLOCK" lock -q "$DOCKER_SAVE" -o "$l"
    AIRLOCK_LABEL="airlock verify --lock" compare verify-lock "docker-save.tar" - "airlock verify (no lock)" \
        "$(printf %q "$AIRLOCK") verify -q $(printf %q "$DOCKER_SAVE")" \
        -- "$AIRLOCK" verify -q --lock "$l" "$DOCKER_SAVE"
}

# A k3s-style airgap archive: 20 images sharing two base layers (bench/make_airgap.py), as
# a plain tar, as k3s ships it (.tar.zst, with a 32 MiB window), and inside a Harbor-style
# installer (.tgz holding harbor/harbor.v2.tar.gz, a gzip docker-save: a bundle).
AIRGAP=$WORK/k3s-airgap-images-amd64.tar

ensure_airgap() {
    [ -f "$AIRGAP" ] && return
    local t
    log "building $AIRGAP (20 images, shared bases) from real files"
    t=$(now)
    (cd "$BENCH" && python3 make_airgap.py "$AIRGAP.partial") | tee "$WORK/airgap.summary"
    "$AIRLOCK" verify -q "$AIRGAP.partial" || die "airlock verify rejects the generated $AIRGAP.partial"
    mv "$AIRGAP.partial" "$AIRGAP"
    record_build "$(basename "$AIRGAP")" "$t"
}

ensure_airgap_zst() {
    [ -f "$AIRGAP.zst" ] && return
    ensure_airgap
    local t
    t=$(now)
    # k3s's own packaging compresses with --long=25 (a 32 MiB window: what its loader takes).
    zstd -T0 -10 --long=25 -q -f "$AIRGAP" -o "$AIRGAP.zst.partial"
    mv "$AIRGAP.zst.partial" "$AIRGAP.zst"
    record_build "$(basename "$AIRGAP").zst" "$t"
}

HARBOR=$WORK/harbor-offline-installer-v2.tgz

ensure_harbor() {
    [ -f "$HARBOR" ] && return
    ensure_airgap
    local t d=$WORK/harbor-src
    t=$(now)
    rm -rf "$d" && mkdir -p "$d/harbor"
    pigz -6 -c "$AIRGAP" >"$d/harbor/harbor.v2.tar.gz"
    printf '#!/bin/sh\ndocker load -i harbor.v2.tar.gz\n' >"$d/harbor/install.sh"
    printf 'hostname: reg.example\n' >"$d/harbor/harbor.yml.tmpl"
    tar -C "$d" -cf - harbor | pigz -6 >"$HARBOR.partial"
    rm -rf "$d"
    mv "$HARBOR.partial" "$HARBOR"
    record_build "$(basename "$HARBOR")" "$t"
}

bench_airgap_zst() {
    ensure_airgap_zst
    warm "$AIRGAP.zst"
    compare airgap-zst "k3s-airgap-images-amd64.tar.zst (20 images)" - \
        "zstd -dc | openssl dgst -sha256 (one stream)" \
        "zstd -dcq --long=25 $(printf %q "$AIRGAP.zst") | openssl dgst -sha256" \
        -- "$AIRLOCK" verify -q "$AIRGAP.zst"
}

# What a user verifying the images one by one would run: skopeo copies (and checks) each
# image of the multi-image archive in turn, by index, to a dir: (layers kept as they are,
# so skopeo does no compression work airlock does not do).
bench_airgap_skopeo() {
    ensure_airgap
    warm "$AIRGAP"
    local o=$WORK/airgap-skopeo
    compare airgap-skopeo "k3s-airgap-images-amd64.tar (20 images)" - \
        "skopeo copy docker-archive:…:@N -> dir: (each image)" \
        "rm -rf $(printf %q "$o") && mkdir -p $(printf %q "$o") && for i in \$(seq 0 19); do skopeo copy -q --insecure-policy docker-archive:$(printf %q "$AIRGAP"):@\$i dir:$(printf %q "$o")/\$i || exit 1; done; rm -rf $(printf %q "$o")" \
        -- "$AIRLOCK" verify -q "$AIRGAP"
}

bench_bundle_tgz() {
    ensure_harbor
    warm "$HARBOR"
    compare bundle-tgz "harbor-offline-installer-v2.tgz (bundle: 20 images)" - \
        "tar -xzO member | pigz -dc | openssl dgst -sha256" \
        "tar -xzOf $(printf %q "$HARBOR") harbor/harbor.v2.tar.gz | pigz -dc | openssl dgst -sha256" \
        -- "$AIRLOCK" verify -q "$HARBOR"
}

SECTIONS=(docker-save oci-gzip oci-zstd wrapped-zst wrapped-gz convert-gzip convert-keep verify-lock
    airgap-zst airgap-skopeo bundle-tgz)

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

machine_info() {
    local cpu
    cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
    printf -- '- machine: %s, %s cores, %s GiB RAM%s\n' "$cpu" "$(nproc)" \
        "$(awk '/MemTotal/ { printf "%d", $2 / 1048576 + 0.5 }' /proc/meminfo)" \
        "$(grep -qw sha_ni /proc/cpuinfo && echo ', SHA-NI' || true)"
    printf -- '- airlock: %s (git %s%s)\n' "$("$AIRLOCK" --version 2>/dev/null)" \
        "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified')"
    printf -- '- %s; pigz %s; zstd %s; %s\n' "$(openssl version | cut -d' ' -f1-2)" \
        "$(pigz --version 2>&1 | awk '{ print $2 }')" \
        "$(zstd --version | grep -o 'v[0-9.]*' | head -1)" \
        "$(hyperfine --version 2>/dev/null || echo 'no hyperfine')"
    printf -- '- load average at the end: %s (other work on the machine skews timings)\n' \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- input: docker-save.tar %s (%s layers), best of %s warm-cache runs\n' \
        "$(du -h --apparent-size "$DOCKER_SAVE" 2>/dev/null | cut -f1)" "$LAYERS" "$RUNS"
}

print_table() {
    printf '\n### airlock benchmark (%s)\n\n' "$(date -u +%F)"
    machine_info
    printf '\n| tool | input | seconds (best of %s) | mean | CPU s | ratio | CPU ratio | target | peak RSS | notes |\n' "$RUNS"
    printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n'
    awk -F'\t' '{
        gsub(/\|/, "\\|", $2); gsub(/\|/, "\\|", $3)
        ratio = ($9 == "baseline") ? "" : $6
        if ($9 != "baseline") { acpu = $10 } else { cratio = ($10 > 0) ? sprintf("%.2f", acpu / $10) : "" }
        rss = ($8 == "") ? "" : $8 " MiB"
        tgt = ($7 == "" || $7 == "-") ? "" : "<= " $7
        # An airlock row is printed once its baseline (the next row) gives the CPU ratio.
        if ($9 != "baseline") { split($2 "\t" $3 "\t" $4 "\t" $5 "\t" $10 "\t" ratio "\t" tgt "\t" rss "\t" $9, a, "\t") }
        else {
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", a[1], a[2], a[3], a[4], a[5], a[6], cratio, a[7], a[8], a[9]
            printf "| %s | %s | %s | %s | %s | | | | | |\n", $2, $3, $4, $5, $10
        }
    }' "$ROWS"
    printf '\nratio = airlock best / baseline best wall time; CPU ratio = airlock / baseline CPU seconds\n'
    printf '(user + system; lower is better). Warm page cache: every input\n'
    printf 'was read once before its runs; dropping caches is not possible here. Peak RSS is\n'
    printf "from one extra run under /usr/bin/time -v; RSS target <= %s MiB.\n" "$RSS_TARGET_MIB"
    if [ -s "$SIZES" ]; then
        printf '\nOutput sizes:\n\n'
        sed 's/^[^\t]*\t/- /' "$SIZES"
    fi
    if [ -s "$CORES" ]; then
        printf '\nWall time against the cores (CPU-s / cores as the floor):\n\n'
        sed 's/^[^\t]*\t/- /' "$CORES"
    fi
}

main() {
    local sections=() s
    for s in "$@"; do
        case $s in
            -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            --list) printf '%s\n' "${SECTIONS[@]}"; exit 0 ;;
            *) printf '%s\n' "${SECTIONS[@]}" | grep -qx -- "$s" || die "unknown section '$s' (--list)"
               sections+=("$s") ;;
        esac
    done
    ((${#sections[@]})) || sections=("${SECTIONS[@]}")

    need_tools
    build_airlock
    mkdir -p "$RES"
    : >"$ROWS"
    : >"$SIZES"
    : >"$CORES"
    for s in "${sections[@]}"; do
        "bench_${s//-/_}"
    done
    print_table | tee "$RES/table.md"
    if [ -s "$BUILD_LOG" ]; then
        printf '\nInput build times (bench/work/build-times.tsv):\n'
        column -t -s $'\t' "$BUILD_LOG" 2>/dev/null || cat "$BUILD_LOG"
    fi
    printf '\nbench/work uses %s on disk. Results: %s\n' "$(du -sh "$WORK" | cut -f1)" "$RES"
}

main "$@"
