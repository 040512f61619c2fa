#!/usr/bin/env bash
# Builds the Node native engine from source with this machine's toolchain and puts it where
# pkg/index.js looks for a checkout's own build first: pkg/native/backstage-backup.<platform key>.node
# (napi-rs's names: linux-x64-gnu, linux-arm64-musl, darwin-arm64, …).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
profile="${BACKSTAGE_BACKUP_PROFILE:-dev}"
cargo build -q -p backstage-backup-napi --profile "$profile"
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
triple=$(node -p 'const r = process.report.getReport().header; process.platform + "-" + process.arch + (process.platform === "linux" ? (r.glibcVersionRuntime ? "-gnu" : "-musl") : "")')
mkdir -p pkg/native
cp "$CARGO_TARGET_DIR/$dir/libbackstage_backup_napi.so" "pkg/native/backstage-backup.$triple.node.tmp"
mv "pkg/native/backstage-backup.$triple.node.tmp" "pkg/native/backstage-backup.$triple.node"
echo "built pkg/native/backstage-backup.$triple.node"
