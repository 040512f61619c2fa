#!/usr/bin/env bash
# The main job, from a fresh machine: back up a local Backstage catalog into ./backups and
# verify it. Uses DATABASE_URL (or PG*, or BACKSTAGE_APP_CONFIG=app-config.yaml) when set;
# otherwise backs up the local server's backstage_plugin_catalog database, first creating a
# demo catalog there (real Backstage schema, 1,000 generated entities) if it does not exist.
# Extra arguments go to `backstage-backup backup` (e.g. --store s3://bucket/prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -p backstage-backup-cli -p backstage-catalog-fixture
bin="$CARGO_TARGET_DIR/debug"

source_args=()
if [ -n "${BACKSTAGE_APP_CONFIG:-}" ]; then
  source_args=(--app-config "$BACKSTAGE_APP_CONFIG")
elif [ -z "${DATABASE_URL:-}" ] && [ -z "${PGHOST:-}${PGDATABASE:-}" ]; then
  admin="postgresql://postgres@127.0.0.1:5432/postgres"
  "$bin/catalog-fixture" --admin-url "$admin" --database backstage_plugin_catalog --entities 1000 --if-missing
  export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/backstage_plugin_catalog"
fi

store="${BACKSTAGE_BACKUP_STORE:-./backups}"
"$bin/backstage-backup" backup "${source_args[@]}" --store "$store" "$@"
"$bin/backstage-backup" verify latest --store "$store"
"$bin/backstage-backup" list --store "$store"
