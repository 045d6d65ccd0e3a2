#!/usr/bin/env bash
# Real container runtimes for airlock's tests and fixtures: private daemons, each on its own
# unix socket in one state directory, with no network, no bridge and no iptables.
#
# Usage:
#   source scripts/real-tools.sh [up]     # install if missing, start (or reuse) the runtimes
#   source scripts/real-tools.sh down     # stop them
#   bash scripts/real-tools.sh up|down|status|install
#
# The state directory is $AIRLOCK_TOOLS_DIR (default /tmp/airlock-tools). `up` leaves in it:
#   airlock-real-tools  the marker: the tests use a runtime only if its state directory holds
#                       this file (written by this script only) and the runtime is listed in
#   runtimes            one line per runtime, tab-separated:
#                         NAME  KIND  STATE  ENDPOINT  CLI  DETAIL
#                       NAME as a --target (docker@20.10), KIND docker|containerd|podman,
#                       STATE up|failed, ENDPOINT the daemon's socket (podman: the directory
#                       its private stores go under), CLI the client to run, DETAIL the
#                       version, or why it did not come up
#   docker/, containerd/, podman-4.3/
#                       one directory per runtime: data root, exec root, pidfile, socket, log
#   bin/                wrappers bound to them: docker-20.10, ctr-1.6, podman-4.3
# The tests also check each daemon before using it: dockerd must report its data root, and
# containerd its content store, inside this state directory.
#
# Exports AIRLOCK_TOOLS_DIR (absolute), AIRLOCK_DOCKER (the docker-20.10 wrapper) and
# AIRLOCK_CONTAINERD_SOCK. It never sets DOCKER_HOST: nothing here talks to the Docker the
# environment points at, and neither do the tests.
#
# Environment:
#   AIRLOCK_TOOLS_DIR   the state directory (see above)
#   AIRLOCK_TOOLS_WAIT  seconds to wait for each daemon to answer (default 60)
#
# Needs root (dockerd, containerd). Works with CI=true and no stdin. Idempotent: a daemon
# that is already running from the same state directory and answers is reused.

_airlock_tools_dir() {
    local d=${AIRLOCK_TOOLS_DIR:-/tmp/airlock-tools}
    mkdir -p "$d" && (cd "$d" && pwd -P)
}

_airlock_log() { printf 'real-tools: %s\n' "$*" >&2; }

# Which Debian package provides which command we need.
_airlock_tools_missing() {
    local missing="" pair cmd pkg
    for pair in dockerd:docker.io /usr/bin/docker:docker.io containerd:containerd ctr:containerd \
                runc:runc skopeo:skopeo podman:podman umoci:umoci zstd:zstd pigz:pigz \
                /bin/busybox:busybox-static python3:python3 /usr/bin/time:time; do
        cmd=${pair%%:*}; pkg=${pair#*:}
        if [ "${cmd#/}" != "$cmd" ]; then
            [ -x "$cmd" ] && continue
        else
            command -v "$cmd" >/dev/null 2>&1 && continue
        fi
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    done
    # busybox (dynamic) also provides /bin/busybox; we want the static one for `docker import`.
    if [ -x /bin/busybox ] && ! dpkg -s busybox-static >/dev/null 2>&1 \
        && command -v file >/dev/null 2>&1 && ! file -L /bin/busybox | grep -q 'statically linked'; then
        case " $missing " in *" busybox-static "*) ;; *) missing="$missing busybox-static" ;; esac
    fi
    printf '%s' "${missing# }"
}

airlock_tools_install() {
    local missing
    missing=$(_airlock_tools_missing)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        _airlock_log "missing packages ($missing) and not root: install them with apt-get"
        return 1
    fi
    _airlock_log "installing: $missing"
    local stamp
    stamp="$(_airlock_tools_dir)/.apt-updated"
    if [ ! -e "$stamp" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null \
            || { _airlock_log "apt-get update failed"; return 1; }
        touch "$stamp"
    fi
    # Do not let the packages' maintainer scripts start system daemons.
    local made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends $missing </dev/null
    local rc=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    if [ $rc != 0 ]; then _airlock_log "apt-get install failed ($rc)"; return 1; fi
}

_airlock_pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

_airlock_wait() { # seconds command...
    local secs=$1 i=0; shift
    while [ $i -lt "$secs" ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1; i=$((i + 1))
    done
    return 1
}

# ------------------------------------------------------------------------------------------
# One daemon each. Every start function takes the runtime's directory and its binaries, and
# returns non-zero with the reason on stderr when the daemon does not answer.
# ------------------------------------------------------------------------------------------

# dockerd DIR DOCKERD CLI PATH_PREFIX [extra dockerd args...]: its own data root, exec root,
# pidfile and socket; PATH_PREFIX (may be empty) goes first in PATH, so that dockerd starts
# the containerd, shim and runc found there.
_airlock_dockerd_start() {
    local d=$1 dockerd=$2 cli=$3 prefix=$4 wait=${AIRLOCK_TOOLS_WAIT:-60}; shift 4
    mkdir -p "$d"
    if _airlock_pid_alive "$d/pid"; then
        _airlock_wait "$wait" env -u DOCKER_CONTEXT DOCKER_HOST="unix://$d/sock" "$cli" version && return 0
        _airlock_log "dockerd (pid $(cat "$d/pid")) runs but does not answer on $d/sock; see $d/log"
        return 1
    fi
    rm -f "$d/pid" "$d/sock"
    _airlock_log "starting $dockerd (state in $d)"
    PATH="${prefix:+$prefix:}$PATH" setsid "$dockerd" --data-root "$d/root" --exec-root "$d/exec" \
        --pidfile "$d/pid" --host "unix://$d/sock" --iptables=false --ip6tables=false \
        --bridge=none "$@" >"$d/log" 2>&1 </dev/null &
    if ! _airlock_wait "$wait" env -u DOCKER_CONTEXT DOCKER_HOST="unix://$d/sock" "$cli" version; then
        _airlock_log "dockerd did not answer within ${wait}s on $d/sock; last log lines:"
        tail -n 30 "$d/log" >&2
        return 1
    fi
}

# containerd DIR CONTAINERD CTR: its own root, state, config and socket.
_airlock_containerd_start() {
    local c=$1 containerd=$2 ctr=$3 wait=${AIRLOCK_TOOLS_WAIT:-60}
    mkdir -p "$c"
    if _airlock_pid_alive "$c/pid"; then
        _airlock_wait "$wait" "$ctr" -a "$c/sock" version && return 0
        _airlock_log "containerd (pid $(cat "$c/pid")) runs but does not answer on $c/sock; see $c/log"
        return 1
    fi
    rm -f "$c/pid" "$c/sock"
    printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/sock"\n' \
        "$c" "$c" "$c" >"$c/config.toml"
    _airlock_log "starting $containerd (state in $c)"
    # The shell that execs containerd writes its own pid (setsid may fork first).
    setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$c/pid" "$containerd" --config "$c/config.toml" \
        >"$c/log" 2>&1 </dev/null &
    if ! _airlock_wait "$wait" "$ctr" -a "$c/sock" version; then
        _airlock_log "containerd did not answer within ${wait}s on $c/sock; last log lines:"
        tail -n 30 "$c/log" >&2
        return 1
    fi
}

# ------------------------------------------------------------------------------------------
# The runtimes file, the marker and the wrappers
# ------------------------------------------------------------------------------------------

_airlock_record() { # NAME KIND STATE ENDPOINT CLI DETAIL
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(printf '%s' "$6" | tr '\t\n' '  ')" \
        >>"$(_airlock_tools_dir)/runtimes.new"
}

_airlock_wrapper() { # FILE LINES...: a /bin/sh wrapper
    local f=$1; shift
    { printf '#!/bin/sh\n# Written by scripts/real-tools.sh.\n'; printf '%s\n' "$@"; } >"$f.tmp"
    chmod 755 "$f.tmp" && mv "$f.tmp" "$f"
}

# A docker runtime: start it, record it, write bin/docker-VERSION.
_airlock_docker_runtime() { # NAME SUBDIR DOCKERD CLI PATH_PREFIX [dockerd args...]
    local name=$1 sub=$2 dockerd=$3 cli=$4 prefix=$5 dir v; shift 5
    dir="$(_airlock_tools_dir)/$sub"
    if _airlock_dockerd_start "$dir" "$dockerd" "$cli" "$prefix" "$@"; then
        v=$(env -u DOCKER_CONTEXT DOCKER_HOST="unix://$dir/sock" "$cli" version --format '{{.Server.Version}}' 2>&1)
        _airlock_record "$name" docker up "unix://$dir/sock" "$cli" "$v"
        _airlock_wrapper "$(_airlock_tools_dir)/bin/docker-${name#docker@}" \
            "unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH" \
            "export DOCKER_HOST=unix://$dir/sock DOCKER_BUILDKIT=0" "exec $cli \"\$@\""
    else
        _airlock_record "$name" docker failed "unix://$dir/sock" "$cli" "dockerd did not come up; see $dir/log"
        return 1
    fi
}

_airlock_containerd_runtime() { # NAME SUBDIR CONTAINERD CTR
    local name=$1 sub=$2 containerd=$3 ctr=$4 dir v
    dir="$(_airlock_tools_dir)/$sub"
    if _airlock_containerd_start "$dir" "$containerd" "$ctr"; then
        v=$("$ctr" -a "$dir/sock" version 2>&1 | awk '/Server:/ {s=1} s && /Version:/ {print $2; exit}')
        _airlock_record "$name" containerd up "$dir/sock" "$ctr" "$v"
        _airlock_wrapper "$(_airlock_tools_dir)/bin/ctr-${name#containerd@}" "exec $ctr -a $dir/sock \"\$@\""
    else
        _airlock_record "$name" containerd failed "$dir/sock" "$ctr" "containerd did not come up; see $dir/log"
        return 1
    fi
}

# podman has no daemon: record the binary, and a wrapper that keeps its stores (vfs) under
# the state directory, away from the machine's own.
_airlock_podman_runtime() { # NAME SUBDIR PODMAN
    local name=$1 sub=$2 podman=$3 dir v
    dir="$(_airlock_tools_dir)/$sub"
    mkdir -p "$dir"
    if v=$(env -u CONTAINER_HOST -u CONTAINER_CONNECTION "$podman" --version 2>&1); then
        _airlock_record "$name" podman up "$dir" "$podman" "${v##* }"
        _airlock_wrapper "$(_airlock_tools_dir)/bin/podman-${name#podman@}" \
            "unset CONTAINER_HOST CONTAINER_CONNECTION CONTAINERS_CONF CONTAINERS_STORAGE_CONF" \
            "exec $podman --remote=false --root $dir/root --runroot $dir/run --tmpdir $dir/tmp --storage-driver vfs --cgroup-manager cgroupfs --events-backend none \"\$@\""
    else
        _airlock_record "$name" podman failed "$dir" "$podman" "$podman --version: $v"
        return 1
    fi
}

airlock_tools_up() {
    airlock_tools_install || return 1
    local dir rc=0; dir=$(_airlock_tools_dir) || return 1
    mkdir -p "$dir/bin"
    printf 'airlock real-tools state directory, format 1\n' >"$dir/airlock-real-tools"
    : >"$dir/runtimes.new"
    _airlock_docker_runtime docker@20.10 docker "$(command -v dockerd)" /usr/bin/docker "" \
        --storage-driver vfs || rc=1
    _airlock_containerd_runtime containerd@1.6 containerd "$(command -v containerd)" "$(command -v ctr)" || rc=1
    _airlock_podman_runtime podman@4.3 podman-4.3 "$(command -v podman)" || rc=1
    mv "$dir/runtimes.new" "$dir/runtimes"
    export AIRLOCK_TOOLS_DIR="$dir"
    export AIRLOCK_DOCKER="$dir/bin/docker-20.10"
    export AIRLOCK_CONTAINERD_SOCK="$dir/containerd/sock"
    _airlock_log "AIRLOCK_TOOLS_DIR=$dir; runtimes:"
    cut -f1,3,6 "$dir/runtimes" | sed 's/^/  /; s/\t/  /g' >&2
    return $rc
}

_airlock_stop() { # name pidfile
    local name=$1 pf=$2 pid i=0
    _airlock_pid_alive "$pf" || { rm -f "$pf"; return 0; }
    pid=$(cat "$pf")
    _airlock_log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        _airlock_log "$name (pid $pid) still running after 30s; sending SIGKILL"
        kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$pf"
}

airlock_tools_down() {
    local dir pf; dir=$(_airlock_tools_dir)
    for pf in "$dir"/*/pid; do
        [ -e "$pf" ] && _airlock_stop "$(basename "$(dirname "$pf")")" "$pf"
    done
    rm -f "$dir/runtimes"
    return 0
}

airlock_tools_status() {
    local dir rc=0 name kind state endpoint cli detail; dir=$(_airlock_tools_dir)
    [ -f "$dir/runtimes" ] || { echo "no runtimes in $dir"; return 1; }
    while IFS=$'\t' read -r name kind state endpoint cli detail; do
        if [ "$state" = up ] && [ "$kind" != podman ] && ! _airlock_pid_alive "$(dirname "${endpoint#unix://}")/pid"; then
            state=stopped
        fi
        [ "$state" = up ] || rc=1
        printf '%s: %s, %s (%s)\n' "$name" "$state" "$endpoint" "$detail"
    done <"$dir/runtimes"
    return $rc
}

_airlock_tools_main() {
    case "${1:-up}" in
        up) airlock_tools_up ;;
        down) airlock_tools_down ;;
        status) airlock_tools_status ;;
        install) airlock_tools_install ;;
        *) echo "usage: real-tools.sh [up|down|status|install]" >&2; return 2 ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _airlock_tools_main "$@"
    exit $?
else
    # Sourced: act on the first argument only when it is one of ours (`source` without
    # arguments passes the caller's), default `up`.
    case "${1:-}" in
        up|down|status|install) _airlock_tools_main "$1" ;;
        *) _airlock_tools_main up ;;
    esac
fi
