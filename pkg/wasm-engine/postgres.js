'use strict';
// PostgreSQL's client side for the WebAssembly engine, as core's `PgClient` asks for it
// (crates/wasm's client.rs): a psql coprocess session for core's queries, psql loading a
// restore, and pg_dump streamed through the gzip worker threads. Which tools, which SQL, in
// what order and what a failure means are core's.
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const { database } = require('../errors');
const core = require('./core');
const { compressed } = require('./gzip');

/**
 * A libpq child's environment: this process's, minus libpq settings that could redirect it, plus
 * the connection (core's libpq_env; the password only as PGPASSWORD, never in argv).
 */
function libpqEnv(conn) {
  const { set, clear } = core.libpqEnv(conn);
  const env = { ...process.env };
  for (const name of clear) delete env[name];
  for (const [name, value] of set) env[name] = value;
  return env;
}

/** Keeps the last `limit` characters a child wrote to stderr (or the first, with `first`). */
function collectStderr(stream, limit = 8192, first = false) {
  let kept = '';
  stream.setEncoding('utf8');
  stream.on('data', chunk => {
    if (first) {
      if (kept.length < limit) kept += chunk.slice(0, limit - kept.length);
      return;
    }
    kept += chunk;
    if (kept.length > 2 * limit) kept = kept.slice(-limit);
  });
  return () => kept.trim();
}

/** Resolves `{err}` or `{code, sig}` once the child is gone. */
const exitOf = child =>
  new Promise(resolve => {
    child.on('error', err => resolve({ err }));
    child.on('close', (code, sig) => resolve({ code, sig }));
  });

/** `{success, status, stderr}`, as core's ProcessExit; a child that never started throws. */
async function ended(exited, program, stderr) {
  const { err, code, sig } = await exited;
  if (err) throw database(`cannot start ${program}: ${err.message}`);
  return { success: code === 0, status: sig ? `signal: ${sig}` : `exit status: ${code}`, stderr: stderr() };
}

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
    if (this.connected) return database(`${this.doing}: ${said.replace(/^psql:[^:]*:\d+: /gm, '')}`);
    // What it means is core's (ConnectionInfo::psql_connect_failure, through crates/wasm).
    return Object.assign(new Error(said), { connectOutput: said });
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

  /** Ends the session (its lock and transaction go with it); again, it waits for the first. */
  close() {
    if (!this.closing) {
      this.child.stdin.end('\\q\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.closing = this.exited.then(() => clearTimeout(timer));
    }
    return this.closing;
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

/** psql loading a restore (core's PsqlLoad): `write`, `caughtUp`, `end(finish)`, `kill`. */
function startPsql(program, conn, readyLine) {
  const child = spawn(program, ['--no-psqlrc', '--quiet', '--no-password', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose'], {
    env: libpqEnv(conn),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = collectStderr(child.stderr, 64 << 10, true);
  const exited = exitOf(child);
  let broken;
  child.stdin.on('error', err => {
    broken = err;
  });
  // Every line is read (psql must never block on a full pipe); only the ready line counts.
  const ready = new Promise(resolve => {
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', line => line.trim() === readyLine && resolve(true));
    lines.on('close', () => resolve(false));
  });
  const gone = exited.then(() => {
    throw new Error('psql exited');
  });
  gone.catch(() => {});
  const kill = () => child.kill('SIGKILL');
  return {
    async write(data) {
      if (broken) throw broken;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('psql exited');
      if (!child.stdin.write(data)) await Promise.race([new Promise(resolve => child.stdin.once('drain', resolve)), gone]);
    },
    caughtUp: () => ready,
    kill,
    async end(finish) {
      if (!finish) kill();
      child.stdin.end();
      return ended(exited, program, stderr);
    },
  };
}

/**
 * pg_dump of `conn` at `snapshot`, compressed on the gzip worker threads: `next()` gives
 * `{data, raw}` pieces then null, `result()` `{digests, complete}`, `exit()` how pg_dump ended.
 */
function startDump(program, conn, snapshot, level, threads) {
  const args = ['--format=plain', '--no-password', `--snapshot=${snapshot}`];
  if (conn.schema) args.push(`--schema=${conn.schema}`);
  const child = spawn(program, args, { env: libpqEnv(conn), stdio: ['ignore', 'pipe', 'pipe'] });
  // When a child exits, Node drains (discards) a stdout nobody listens to yet: a small dump can
  // finish before the first piece is asked for. A 'readable' listener claims it.
  child.stdout.on('readable', () => {});
  const stderr = collectStderr(child.stderr);
  const exited = exitOf(child);
  const pieces = compressed(child.stdout, level, threads);
  let result;
  return {
    async next() {
      const step = await pieces.next();
      if (!step.done) return step.value;
      result = step.value;
      return null;
    },
    result: () => result,
    kill() {
      child.kill('SIGTERM');
      // Nothing more is read: without this, a paused stdout holding data never closes, and
      // neither 'close' (exit()) nor the generator's pending read would ever come.
      child.stdout.destroy();
      // Ends the generator (its finally stops the workers).
      pieces.return().catch(() => {});
    },
    exit: () => ended(exited, program, stderr),
  };
}

/** What crates/wasm's JsClient calls. */
const client = { connect, startPsql, startDump };

module.exports = { client, connect, collectStderr };
