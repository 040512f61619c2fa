'use strict';
// PostgreSQL for the WebAssembly engine, through the client tools only: a psql coprocess is the
// session core's queries run on (crates/wasm's session.rs: the advisory lock, the exported
// snapshot, entity counts); pg_dump and psql (found by core's pg_tools) do the bulk work.
const { spawn } = require('node:child_process');

const { BackupError, database } = require('../errors');
const core = require('./core');
const { resolveDatabase, libpqEnv, hostPort, redacted, withDatabase } = require('./connection');

/** pg_dump at least the server's major version, and the psql beside it (core's pg_tools). */
async function findTools(serverMajor) {
  const { pg_dump: pgDump, psql, version, major } = await core.findTools(serverMajor);
  return { pgDump, psql, version, major };
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

const SEP = '\u001f';

/**
 * One database session on a psql coprocess: queries go in on stdin, each followed by an \echo
 * marker; rows come back unaligned. A failed query prints its error and an error marker and
 * the session goes on (core rolls back to a savepoint after a failed read, as natively).
 */
class Session {
  constructor(conn) {
    this.conn = conn;
    this.child = spawn(
      core.findPsql(),
      ['--no-psqlrc', '--quiet', '--no-password', '--no-align', '--tuples-only', '--field-separator', SEP],
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
      if (head && (line === head.marker || line === `${head.marker}:error`)) {
        this.queue.shift();
        this.connected = true;
        const lines = this.lines.splice(0);
        if (line === head.marker) head.resolve(lines.map(l => l.split(SEP)));
        else head.reject(database(`${head.doing}: ${lines.join(' ').replace(/^ERROR:\s*/, '') || 'failed'}`));
      } else this.lines.push(line);
    }
  }

  /** Runs one statement; resolves to its rows, each an array of text fields. */
  query(sql, doing) {
    const marker = `__backstage_backup_${++this.seq}__`;
    return new Promise((resolve, reject) => {
      this.doing = doing;
      this.queue.push({ marker, doing, resolve, reject });
      // ERROR and LAST_ERROR_MESSAGE are psql's own variables (psql 12+), set after each query.
      this.child.stdin.write(`${sql};\n\\if :ERROR\n\\echo :LAST_ERROR_MESSAGE\n\\echo ${marker}:error\n\\else\n\\echo ${marker}\n\\endif\n`);
    });
  }

  async value(sql, doing) {
    const rows = await this.query(sql, doing);
    return rows[0]?.[0];
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
 * The catalog's entity counts (core's query), read on a connection of its own after a restore
 * committed: a catalog that cannot be counted (a bad migration) gives null, not a failure.
 */
async function entityCountsBestEffort(conn) {
  let session;
  try {
    session = await connect(conn);
    return await core.entityCounts(session, conn.schema ?? undefined);
  } catch {
    return null;
  } finally {
    await session?.close().catch(() => {});
  }
}

module.exports = {
  resolveDatabase,
  entityCountsBestEffort,
  connect,
  findTools,
  libpqEnv,
  collectStderr,
  hostPort,
  redacted,
  withDatabase,
  quoteIdent,
  quoteLiteral,
};
