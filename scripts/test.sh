#!/usr/bin/env bash
# The whole test suite, from a fresh machine: PostgreSQL and the SeaweedFS S3 server are set up
# first; every test uses real servers. Ends with one "N passed, N failed" line over all suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --s3
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The core's pure parts must keep building for WebAssembly (the Node engine's fallback).
rustup target add wasm32-unknown-unknown >/dev/null
cargo build -q -p backstage-backup-core --no-default-features --target wasm32-unknown-unknown
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
# A short bounded run of every fuzzer (nightly + cargo-fuzz; `fuzz/run.sh 600` for a longer one).
FUZZ_TARGET_DIR="$HOME/.cache/backstage-backup/fuzz-target" fuzz/run.sh 10 || status=$?
# The Node engine: `npm install` builds the native addon from source, then node's test runner.
npm install --no-audit --no-fund
cargo build -q -p backstage-backup-cli -p backstage-catalog-fixture -p backstage-backup-testkit --bins
npm test 2>&1 | tee -a "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
