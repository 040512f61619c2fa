'use strict';
// PostgreSQL for the WebAssembly engine, through the client tools only: a psql coprocess holds
// the session (advisory lock, exported snapshot, entity counts); pg_dump and psql do the bulk
// work. Mirrors core's source/session.rs and pg_tools.rs.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { BackupError, database } = require('../errors');
const { resolveDatabase, libpqEnv, hostPort, redacted, withDatabase } = require('./connection');

const PG_BIN_ENV = 'BACKSTAGE_BACKUP_PG_BIN';
// The native engine's advisory lock class (0x42424B): both engines exclude each other.
const LOCK_CLASS = 4342347;

const isFile = file => {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

function candidates(serverMajor) {
  if (process.env[PG_BIN_ENV]) return [process.env[PG_BIN_ENV]];
  let versioned = [];
  try {
    versioned = fs
      .readdirSync('/usr/lib/postgresql')
      .filter(name => /^\d+$/.test(name) && Number(name) >= serverMajor)
      .sort((a, b) => a - b)
      .map(name => path.join('/usr/lib/postgresql', name, 'bin'));
  } catch {
    // Not Debian's layout: PATH alone.
  }
  return [...versioned, ...(process.env.PATH || '').split(path.delimiter).filter(Boolean)];
}

function parseVersion(output) {
  const token = output.split(/\s+/).find(t => /^\d/.test(t));
  const version = token?.match(/^[\d.]+/)?.[0];
  return version ? { version, major: Number(version.split('.')[0]) } : undefined;
}

function versionOf(pgDump) {
  const env = { ...process.env };
  delete env.PGPASSWORD;
  delete env.DATABASE_URL;
  return new Promise(resolve =>
    execFile(pgDump, ['--version'], { env }, (err, stdout) => resolve(err ? undefined : parseVersion(stdout))),
  );
}

/** pg_dump at least the server's major version, and the psql beside it (core's pg_tools::find). */
async function findTools(serverMajor) {
  const install =
    `install the PostgreSQL ${serverMajor} client (Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}; ` +
    `Alpine: apk add postgresql${serverMajor}-client) or set ${PG_BIN_ENV} to the folder holding its pg_dump`;
  let tooOld;
  for (const dir of candidates(serverMajor)) {
    const pgDump = path.join(dir, 'pg_dump');
    if (!isFile(pgDump)) continue;
    const found = await versionOf(pgDump);
    if (!found) continue;
    if (found.major < serverMajor) {
      tooOld ??= { pgDump, version: found.version };
      continue;
    }
    const psql = path.join(dir, 'psql');
    return { pgDump, psql: isFile(psql) ? psql : 'psql', ...found };
  }
  throw database(
    tooOld
      ? `pg_dump ${tooOld.version} (${tooOld.pgDump}) is older than the server (PostgreSQL ${serverMajor}) and cannot dump it: ${install}`
      : `pg_dump was not found: ${install}`,
  );
}

function anyPsql() {
  for (const dir of candidates(0)) if (isFile(path.join(dir, 'psql'))) return path.join(dir, 'psql');
  throw database('psql was not found: install the PostgreSQL client (Debian/Ubuntu: apt-get install postgresql-client)');
}

/** Keeps the last `limit` bytes a child wrote to stderr. */
function collectStderr(stream, limit = 8192) {
  let kept = '';
  stream.setEncoding('utf8');
  stream.on('data', chunk => {
    kept += chunk;
    if (kept.length > 2 * limit) kept = kept.slice(-limit);
  });
  return () => kept.trim();
}

const quoteIdent = name => `"${String(name).replace(/"/g, '""')}"`;
const quoteLiteral = text => `'${String(text).replace(/'/g, "''")}'`;
const qualified = (schema, table) => (schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table));

const SEP = '\u001f';

/**
 * One database session on a psql coprocess: queries go in on stdin, each followed by an \echo
 * marker; rows come back unaligned. ON_ERROR_STOP ends psql at the first error, which fails
 * the pending query with psql's message.
 */
class Session {
  constructor(conn) {
    this.conn = conn;
    this.child = spawn(
      anyPsql(),
      ['--no-psqlrc', '--quiet', '--no-password', '--no-align', '--tuples-only', '--field-separator', SEP, '-v', 'ON_ERROR_STOP=1'],
      { env: { ...libpqEnv(conn), PGAPPNAME: conn.params.application_name || 'backstage-backup' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.stderr = collectStderr(this.child.stderr);
    this.lines = [];
    this.buffer = '';
    this.queue = [];
    this.connected = false;
    this.seq = 0;
    this.exited = new Promise(resolve => {
      this.child.on('error', err => {
        this.exitError = err;
        resolve();
      });
      this.child.on('close', code => resolve(code));
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', chunk => this.onData(chunk));
    this.exited.then(() => {
      const failure = this.failure();
      for (const pending of this.queue.splice(0)) pending.reject(failure);
    });
    this.child.stdin.on('error', () => {});
  }

  failure() {
    const said = this.stderr() || this.exitError?.message || 'psql exited';
    const conn = this.conn;
    if (this.connected) return database(`${this.doing}: ${said.replace(/^psql:[^:]*:\d+: /gm, '')}`);
    if (/database "[^"]*" does not exist/.test(said)) {
      return new BackupError(
        'E_NOT_FOUND',
        `database '${conn.database}' does not exist on ${hostPort(conn)}; check the name (Backstage's catalog is ` +
          'backstage_plugin_catalog unless backend.database sets another prefix)',
      );
    }
    if (/password authentication failed|no password supplied|authentication failed/.test(said)) {
      return database(`cannot log in to ${redacted(conn)}: ${said}; check the user and password`);
    }
    return database(`cannot connect to ${redacted(conn)} (${said}); is PostgreSQL running and reachable from here?`);
  }

  onData(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const head = this.queue[0];
      if (head && line === head.marker) {
        this.queue.shift();
        this.connected = true;
        head.resolve(this.lines.splice(0).map(l => l.split(SEP)));
      } else this.lines.push(line);
    }
  }

  /** Runs `sql`; resolves to its rows, each an array of text fields. */
  query(sql, doing) {
    const marker = `__backstage_backup_${++this.seq}__`;
    return new Promise((resolve, reject) => {
      this.doing = doing;
      this.queue.push({ marker, resolve, reject });
      this.child.stdin.write(`${sql};\n\\echo ${marker}\n`);
    });
  }

  async value(sql, doing) {
    const rows = await this.query(sql, doing);
    return rows[0]?.[0];
  }

  /** Takes the per-database advisory lock backups and restores share; E_LOCKED when held. */
  async lock() {
    const got = await this.value(`SELECT pg_try_advisory_lock(${LOCK_CLASS}, hashtext(current_database()))`, 'taking the backup lock');
    if (got !== 't') {
      throw new BackupError(
        'E_LOCKED',
        `another backup or restore of database '${this.conn.database}' is already running (its advisory lock is held); ` +
          'wait for it to finish and try again',
      );
    }
  }

  async serverVersion() {
    const [[full, num]] = await this.query(
      "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
      'reading the server version',
    );
    return { version: full.split(/\s+/)[0], major: Math.floor(Number(num) / 10000) };
  }

  async tableExists(schema, table) {
    return (await this.value(`SELECT to_regclass(${quoteLiteral(qualified(schema, table))}) IS NOT NULL`, 'inspecting the schema')) === 't';
  }

  /** Catalog entities by lowercase kind; null without a catalog schema. */
  async entityCounts(schema) {
    if (!(await this.tableExists(schema, 'final_entities'))) return null;
    // As core's session.rs: the kind from the entity ref (NOT NULL) where the schema has one
    // (no JSON detoasted and parsed), else from the entity.
    const table = qualified(schema, 'final_entities');
    const hasRef =
      (await this.value(
        `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(${quoteLiteral(table)}) AND attname = 'entity_ref' AND NOT attisdropped)`,
        'inspecting the schema',
      )) === 't';
    const kind = hasRef ? "split_part(entity_ref, ':', 1)" : "final_entity::jsonb->>'kind'";
    const rows = await this.query(
      `SELECT coalesce(lower(${kind}), 'unknown'), count(*) FROM ${table} WHERE final_entity IS NOT NULL GROUP BY 1 ORDER BY 1`,
      'counting catalog entities',
    );
    return Object.fromEntries(rows.map(([kind, count]) => [kind, Number(count)]));
  }

  async latestMigration(schema) {
    if (!(await this.tableExists(schema, 'knex_migrations'))) return null;
    return (await this.value(`SELECT name FROM ${qualified(schema, 'knex_migrations')} ORDER BY id DESC LIMIT 1`, 'reading knex_migrations')) ?? null;
  }

  /** Ends the session (its lock and transaction go with it). */
  async close() {
    this.child.stdin.end('\\q\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Opens a session; E_NOT_FOUND when the database does not exist. */
async function connect(conn) {
  const session = new Session(conn);
  try {
    await session.query('SELECT 1', 'connecting');
  } catch (err) {
    await session.close();
    throw err;
  }
  return session;
}

/**
 * The catalog's entity counts and latest migration, read on a connection of their own (inside
 * `snapshot` when given, so they describe exactly what pg_dump dumps). After a bad migration
 * (the failed upgrade a rollback is for) these reads may fail; that must not stop the backup or
 * the restore, so a failure gives null, and ON_ERROR_STOP ends only this connection.
 */
async function catalogShape(conn, schema, snapshot) {
  let session;
  const shape = { entities: null, latestMigration: null };
  try {
    session = await connect(conn);
    if (snapshot) {
      await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY', 'starting the snapshot transaction');
      await session.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`, 'importing the snapshot');
    }
    shape.latestMigration = await session.latestMigration(schema);
    shape.entities = await session.entityCounts(schema);
  } catch {
    // Whatever was read stays; the rest is unknown.
  } finally {
    await session?.close().catch(() => {});
  }
  return shape;
}

module.exports = {
  resolveDatabase,
  catalogShape,
  connect,
  findTools,
  libpqEnv,
  collectStderr,
  hostPort,
  redacted,
  withDatabase,
  quoteIdent,
  quoteLiteral,
  LOCK_CLASS,
};
