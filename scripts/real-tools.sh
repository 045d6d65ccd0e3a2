#!/usr/bin/env bash
# Real container tools for airlock's tests and fixtures: a private dockerd and a private
# containerd, each on its own unix socket, with no network, no bridge and no iptables.
#
# Usage:
#   source scripts/real-tools.sh          # install if missing, start (or reuse) both daemons,
#                                         # export DOCKER_HOST and AIRLOCK_CONTAINERD_SOCK
#   source scripts/real-tools.sh down     # stop them
#   bash scripts/real-tools.sh up|down|status|install
#
# Environment:
#   AIRLOCK_TOOLS_DIR   state directory (default /tmp/airlock-tools); dockerd lives in
#                       $AIRLOCK_TOOLS_DIR/docker, containerd in $AIRLOCK_TOOLS_DIR/containerd
#   AIRLOCK_TOOLS_ENV   if set, `up` writes DOCKER_HOST=... and AIRLOCK_CONTAINERD_SOCK=...
#                       to this file (KEY=VALUE lines; sourceable by sh)
#   AIRLOCK_TOOLS_WAIT  seconds to wait for each daemon to answer (default 60)
#
# Needs root (dockerd, containerd). Works with CI=true and no stdin. Idempotent: a daemon
# that is already running from the same state directory and answers is reused.
#
# Note: this uses Debian's docker CLI (/usr/bin/docker, 20.10) when it is there, as
# $AIRLOCK_DOCKER; a newer `docker` earlier in PATH also talks to the 20.10 daemon, but
# builds with DOCKER_BUILDKIT=0 to get the classic builder.

_airlock_tools_dir() { printf '%s' "${AIRLOCK_TOOLS_DIR:-/tmp/airlock-tools}"; }

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
    mkdir -p "$(_airlock_tools_dir)"
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

_airlock_docker_bin() {
    if [ -x /usr/bin/docker ]; then printf /usr/bin/docker; else command -v docker; fi
}

_airlock_wait() { # name seconds command...
    local name=$1 secs=$2 i=0; shift 2
    while [ $i -lt "$secs" ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1; i=$((i + 1))
    done
    return 1
}

airlock_dockerd_up() {
    local d wait
    d="$(_airlock_tools_dir)/docker"; wait=${AIRLOCK_TOOLS_WAIT:-60}
    mkdir -p "$d"
    local docker; docker=$(_airlock_docker_bin)
    if _airlock_pid_alive "$d/pid"; then
        if _airlock_wait dockerd "$wait" env DOCKER_HOST="unix://$d/sock" "$docker" version; then
            return 0
        fi
        _airlock_log "dockerd (pid $(cat "$d/pid")) runs but does not answer on $d/sock; see $d/log"
        return 1
    fi
    rm -f "$d/pid" "$d/sock"
    _airlock_log "starting dockerd (state in $d)"
    setsid dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/pid" \
        --host "unix://$d/sock" --storage-driver vfs --iptables=false --ip6tables=false \
        --bridge=none >"$d/log" 2>&1 </dev/null &
    if ! _airlock_wait dockerd "$wait" env DOCKER_HOST="unix://$d/sock" "$docker" version; then
        _airlock_log "dockerd did not answer within ${wait}s on $d/sock; last log lines:"
        tail -n 30 "$d/log" >&2
        return 1
    fi
}

airlock_containerd_up() {
    local c wait
    c="$(_airlock_tools_dir)/containerd"; wait=${AIRLOCK_TOOLS_WAIT:-60}
    mkdir -p "$c"
    if _airlock_pid_alive "$c/pid"; then
        if _airlock_wait containerd "$wait" ctr -a "$c/sock" version; then return 0; fi
        _airlock_log "containerd (pid $(cat "$c/pid")) runs but does not answer on $c/sock; see $c/log"
        return 1
    fi
    rm -f "$c/pid" "$c/sock"
    printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/sock"\n' \
        "$c" "$c" "$c" >"$c/config.toml"
    _airlock_log "starting containerd (state in $c)"
    setsid containerd --config "$c/config.toml" >"$c/log" 2>&1 </dev/null &
    echo $! >"$c/pid"
    if ! _airlock_wait containerd "$wait" ctr -a "$c/sock" version; then
        _airlock_log "containerd did not answer within ${wait}s on $c/sock; last log lines:"
        tail -n 30 "$c/log" >&2
        return 1
    fi
}

airlock_tools_up() {
    airlock_tools_install || return 1
    airlock_dockerd_up || return 1
    airlock_containerd_up || return 1
    local dir; dir=$(_airlock_tools_dir)
    export DOCKER_HOST="unix://$dir/docker/sock"
    export AIRLOCK_CONTAINERD_SOCK="$dir/containerd/sock"
    AIRLOCK_DOCKER=$(_airlock_docker_bin); export AIRLOCK_DOCKER
    export DOCKER_BUILDKIT=0
    if [ -n "${AIRLOCK_TOOLS_ENV:-}" ]; then
        printf 'DOCKER_HOST=%s\nAIRLOCK_CONTAINERD_SOCK=%s\n' "$DOCKER_HOST" "$AIRLOCK_CONTAINERD_SOCK" \
            >"$AIRLOCK_TOOLS_ENV"
    fi
    _airlock_log "DOCKER_HOST=$DOCKER_HOST AIRLOCK_CONTAINERD_SOCK=$AIRLOCK_CONTAINERD_SOCK"
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
    local dir; dir=$(_airlock_tools_dir)
    _airlock_stop dockerd "$dir/docker/pid"
    _airlock_stop containerd "$dir/containerd/pid"
}

airlock_tools_status() {
    local dir rc=0; dir=$(_airlock_tools_dir)
    if _airlock_pid_alive "$dir/docker/pid"; then echo "dockerd: running, pid $(cat "$dir/docker/pid"), unix://$dir/docker/sock"
    else echo "dockerd: stopped"; rc=1; fi
    if _airlock_pid_alive "$dir/containerd/pid"; then echo "containerd: running, pid $(cat "$dir/containerd/pid"), $dir/containerd/sock"
    else echo "containerd: stopped"; rc=1; fi
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
