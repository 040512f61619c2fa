#!/usr/bin/env bash
# The whole test suite, from a fresh machine: PostgreSQL and the SeaweedFS S3 server are set up
# first; every test uses real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --s3
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo test --workspace --no-fail-fast 2>&1
