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
# Each suite's wall time, printed as it ends.
timed() {
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  echo "suite $name: $((SECONDS - start)) s (exit $rc)"
  return "$rc"
}
suite_log() { tee -a "$log"; }
timed cargo-test bash -c 'cargo test --workspace --no-fail-fast 2>&1' | suite_log || status=$?
# A short bounded run of every fuzzer (nightly + cargo-fuzz; `fuzz/run.sh 600` for a longer one).
FUZZ_TARGET_DIR="$HOME/.cache/backstage-backup/fuzz-target" timed fuzz fuzz/run.sh 10 || status=$?
# Node: `npm install` builds both engines from source (native addon, WebAssembly); then the
# engine's suite (node:test) on this machine's Node and on Backstage's Node 22 and 24, the
# Backstage plugins' (jest, real backend), the page in a real browser, the end-to-end
# disaster-recovery scenarios, the release (scripts/release.sh) installed from its tarballs into
# a fresh project and into a create-app app (Node 22 and 24, no Rust on PATH), and deploy/.
npm install --no-audit --no-fund
cargo build -q -p backstage-backup-cli -p backstage-catalog-fixture -p backstage-backup-testkit --bins
npm run typecheck || status=$?
for suite in test:engine test:engine:node22 test:engine:node24 test:plugins test:browser test:e2e test:install test:deploy; do
  suite_out=$(mktemp)
  timed "$suite" npm run "$suite" 2>&1 | tee "$suite_out" | suite_log || status=$?
  # Jest's summary ("Tests: 2 failed, 40 passed, 42 total") as the plain line CI reads; it goes
  # to the screen only, so the total below counts jest once.
  awk '/^Tests: / { p = 0; f = 0; for (i = 2; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }
       printf "%d passed, %d failed\n", p, f }' "$suite_out"
  rm -f "$suite_out"
done
# One total over cargo's, node's (TAP "# pass N"), jest's ("Tests: N failed, N passed") and the
# browser runner's ("N passed, N failed") summaries.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     /^Tests: / { for (i = 2; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
