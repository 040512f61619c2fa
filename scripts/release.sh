#!/usr/bin/env bash
# Builds everything a release ships, from this checkout, into ./release (or $1):
#   backstage-backup-engine-V.tgz                 @backstage-backup/engine: loader, wasm engine
#   backstage-backup-engine-linux-x64-gnu-V.tgz   its prebuilt native engine (glibc >= 2.17)
#   backstage-backup-plugin-backup-backend-V.tgz  the Backstage backend plugin (dist, migrations)
#   backstage-backup-plugin-backup-common-V.tgz   permissions, API types, client
#   backstage-backup-plugin-backup-V.tgz          the Backups page
#   backstage-backup-V-linux-x64-gnu.tar.gz       the CLI, for machines without Rust (glibc >= 2.17)
# and SHA256SUMS. Every package carries the workspace version (Cargo.toml); a mismatch stops it.
# Native builds are release builds for glibc 2.17 with cargo-zigbuild (ziglang and
# cargo-zigbuild from PyPI, in a venv under ~/.cache), stripped. Prints each file's size.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-release}")
cache="$HOME/.cache/backstage-backup"
target_dir="${RELEASE_TARGET_DIR:-$cache/target-release}"
say() { printf 'release: %s\n' "$*" >&2; }
phase_start=$SECONDS
phase() { say "$1 ($((SECONDS - phase_start)) s so far)"; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[ -n "$version" ] || { say "no workspace version in Cargo.toml"; exit 1; }
for manifest in pkg/package.json pkg/npm/*/package.json plugin-ts/*/package.json; do
  found=$(node -p "require('./$manifest').version")
  if [ "$found" != "$version" ]; then
    say "$manifest is at $found, the workspace at $version: versions move in lockstep"
    exit 1
  fi
done

# cargo-zigbuild and zig, once.
venv="$cache/zig-venv"
if [ ! -x "$venv/bin/cargo-zigbuild" ]; then
  say "installing ziglang and cargo-zigbuild from PyPI into $venv (once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ziglang cargo-zigbuild
fi
export PATH="$venv/bin:$PATH"

rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

phase "native engine and CLI: release build for x86_64-unknown-linux-gnu.2.17"
CARGO_TARGET_DIR="$target_dir" cargo zigbuild -q --release \
  -p backstage-backup-napi -p backstage-backup-cli --target x86_64-unknown-linux-gnu.2.17
built="$target_dir/x86_64-unknown-linux-gnu/release"

phase "WebAssembly engine"
bash scripts/build-wasm.sh >/dev/null

phase "plugin packages (tsc, backstage-cli package build)"
npx tsc -p tsconfig.json
for dir in plugin-ts/common plugin-ts/backend plugin-ts/frontend; do
  (cd "$dir" && npx backstage-cli package build 2>&1 | grep -v -e 'CLI modules' -e 'fallback will' >&2 || true)
  [ -f "$dir/dist/index.d.ts" ] || { say "$dir: no dist/index.d.ts after the build"; exit 1; }
done

phase "packing"
pack() { (cd "$1" && npm pack --silent --pack-destination "$out" >/dev/null); }
# The platform package: the stripped addon and its package.json.
platform="$stage/engine-linux-x64-gnu"
mkdir -p "$platform"
cp pkg/npm/linux-x64-gnu/package.json pkg/npm/linux-x64-gnu/README.md "$platform/"
strip --strip-unneeded -o "$platform/backstage-backup.linux-x64-gnu.node" "$built/libbackstage_backup_napi.so"
pack "$platform"
# The engine: what `files` lists, with the platform package as an optional dependency (added
# here only: inside this repository the checkout's own build is used, and npm install must not
# look for an unpublished package).
engine="$stage/engine"
mkdir -p "$engine"
cp -r pkg/package.json pkg/index.js pkg/index.d.ts pkg/types.generated.d.ts pkg/errors.js pkg/wasm-engine pkg/wasm "$engine/"
node -e "
  const fs = require('fs'); const file = '$engine/package.json';
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  p.optionalDependencies = { '@backstage-backup/engine-linux-x64-gnu': p.version };
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + '\n');"
pack "$engine"
for dir in plugin-ts/common plugin-ts/backend plugin-ts/frontend; do
  (cd "$dir" && npm pack --silent --pack-destination "$out" 2>/dev/null >/dev/null)
done
# The CLI.
cli="$stage/backstage-backup-$version-linux-x64-gnu"
mkdir -p "$cli"
strip --strip-unneeded -o "$cli/backstage-backup" "$built/backstage-backup"
cp README.md "$cli/"
tar -C "$stage" -czf "$out/backstage-backup-$version-linux-x64-gnu.tar.gz" "$(basename "$cli")"

(cd "$out" && sha256sum -- * > SHA256SUMS)
phase "done"
printf '%-52s %10s\n' FILE SIZE
for file in "$out"/*; do
  printf '%-52s %10s\n' "$(basename "$file")" "$(du -h --apparent-size "$file" | cut -f1)"
done
printf 'release %s in %s (%d s)\n' "$version" "$out" "$SECONDS"
