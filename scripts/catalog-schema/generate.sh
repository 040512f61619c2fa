#!/usr/bin/env bash
# Regenerates crates/catalog-fixture/schema/catalog-schema.sql from the knex
# migrations of the pinned @backstage/plugin-catalog-backend (see package.json).
# Needs Node 20+, npm, pg_dump and a PostgreSQL server (CATALOG_SCHEMA_ADMIN_URL,
# default postgresql://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# --ignore-scripts: only the migrations, knex and pg are used; no native builds.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
exec node generate.js "$@"
