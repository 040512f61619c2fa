#!/usr/bin/env bash
# Builds the Node engine's WebAssembly half from source with this machine's toolchain:
# crates/wasm for wasm32-unknown-unknown, then wasm-bindgen (--target nodejs) into pkg/wasm/.
# Installs what is missing with rustup and cargo (nothing prebuilt is downloaded): the wasm32
# target, and wasm-bindgen-cli at the exact version the crate pins (it must match).
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.2.130
# Its own target folder, so it neither waits for nor invalidates the native build's.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR}-wasm"
else
  export CARGO_TARGET_DIR="$PWD/target/wasm32"
fi
profile="${BACKSTAGE_BACKUP_WASM_PROFILE:-release}"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
bindgen="${WASM_BINDGEN:-$HOME/.cargo/bin/wasm-bindgen}"
[ -x "$bindgen" ] || bindgen=$(command -v wasm-bindgen || true)
if [ -z "$bindgen" ] || [ "$("$bindgen" --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
  # Not --locked: that fails here; ~6 minutes on first use, then found in ~/.cargo/bin.
  echo "installing wasm-bindgen-cli $version with cargo (once)"
  cargo install -q wasm-bindgen-cli --version "$version" --root "$HOME/.cargo"
  bindgen="$HOME/.cargo/bin/wasm-bindgen"
fi
# SIMD128 (every Node since 16.4 runs it): zlib-rs is about 1.25x faster with it here.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:--C target-feature=+simd128}"
# One codegen unit and fat LTO let zlib-rs inline across crates (~10% here); this folder only.
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-fat}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}"
cargo build -q -p backstage-backup-wasm --target wasm32-unknown-unknown --profile "$profile"
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
rm -rf pkg/wasm.tmp
"$bindgen" --target nodejs --out-dir pkg/wasm.tmp --out-name backstage_backup_wasm \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/backstage_backup_wasm.wasm"
rm -rf pkg/wasm
mv pkg/wasm.tmp pkg/wasm
echo "built pkg/wasm/backstage_backup_wasm.js"
