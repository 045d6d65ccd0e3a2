#!/usr/bin/env bash
# Real container runtimes for airlock's tests and fixtures: private daemons, each on its own
# unix socket in one state directory, with no network, no bridge and no iptables.
#
# Usage:
#   source scripts/real-tools.sh [up]     # install if missing, start (or reuse) the runtimes
#   source scripts/real-tools.sh down     # stop them
#   bash scripts/real-tools.sh up|down|status|install
#   bash scripts/real-tools.sh fetch PACKAGE SUITE   # unpack a pinned tool (cosign, oras), print its dir
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
#   docker/, containerd/, podman-4.3/          the system's docker 20.10, containerd 1.6, podman 4.3
#   docker-26.1/, containerd-1.7/, podman-5.4/ Debian trixie's
#   docker-28.5/, docker-29/, containerd-2.1/  sid's; docker-29 is docker 28.5 with the
#                       containerd image store, Docker 29's default
#                       one directory per runtime: data root, exec root, config, pidfile,
#                       socket, log
#   bin/                wrappers bound to them: docker-20.10, ctr-1.6, podman-4.3, … and crane
# The tests also check each daemon before using it: dockerd must report its data root, and
# containerd its content store, inside this state directory.
#
# Exports AIRLOCK_TOOLS_DIR (absolute), AIRLOCK_DOCKER (the docker-20.10 wrapper) and
# AIRLOCK_CONTAINERD_SOCK. It never sets DOCKER_HOST: nothing here talks to the Docker the
# environment points at, and neither do the tests.
#
# Environment:
#   AIRLOCK_TOOLS_DIR       the state directory (see above)
#   AIRLOCK_TOOLS_WAIT      seconds to wait for each daemon to answer (default 60)
#   AIRLOCK_NEWER_RUNTIMES  0: only the system's runtimes (default 1: the newer ones too)
#   AIRLOCK_RUNTIMES_CACHE  where the newer runtimes' .debs are fetched and unpacked, kept
#                           between runs (default /var/cache/airlock-runtimes)
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
                /bin/busybox:busybox-static python3:python3 /usr/bin/time:time patchelf:patchelf; do
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
    # Its own config file, never the machine's /etc/docker/daemon.json.
    [ -f "$d/daemon.json" ] || printf '{}\n' >"$d/daemon.json"
    _airlock_log "starting $dockerd (state in $d)"
    PATH="${prefix:+$prefix:}$PATH" setsid "$dockerd" --data-root "$d/root" --exec-root "$d/exec" \
        --pidfile "$d/pid" --host "unix://$d/sock" --config-file "$d/daemon.json" --iptables=false --ip6tables=false \
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

# ------------------------------------------------------------------------------------------
# Newer runtimes beside the system's, from Debian trixie and sid, unpacked side by side
# ------------------------------------------------------------------------------------------
# The .debs are fetched with a private apt configuration (its own sources list, lists and
# cache under $AIRLOCK_RUNTIMES_CACHE/apt), so the machine's apt sources, pins and packages
# are left exactly as they were: nothing is installed or upgraded, each .deb is unpacked with
# `dpkg-deb -x` into $AIRLOCK_RUNTIMES_CACHE/x/. The cache is kept between runs.

_airlock_cache() { printf '%s' "${AIRLOCK_RUNTIMES_CACHE:-/var/cache/airlock-runtimes}"; }

# PACKAGE VERSION SUITE: the versions the tests were measured with. When the suite has moved
# on, the newest version there with the same upstream MAJOR.MINOR is taken instead (logged).
_airlock_newer_debs() {
    cat <<'EOF2'
docker.io 26.1.5+dfsg1-9+deb13u1+b1 trixie
docker-cli 26.1.5+dfsg1-9+deb13u1+b1 trixie
containerd 1.7.24~ds1-6+deb13u1 trixie
docker.io 28.5.2+dfsg4-5 sid
docker-cli 28.5.2+dfsg4-5 sid
containerd 2.1.9+ds1-5 sid
crane 0.20.7+ds1-5 sid
cosign 2.5.0-2+b5 trixie
cosign 3.1.1-2 sid
oras 1.3.3-1 sid
podman 5.4.2+ds1-2+b2 trixie
netavark 1.14.0-2 trixie
libc6 2.41-12+deb13u5 trixie
libgpgme11t64 1.24.2-3 trixie
libsubid5 1:4.17.4-2 trixie
libassuan9 3.0.2-2 trixie
EOF2
}

_airlock_apt() { # apt-get|apt-cache ARGS...: with the private sources, lists and cache
    local a; a="$(_airlock_cache)/apt"
    "$@" -o Dir::Etc::sourcelist="$a/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
        -o Dir::Etc::preferencesparts=/nonexistent -o Dir::State::Lists="$a/lists" \
        -o Dir::Cache="$a/cache" -o APT::Sandbox::User=root -o Acquire::Languages=none \
        -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false \
        -o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false
}

# The Debian archive this machine already uses (deb822 or one-line sources).
_airlock_debian_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && u && $0 !~ /security/ {print u; exit}' "$f")
        [ -n "$uri" ] && { printf '%s' "$uri"; return 0; }
    done
    awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
        /etc/apt/sources.list 2>/dev/null | head -n 1 | grep . || return 1
}

_airlock_apt_update() { # once per hour at most
    local a uri; a="$(_airlock_cache)/apt"
    if [ -n "$(find "$a/updated" -mmin -60 2>/dev/null)" ]; then return 0; fi
    uri=$(_airlock_debian_uri) || { _airlock_log "no Debian archive in /etc/apt sources"; return 1; }
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$uri" trixie "$uri" sid >"$a/sources.list"
    _airlock_log "apt-get update (trixie, sid; private lists in $a)"
    _airlock_apt apt-get -q update </dev/null >"$a/update.log" 2>&1 \
        || { _airlock_log "apt-get update failed; see $a/update.log"; return 1; }
    touch "$a/updated"
}

# Unpacks PACKAGE=VERSION (from SUITE) into the cache and prints the directory.
_airlock_fetch() { # PACKAGE VERSION SUITE
    local pkg=$1 ver=$2 suite=$3 cache arch deb x mm alt
    cache=$(_airlock_cache); arch=$(dpkg --print-architecture)
    deb="$cache/debs/${pkg}_${ver//:/%3a}_$arch.deb"
    x="$cache/x/${pkg}_${ver//:/%3a}"
    if [ ! -f "$x/.unpacked" ]; then
        if [ ! -f "$deb" ]; then
            _airlock_apt_update || return 1
            mkdir -p "$cache/debs"
            if ! (cd "$cache/debs" && _airlock_apt apt-get -q download "$pkg=$ver" </dev/null >/dev/null 2>&1); then
                mm=$(printf '%s' "${ver#*:}" | cut -d. -f1-2)
                alt=$(_airlock_apt apt-cache madison "$pkg" 2>/dev/null \
                    | awk -F'|' -v s=" $suite/" 'index($3, s) {gsub(/ /, "", $2); print $2}' \
                    | while read -r v; do [ "$(printf '%s' "${v#*:}" | cut -d. -f1-2)" = "$mm" ] && echo "$v"; done | head -n 1)
                [ -n "$alt" ] || { _airlock_log "$pkg $ver ($suite) is not in the archive, nor any $mm"; return 1; }
                _airlock_log "$pkg $ver is gone from $suite; taking $alt"
                _airlock_fetch "$pkg" "$alt" "$suite"
                return
            fi
        fi
        mkdir -p "$cache/x" && rm -rf "$x.tmp" && dpkg-deb -x "$deb" "$x.tmp" && touch "$x.tmp/.unpacked" && rm -rf "$x" && mv "$x.tmp" "$x" \
            || { _airlock_log "cannot unpack $deb"; return 1; }
    fi
    printf '%s' "$x"
}

_airlock_fetch_named() { # PACKAGE SUITE: the pinned version of PACKAGE in SUITE
    local pkg ver suite
    while read -r pkg ver suite; do
        if [ "$pkg" = "$1" ] && [ "$suite" = "$2" ]; then _airlock_fetch "$pkg" "$ver" "$suite"; return; fi
    done < <(_airlock_newer_debs)
    return 1
}

# podman 5.4 (trixie) needs glibc 2.38+ and newer libgpgme, libsubid, libassuan than Debian
# 12 has: unpack trixie's beside it and point the binary (and netavark, which podman 5
# requires at start) at them with patchelf: interpreter and DT_RPATH (inherited by the
# libraries it loads, unlike DT_RUNPATH, so that no library mixes two glibcs). Running it
# through ld-linux.so --library-path instead breaks podman's re-exec of itself.
_airlock_podman5_build() { # prints the podman wrapper
    local out lib x p f
    out="$(_airlock_cache)/podman-5.4"
    if [ -x "$out/podman" ] && [ -f "$out/.built" ]; then printf '%s' "$out/podman"; return 0; fi
    command -v patchelf >/dev/null || { _airlock_log "podman 5 needs patchelf (apt-get install patchelf)"; return 1; }
    rm -rf "$out" && mkdir -p "$out/bin" "$out/lib" "$out/libexec" || return 1
    lib="$out/lib"
    for p in libc6 libgpgme11t64 libsubid5 libassuan9; do
        x=$(_airlock_fetch_named "$p" trixie) || return 1
        cp -a "$x/usr/lib/x86_64-linux-gnu/." "$lib/" || return 1
    done
    x=$(_airlock_fetch_named podman trixie) || return 1
    cp "$x/usr/bin/podman" "$out/bin/podman"
    x=$(_airlock_fetch_named netavark trixie) || return 1
    cp "$x/usr/lib/podman/netavark" "$out/libexec/netavark"
    for f in "$out/bin/podman" "$out/libexec/netavark"; do
        patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath \
            --set-rpath "$lib:/lib/x86_64-linux-gnu" "$f" || return 1
    done
    for f in "$lib"/libgpgme.so.11.* "$lib"/libassuan.so.9.* "$lib"/libsubid.so.5.*; do
        [ -L "$f" ] || patchelf --force-rpath --set-rpath "$lib:/lib/x86_64-linux-gnu" "$f" || return 1
    done
    printf '[engine]\nhelper_binaries_dir = ["%s/libexec"]\n' "$out" >"$out/containers.conf"
    _airlock_wrapper "$out/podman" "export CONTAINERS_CONF_OVERRIDE=$out/containers.conf PODMAN_IGNORE_CGROUPSV1_WARNING=1" \
        "exec $out/bin/podman \"\$@\""
    "$out/podman" --version >/dev/null 2>&1 || { _airlock_log "the patched podman 5 does not run"; return 1; }
    touch "$out/.built"
    printf '%s' "$out/podman"
}

# Brings up docker 26.1, 28.5 (graph driver), 28.5 with the containerd image store (Docker
# 29's default, as docker@29), containerd 1.7 and 2.1, and podman 5.4. One that cannot be
# fetched or started is recorded as failed (the tests then fail under
# AIRLOCK_REQUIRE_INTEROP=1); it does not stop the others.
_airlock_newer_up() {
    local dir d26 c26 ct17 d28 c28 ct21 p5 crane n
    dir=$(_airlock_tools_dir)
    if d26=$(_airlock_fetch_named docker.io trixie) && c26=$(_airlock_fetch_named docker-cli trixie) \
        && ct17=$(_airlock_fetch_named containerd trixie); then
        _airlock_docker_runtime docker@26.1 docker-26.1 "$d26/usr/sbin/dockerd" "$c26/usr/bin/docker" \
            "$ct17/usr/bin" --storage-driver vfs
        _airlock_containerd_runtime containerd@1.7 containerd-1.7 "$ct17/usr/bin/containerd" "$ct17/usr/bin/ctr"
    else
        _airlock_record docker@26.1 docker failed "unix://$dir/docker-26.1/sock" - "could not fetch docker 26.1 (trixie)"
        _airlock_record containerd@1.7 containerd failed "$dir/containerd-1.7/sock" - "could not fetch containerd 1.7 (trixie)"
    fi
    if d28=$(_airlock_fetch_named docker.io sid) && c28=$(_airlock_fetch_named docker-cli sid) \
        && ct21=$(_airlock_fetch_named containerd sid); then
        _airlock_docker_runtime docker@28.5 docker-28.5 "$d28/usr/sbin/dockerd" "$c28/usr/bin/docker" \
            "$ct21/usr/bin" --storage-driver vfs
        mkdir -p "$dir/docker-29"
        printf '{"features": {"containerd-snapshotter": true}}\n' >"$dir/docker-29/daemon.json"
        _airlock_docker_runtime docker@29 docker-29 "$d28/usr/sbin/dockerd" "$c28/usr/bin/docker" \
            "$ct21/usr/bin" --storage-driver native
        _airlock_containerd_runtime containerd@2.1 containerd-2.1 "$ct21/usr/bin/containerd" "$ct21/usr/bin/ctr"
    else
        for n in docker@28.5:docker-28.5 docker@29:docker-29; do
            _airlock_record "${n%%:*}" docker failed "unix://$dir/${n#*:}/sock" - "could not fetch docker 28.5 (sid)"
        done
        _airlock_record containerd@2.1 containerd failed "$dir/containerd-2.1/sock" - "could not fetch containerd 2.1 (sid)"
    fi
    if p5=$(_airlock_podman5_build); then
        _airlock_podman_runtime podman@5.4 podman-5.4 "$p5"
    else
        _airlock_record podman@5.4 podman failed "$dir/podman-5.4" - "could not build podman 5.4 (trixie); see the log above"
    fi
    if crane=$(_airlock_fetch_named crane sid); then
        _airlock_wrapper "$dir/bin/crane" "exec $crane/usr/bin/crane \"\$@\""
    fi
    return 0
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
    if [ "${AIRLOCK_NEWER_RUNTIMES:-1}" != 0 ]; then _airlock_newer_up; fi
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
        # fetch PACKAGE SUITE: unpack a pinned package (cosign, oras, crane...) into the cache
        # and print its directory; starts nothing.
        fetch) _airlock_fetch_named "$2" "$3" ;;
        *) echo "usage: real-tools.sh [up|down|status|install|fetch PACKAGE SUITE]" >&2; return 2 ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _airlock_tools_main "$@"
    exit $?
else
    # Sourced: act on the first argument only when it is one of ours (`source` without
    # arguments passes the caller's), default `up`.
    case "${1:-}" in
        up|down|status|install|fetch) _airlock_tools_main "$@" ;;
        *) _airlock_tools_main up ;;
    esac
fi
