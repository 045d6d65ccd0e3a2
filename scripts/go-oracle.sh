#!/usr/bin/env bash
# The Go toolchain for airlock's differential tests (tests/differential_fuzz.rs builds
# tests/go-oracle with it into target/ once per test run): Debian's golang-go.
#
# Usage: bash scripts/go-oracle.sh        # install golang-go if `go` is missing, print its version
#
# Idempotent and quick when Go is there. Needs root (apt-get) only when it installs.
# Which Go: Debian 12's golang-go, Go 1.19, the Go of Debian's docker 20.10 and containerd
# 1.6. With Debian 13's Go 1.24.4 as the oracle the fuzz gives the same outcomes; Go
# 1.24.8/1.25.2 and later also refuse a GNU 1.0 sparse map over 1 MiB (errSparseTooLong),
# which airlock refuses too. README.md ("Go as the oracle") has the details.
# AIRLOCK_GO=/path/to/go picks another Go.
set -euo pipefail

if ! command -v "${AIRLOCK_GO:-go}" >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "go-oracle: no Go toolchain and not root: apt-get install golang-go" >&2
        exit 1
    fi
    echo "go-oracle: installing golang-go" >&2
    export DEBIAN_FRONTEND=noninteractive
    # An update only when the package lists do not know golang-go yet.
    if ! apt-cache show golang-go >/dev/null 2>&1; then
        apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null
    fi
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends golang-go </dev/null >/dev/null
fi
"${AIRLOCK_GO:-go}" version
