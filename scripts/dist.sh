#!/usr/bin/env bash
# Build the binary users carry across the air gap, and check it.
#
#   bash scripts/dist.sh        (or: just dist)
#
# Writes dist/:
#   airlock-<version>-x86_64-linux          statically linked (glibc static-pie), stripped
#   airlock-<version>-x86_64-linux.sha256   for `sha256sum -c`
#   completions/airlock.bash, completions/_airlock (zsh), completions/airlock.fish
#   man/airlock.1, man/airlock-<subcommand>.1 (with EXAMPLES, EXIT STATUS, FINDING CODES)
#   schema/airlock.<kind>.schema.json     the JSON Schema of each --json document
#   LICENSE-APACHE, LICENSE-MIT
# Then checks what it built, and fails if any check fails: `file` says statically linked,
# `ldd` finds no libraries, the checksum verifies, and the binary verifies a fixture when run
# from an empty directory with an empty environment (`env -i`).
set -euo pipefail
shopt -s inherit_errexit 2>/dev/null || true
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dist: installing $2 (for $1)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$2" </dev/null >/dev/null \
            || { apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" </dev/null >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "dist: $1 is needed (Debian package $2)" >&2; exit 1; }
}
need file file
need strip binutils

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
name="airlock-${version}-x86_64-linux"

echo "== build (static, $target)"
# A separate target dir: the static flags must not invalidate the ordinary build's cache.
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target "$target" --target-dir target/dist
built="target/dist/$target/release/airlock"

rm -rf dist
mkdir -p dist/completions dist/man dist/schema
cp "$built" "dist/$name"
cp LICENSE-APACHE LICENSE-MIT dist/
strip "dist/$name"
(cd dist && sha256sum "$name" >"$name.sha256")
"dist/$name" completions bash >dist/completions/airlock.bash
"dist/$name" completions zsh >dist/completions/_airlock
"dist/$name" completions fish >dist/completions/airlock.fish
"dist/$name" man --dir dist/man 2>/dev/null
kinds="verify inspect convert delta apply"
for k in $kinds; do
    "dist/$name" schema "$k" >"dist/schema/airlock.$k.schema.json"
done

echo "== checks"
fail() { echo "dist: FAILED: $*" >&2; exit 1; }
desc=$(file -b "dist/$name")
echo "file: $desc"
case "$desc" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) fail "not statically linked: $desc" ;;
esac
if ldd_out=$(ldd "dist/$name" 2>&1); then
    case "$ldd_out" in
        *"statically linked"* | *"not a dynamic executable"*) ;;
        *) fail "ldd finds libraries: $ldd_out" ;;
    esac
fi
echo "ldd: ${ldd_out:-}"
(cd dist && sha256sum -c "$name.sha256") || fail "checksum"

empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
cp fixtures/docker-save-legacy.tar "$empty/app.tar"
cp "dist/$name" "$empty/airlock"
(cd "$empty" && env -i ./airlock verify -q app.tar >verify.out) || fail "env -i ./airlock verify app.tar: $(cat "$empty/verify.out")"
# -q: one verdict line per input, as sha256sum -c prints.
[ "$(cat "$empty/verify.out")" = "app.tar: OK" ] || fail "unexpected verify output: $(cat "$empty/verify.out")"
(cd "$empty" && env -i ./airlock --version)
[ -s dist/completions/airlock.bash ] && [ -s dist/completions/_airlock ] && [ -s dist/completions/airlock.fish ] \
    || fail "empty completions"
[ -s dist/man/airlock.1 ] || fail "no man page"
grep -q '^\.SH "EXIT STATUS"' dist/man/airlock-verify.1 || fail "airlock-verify.1 has no EXIT STATUS"
for k in $kinds; do
    grep -q "\"const\": \"airlock.$k/v" "dist/schema/airlock.$k.schema.json" || fail "schema/airlock.$k.schema.json"
done

echo "dist: ok: dist/$name ($(stat -c %s "dist/$name") bytes), $(ls dist/man | wc -l) man pages, 3 completion scripts, $(ls dist/schema | wc -l) JSON Schemas"
