# airlock task runner. `just --list` shows the recipes.
# (just is not packaged in Debian bookworm: `cargo install just --locked`.)

set shell := ["bash", "-euo", "pipefail", "-c"]

# List recipes
default:
    @just --list

# Benchmark airlock verify against openssl/pigz/zstd pipelines (bench/run.sh; sections optional)
bench *SECTIONS:
    bash bench/run.sh {{SECTIONS}}

# Build the static binary, its .sha256, completions and man pages into dist/, and check them
dist:
    bash scripts/dist.sh

# Run the test suite
test *ARGS:
    cargo test {{ARGS}}

# Regenerate fixtures/ with the real container tools
fixtures:
    bash fixtures/make-fixtures.sh

# Formatting and clippy, warnings as errors
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings
