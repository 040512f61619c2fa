#!/usr/bin/env bash
# Writes the engines' TypeScript declarations from the Rust types (crates/core/src/typescript.rs):
# pkg/types.generated.d.ts and plugin-ts/common/src/engine-types.generated.ts. `cargo test -p
# backstage-backup-core` fails while a committed copy differs from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_TYPES=1 cargo test -q -p backstage-backup-core --lib typescript::
