#!/usr/bin/env bash
# Issue 21's codec comparison: inflate and deflate the bench's real layers with zlib-rs
# (airlock's flate2 backend), zlib-ng, ISA-L and libdeflate, one thread each, timed in CPU
# seconds of that thread (the machine is shared; wall time is not a measure here).
#
#   bash bench/codecs.sh               # after bash bench/run.sh oci-gzip has built the inputs
#
# Inflate: the gzip layers of bench/work/oci-gzip (written by skopeo), streamed 128 KiB at a
# time with the CRC-32 (libdeflate: whole buffers, as it only can). Deflate: the same layers
# decompressed, in 1 MiB blocks as convert cuts them: zlib-rs/zlib-ng/ISA-L primed with the
# previous block's 32 KiB and sync-flushed into one member, libdeflate one member per block.
# Peak RSS per run from /usr/bin/time. Needs nasm, autoconf, automake, libtool (ISA-L),
# cmake (zlib-ng), pigz.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${BENCH_WORK:-$ROOT/bench/work}
B=$ROOT/bench/codecs
cargo build --release --quiet --manifest-path "$B/Cargo.toml" --target-dir "$WORK/codecs-rs"
cargo build --release --quiet --manifest-path "$B/Cargo.toml" --target-dir "$WORK/codecs-ng" \
    --no-default-features --features ng
RS=$WORK/codecs-rs/release/airlock-codec-bench
NG=$WORK/codecs-ng/release/airlock-codec-bench
mapfile -t GZ < <(find "$WORK/oci-gzip/blobs/sha256" -type f -size +1M | sort)
mkdir -p "$WORK/raw"
RAW=()
for f in "${GZ[@]}"; do
    r=$WORK/raw/$(basename "$f").tar
    [ -f "$r" ] || pigz -dc "$f" >"$r"
    RAW+=("$r")
done
run() { /usr/bin/time -f '\t%M KiB peak RSS' "$@" 2>&1 | paste -s; }
for round in 1 2 3; do
    for spec in "$RS flate2" "$NG flate2" "$RS isal" "$RS libdeflate"; do
        # shellcheck disable=SC2086
        set -- $spec
        printf 'round %s\t' "$round"
        run "$1" inflate "$2" 0 "${GZ[@]}"
    done
done
for spec in "$RS flate2 1" "$RS flate2 2" "$RS flate2 6" "$NG flate2 2" "$NG flate2 4" \
    "$RS isal 1" "$RS isal 2" "$RS isal 3" "$RS libdeflate 1" "$RS libdeflate 2" "$RS libdeflate 4" "$RS libdeflate 6"; do
    # shellcheck disable=SC2086
    set -- $spec
    run "$1" deflate "$2" "$3" "${RAW[@]}"
done
# The content-adaptive mix (ISA-L for blocks whose samples compress to >= MIX_AT, libdeflate 1
# for the rest), at three thresholds, with ISA-L levels 1 and 2.
for at in 0.5 0.55 0.6; do
    for level in 1 2; do
        printf 'MIX_AT=%s\t' "$at"
        MIX_AT=$at run "$RS" deflate mix "$level" "${RAW[@]}"
    done
done
