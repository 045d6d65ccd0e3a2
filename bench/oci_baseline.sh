#!/usr/bin/env bash
# The shell baseline for verifying an OCI layout: every blob, one after the other, is hashed
# with openssl; a compressed layer is also decompressed and the stream hashed (its diffID).
#
#   bash bench/oci_baseline.sh LIST
#
# LIST has one "KIND PATH" line per blob (KIND: gzip, zstd or raw), written by bench/run.sh
# from each blob's magic bytes, so the timed part does no detection. Prints the digests.
set -euo pipefail
while read -r kind path; do
    case $kind in
        gzip) openssl dgst -sha256 -r "$path"; pigz -dc "$path" | openssl dgst -sha256 -r ;;
        zstd) openssl dgst -sha256 -r "$path"; zstd -dcq "$path" | openssl dgst -sha256 -r ;;
        raw) openssl dgst -sha256 -r "$path" ;;
        *) echo "oci_baseline: unknown kind $kind" >&2; exit 2 ;;
    esac
done <"$1"
