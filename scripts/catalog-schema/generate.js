#!/usr/bin/env node
/*
 * Generates crates/catalog-fixture/schema/catalog-schema.sql: the real Backstage
 * catalog schema, made by running the knex migrations that
 * @backstage/plugin-catalog-backend ships (its `migrations/` directory) on a
 * temporary database and dumping the result with pg_dump.
 *
 * Usage: node generate.js [OUTPUT_FILE]   (normally through ./generate.sh)
 *
 * Environment:
 *   CATALOG_SCHEMA_ADMIN_URL  admin connection URL of the PostgreSQL server used
 *                             for the temporary database
 *                             (default postgresql://postgres@127.0.0.1:5432/postgres)
 *   PG_DUMP                   pg_dump binary to use (default: pg_dump on PATH)
 *
 * The output is post-processed so that it can be sent as one batch through
 * tokio-postgres `batch_execute` on a fresh database:
 *   - psql meta-commands (pg_dump 15's `\restrict KEY` / `\unrestrict KEY`)
 *     are removed, which also makes the output reproducible;
 *   - every session setting the dump changes (search_path emptied through
 *     set_config, statement_timeout, ...) is RESET at the end, so later
 *     statements on the same connection see the normal search_path;
 *   - knex_migrations.migration_time is normalised to a fixed instant so that
 *     regenerating with the same package versions yields the same file.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Client } = require('pg');
const knexFactory = require('knex');

const PACKAGE = '@backstage/plugin-catalog-backend';
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];
const MIGRATION_TIME = '2000-01-01 00:00:00+00';
const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

function packageVersion(name) {
  const pkgJson = require.resolve(`${name}/package.json`);
  return {
    dir: path.dirname(pkgJson),
    version: JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version,
  };
}

function databaseUrl(adminUrl, dbName) {
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

function redact(urlString) {
  const url = new URL(urlString);
  if (url.password) url.password = '***';
  return url.toString();
}

function pgDump(dbUrl, extraArgs) {
  const bin = process.env.PG_DUMP || 'pg_dump';
  const args = [
    '--no-owner',
    '--no-privileges',
    ...extraArgs,
    `--dbname=${dbUrl}`,
  ];
  const res = spawnSync(bin, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw new Error(`cannot run ${bin}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`${bin} failed (exit ${res.status}): ${res.stderr}`);
  }
  return res.stdout;
}

function pgDumpVersion() {
  const bin = process.env.PG_DUMP || 'pg_dump';
  const res = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return (res.stdout || '').trim();
}

/** Removes meta-commands and collects the session settings the dump changes. */
function postProcess(dump) {
  const settings = new Set();
  const lines = [];
  for (const line of dump.split('\n')) {
    if (line.startsWith('\\')) continue; // \restrict KEY, \unrestrict KEY, \connect ...
    const set = /^SET ([a-z_]+) = /.exec(line);
    if (set) settings.add(set[1]);
    const cfg = /set_config\('([a-z_]+)'/.exec(line);
    if (cfg) settings.add(cfg[1]);
    lines.push(line);
  }
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const resets = [...settings].sort().map(s => `RESET ${s};`);
  return { body: lines.join('\n'), resets };
}

async function main() {
  const here = __dirname;
  const output = path.resolve(
    process.argv[2] ||
      path.join(here, '..', '..', 'crates', 'catalog-fixture', 'schema', 'catalog-schema.sql'),
  );
  const adminUrl = process.env.CATALOG_SCHEMA_ADMIN_URL || DEFAULT_ADMIN_URL;
  const catalog = packageVersion(PACKAGE);
  const knexVersion = packageVersion('knex').version;
  const pgVersion = packageVersion('pg').version;
  const migrationsDir = path.join(catalog.dir, 'migrations');
  const migrationFiles = fs.readdirSync(migrationsDir).filter(f => f.endsWith('.js'));

  const tmpDb = `catalog_schema_gen_${process.pid}_${Date.now()}`;
  const tmpUrl = databaseUrl(adminUrl, tmpDb);
  const admin = new Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`cannot connect to ${redact(adminUrl)}: ${e.message}`);
  }
  console.error(`creating temporary database ${tmpDb} on ${redact(adminUrl)}`);
  await admin.query(`CREATE DATABASE "${tmpDb}"`);
  let otherTables = [];
  try {
    const knex = knexFactory({ client: 'pg', connection: tmpUrl });
    try {
      const [batch, applied] = await knex.migrate.latest({ directory: migrationsDir });
      console.error(`applied ${applied.length} migrations (batch ${batch}) from ${migrationsDir}`);
      await knex('knex_migrations').update({ migration_time: MIGRATION_TIME });
      const leftovers = [];
      const tables = await knex.raw(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
      );
      for (const { tablename } of tables.rows) {
        if (KNEX_TABLES.includes(tablename)) continue;
        const { rows } = await knex.raw('SELECT count(*)::int AS n FROM ??', [tablename]);
        if (rows[0].n > 0) leftovers.push(`${tablename} (${rows[0].n} rows)`);
      }
      if (leftovers.length) {
        console.error(`not dumped (data the migrations left): ${leftovers.join(', ')}`);
      }
      otherTables = tables.rows
        .map(r => r.tablename)
        .filter(t => !KNEX_TABLES.includes(t));
    } finally {
      await knex.destroy();
    }

    // One dump: the whole schema, and data only for the knex bookkeeping tables.
    const dump = pgDump(tmpUrl, [
      '--inserts',
      ...otherTables.map(t => `--exclude-table-data=public.${t}`),
    ]);
    const { body, resets } = postProcess(dump);
    const header = [
      '-- Backstage catalog database schema (PostgreSQL).',
      `-- Generated from ${PACKAGE} ${catalog.version}: its ${migrationFiles.length} knex migrations`,
      `-- (knex ${knexVersion}, pg ${pgVersion}) run with knex migrate.latest on an empty database,`,
      `-- then dumped with ${pgDumpVersion()}:`,
      '--   pg_dump --no-owner --no-privileges --inserts --exclude-table-data=<every table but knex_migrations*>',
      '-- Regenerate with: scripts/catalog-schema/generate.sh',
      '-- Post-processed: psql meta-commands (\\restrict/\\unrestrict) removed, the session',
      '-- settings the dump changes are RESET at the end (so batch_execute on one connection',
      `-- keeps working), knex_migrations.migration_time normalised to '${MIGRATION_TIME}'.`,
      '-- Do not edit by hand.',
      '',
    ];
    const footer = [
      '',
      '',
      '-- Undo the session settings made above (pg_dump empties search_path).',
      ...resets,
      '',
    ];
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(output, header.join('\n') + body + '\n' + footer.join('\n'));
    console.error(`wrote ${output}`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${tmpDb}" WITH (FORCE)`);
    await admin.end();
    console.error(`dropped temporary database ${tmpDb}`);
  }
}

main().catch(err => {
  console.error(`generate.js: ${err.message}`);
  process.exit(1);
});
