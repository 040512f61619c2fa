'use strict';
// Restore and drill, as core's restore.rs and drill.rs: the backup streams from the store
// through crates/wasm's Verifier into psql inside ONE transaction; COMMIT is sent only when
// every check passed, so a damaged backup, an SQL error or an abort leaves the target as it was.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const readline = require('node:readline');

const { BackupError, database, aborted, checkAborted } = require('../errors');
const core = require('./core');
const pg = require('./postgres');

const { backupDatabase } = require('./backup');
const { readVerified } = require('./verify');

const SCRATCH_PREFIX = 'bbdrill_';
const STALE_SCRATCH_HOURS = 6;

const schemaFilter = schema => (schema ? `n.nspname = ${pg.quoteLiteral(schema)}` : 'true');

/** Creates the target database when missing; true when it did. */
async function ensureDatabase(target) {
  try {
    await (await pg.connect(target)).close();
    return false;
  } catch (err) {
    if (err.code !== 'E_NOT_FOUND') throw err;
  }
  const admin = await pg.connect(pg.withDatabase(target, 'postgres'));
  try {
    await admin.query(`CREATE DATABASE ${pg.quoteIdent(target.database)}`, `creating database ${target.database}`);
  } finally {
    await admin.close();
  }
  return true;
}

/** A writer into a child's stdin that waits for drain and fails once the child is gone. */
function stdinWriter(child) {
  let broken;
  child.stdin.on('error', err => {
    broken = err;
  });
  const gone = new Promise(resolve => child.on('close', resolve));
  return async data => {
    if (broken) throw broken;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('psql exited');
    if (!child.stdin.write(data)) {
      await Promise.race([new Promise(resolve => child.stdin.once('drain', resolve)), gone.then(() => Promise.reject(new Error('psql exited')))]);
    }
  };
}

async function load(store, entry, target, tools, schemas, lz4Toast, expected, progress, signal) {
  const psql = spawn(tools.psql, ['--no-psqlrc', '--quiet', '--no-password', '-v', 'ON_ERROR_STOP=1'], {
    env: pg.libpqEnv(target),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = pg.collectStderr(psql.stderr, 64 << 10);
  // psql says this line once it has run every statement before it: until then an abort can
  // still roll the restore back, after it only COMMIT is left (as the native engine).
  const readyLine = `backstage-backup-ready-${crypto.randomBytes(16).toString('hex')}`;
  const ready = new Promise(resolve => {
    // Every line is read (psql must never block on a full pipe); only ours counts.
    readline.createInterface({ input: psql.stdout, crlfDelay: Infinity }).on('line', line => {
      if (line.trim() === readyLine) resolve();
    });
  });
  const exited = new Promise(resolve => {
    psql.on('error', err => resolve({ err }));
    psql.on('close', (code, sig) => resolve({ code, sig }));
  });
  const write = stdinWriter(psql);
  // An abort stops psql with the transaction open: PostgreSQL rolls it back.
  const stop = () => psql.kill('SIGTERM');
  signal?.addEventListener('abort', stop);
  let outcome;
  try {
    await write(core.restorePrelude(schemas, Boolean(target.schema), lz4Toast));
    // When psql stops reading (an SQL error), keep verifying to the end, as the native engine
    // does: a damaged backup is reported as damaged, not as the SQL error it caused.
    let stopped;
    const feed = data => (stopped ? undefined : write(data).catch(err => (stopped = err)));
    const result = await readVerified(store, entry.keys.data, expected, progress, signal, feed);
    checkAborted(signal);
    if (result.corrupt) {
      outcome = { error: new BackupError('E_INTEGRITY', `${entry.id}: ${result.corrupt.message}; the target was left unchanged`) };
    } else if (result.problems.length) {
      await write('\nROLLBACK;\n').catch(() => {});
      outcome = {
        error: new BackupError('E_INTEGRITY', `${entry.id} failed verification; the target was left unchanged: ${result.problems.join('; ')}`),
      };
    } else if (stopped) {
      outcome = { error: database(`psql stopped reading: ${stopped.message}`) };
    } else {
      await write(`\n\\echo ${readyLine}\n`);
      const closed = exited.then(() => Promise.reject(database('psql ended before the transaction could commit')));
      const interrupted = new Promise((_, reject) => {
        const fail = () =>
          reject(new BackupError('E_ABORTED', `interrupted before COMMIT: the restore of ${entry.id} was rolled back and the target left unchanged`));
        if (signal?.aborted) fail();
        signal?.addEventListener('abort', fail, { once: true });
      });
      await Promise.race([ready, closed, interrupted]);
      // From COMMIT on, an abort no longer stops psql: the restore finishes.
      signal?.removeEventListener('abort', stop);
      progress.phase('committing');
      await write('COMMIT;\n');
      outcome = { bytes: result.check.compressed.bytes };
    }
  } catch (err) {
    if (err?.code === 'E_ABORTED') outcome = { error: err };
    else if (signal?.aborted) outcome = { error: aborted() };
    else if (err instanceof BackupError) outcome = { error: err };
    else outcome = { error: database(`psql stopped reading: ${err.message}`) };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  if (outcome.error) psql.kill('SIGTERM');
  psql.stdin.end();
  const { err, code, sig } = await exited;
  if (err) throw database(`cannot start ${tools.psql}: ${err.message}`);
  const ok = code === 0;
  if (outcome.error && ['E_INTEGRITY', 'E_ABORTED'].includes(outcome.error.code)) throw outcome.error;
  if (!ok) {
    const said = stderr()
      .split('\n')
      .filter(l => l.trim())
      .slice(0, 5);
    const status = sig ? `signal: ${sig}` : `exit status: ${code}`;
    throw database(
      `psql failed loading ${entry.id} (${status}); the transaction was rolled back and the target left unchanged: ` +
        `${said.length ? said.join(' | ') : 'it printed nothing'}`,
    );
  }
  if (outcome.error) throw outcome.error;
  return outcome.bytes;
}

/** Restores `entry` into `target` (a connection); resolves to the restore report. */
async function restore(store, entry, target, { clean = false, safetyBackup = true, trust }, level, progress, signal) {
  core.refuseUnusable(entry);
  core.admitSignature(entry, trust);
  const started = Date.now();
  checkAborted(signal);
  progress.phase('connecting');
  // core's rule: the manifest and the sidecar must agree before anything loads.
  const expected = await core.restoreExpectations(store, entry);
  const createdDatabase = await ensureDatabase(target);
  let safety = null;
  try {
    return await restoreIn(store, entry, target, clean, safetyBackup, level, trust, expected, createdDatabase, started, id => (safety = id), progress, signal);
  } catch (err) {
    let message = err.message;
    // A database this restore created holds nothing of anyone's: it goes, so "unchanged" holds.
    if (createdDatabase) {
      const dropped = await dropDatabase(pg.withDatabase(target, 'postgres'), target.database).then(() => undefined, e => e);
      message += dropped
        ? `; the database ${target.database} this restore created could not be dropped (${dropped.message}): drop it by hand`
        : `; the database ${target.database} this restore created was dropped again`;
    }
    if (safety) message += `; the safety backup ${safety} holds the data as it was before this restore`;
    throw new BackupError(err.code ?? 'E_INTERNAL', message);
  }
}

async function restoreIn(store, entry, target, clean, safetyBackup, level, trust, expected, createdDatabase, started, tookSafety, progress, signal) {
  const session = await pg.connect(target);
  try {
    const occupied = Number(
      await session.value(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') " +
          "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' " +
          `AND ${schemaFilter(target.schema)}`,
        'inspecting the target database',
      ),
    );
    if (occupied > 0 && !clean) {
      throw new BackupError(
        'E_EXISTS',
        `the target database '${target.database}' on ${pg.hostPort(target)} already holds ${occupied} tables, views or sequences; ` +
          'pass --clean to replace them (a safety backup is taken first), or restore into an empty database',
      );
    }
    let safety = null;
    if (occupied > 0 && safetyBackup) {
      const request = { level, trigger: 'safety', by: `restore of ${entry.id}` };
      try {
        // Named after the backup it is replaced by, as the native engine does: `latest` finds it
        // and prune keeps it with its plugin's backups whatever the target database is called.
        // Signed when the engine holds the private key; a public key only checks.
        const signer = core.checkTrust(trust)?.can_sign ? trust : undefined;
        const manifest = await backupDatabase(store, target, entry.plugin_id, { request, defaultLevel: level, trust: signer }, progress, signal);
        safety = manifest.id;
        tookSafety(safety);
      } catch (err) {
        throw new BackupError(err.code, `taking the safety backup before the restore: ${err.message}`);
      }
    }
    // core's lock (E_LOCKED while another backup or restore holds it) and version query.
    const server = await core.lockForRestore(session, target.database);
    let tools;
    try {
      tools = await pg.findTools(server.major);
    } catch (err) {
      throw new BackupError(err.code, `server ${server.version}: ${err.message}`);
    }
    const lz4Toast = (await session.value(core.lz4ToastProbe(), 'asking whether the server has LZ4 TOAST compression')) === 't';
    const schemas =
      occupied > 0
        ? (
            await session.query(
              "SELECT quote_ident(nspname) FROM pg_namespace n WHERE nspname NOT IN ('pg_catalog', 'information_schema') " +
                `AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%' AND ${schemaFilter(target.schema)} ORDER BY 1`,
              'listing schemas of the target database',
            )
          ).map(([name]) => name)
        : [];
    progress.phase('restoring');
    // Over a live Backstage, DROP SCHEMA … CASCADE may deadlock with the catalog and be the side
    // PostgreSQL aborts; it rolled back, so the load is run again (as the native engine does).
    let bytes;
    for (let loads = 1; ; loads++) {
      try {
        bytes = await load(store, entry, target, tools, schemas, lz4Toast, expected, progress, signal);
        break;
      } catch (err) {
        // Core's rule (restore_sql::deadlock_retry_delay): whether to load again, and when.
        const delayMs = core.deadlockRetryDelayMs(loads, err.message ?? '');
        if (delayMs === undefined) throw err;
        await new Promise(resolve => setTimeout(resolve, delayMs));
      }
    }
    const durationMs = Date.now() - started;
    // Committed by now: a catalog that cannot be counted is restored all the same.
    const entities = await pg.entityCountsBestEffort(target);
    progress.phase('done');
    return {
      id: entry.id,
      database: target.database,
      host: pg.hostPort(target),
      created_database: createdDatabase,
      safety_backup: safety,
      duration_ms: durationMs,
      restored_at: new Date().toISOString(),
      bytes,
      entities,
      expected_entities: entry.manifest?.entities ?? null,
    };
  } finally {
    await session.close();
  }
}

const pad = n => String(n).padStart(2, '0');
const stamp = d =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;

async function dropDatabase(server, name) {
  const admin = await pg.connect(server);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.quoteIdent(name)} WITH (FORCE)`, `dropping scratch database ${name}`);
  } finally {
    await admin.close();
  }
}

/** Drops scratch databases of drills that died more than STALE_SCRATCH_HOURS ago. */
async function dropStaleScratch(server, now) {
  const admin = await pg.connect(server);
  let names;
  try {
    names = (await admin.query("SELECT datname FROM pg_database WHERE datname LIKE 'bbdrill\\_%'", 'listing scratch databases')).map(([n]) => n);
  } finally {
    await admin.close();
  }
  for (const name of names) {
    const m = name.slice(SCRATCH_PREFIX.length).match(/^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})/);
    if (!m) continue;
    const at = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    if (at < now - STALE_SCRATCH_HOURS * 3600e3) await dropDatabase(server, name);
  }
}

/** Restores into a scratch database, compares entity counts, records the outcome, drops it. */
async function drill(store, entry, server, level, progress, signal, trust) {
  // Refused before a scratch database is made for it.
  core.refuseUnusable(entry);
  core.admitSignature(entry, trust);
  const started = Date.now();
  await dropStaleScratch(server, started);
  const nonce = String((process.hrtime.bigint() ^ BigInt(process.pid)) % 1000000n).padStart(6, '0');
  const scratch = `${SCRATCH_PREFIX}${stamp(new Date(started))}_${nonce}`;
  const target = { ...pg.withDatabase(server, scratch), schema: entry.manifest?.database?.schema };
  const restored = await restore(store, entry, target, { clean: false, safetyBackup: false, trust }, level, progress, signal).then(
    value => ({ value }),
    error => ({ error }),
  );
  const dropped = await dropDatabase(server, scratch).then(() => undefined, error => error);
  const expected = entry.manifest?.entities ?? null;
  const report = {
    id: entry.id,
    ok: false,
    problems: [],
    scratch_database: scratch,
    host: pg.hostPort(server),
    restore_ms: 0,
    duration_ms: 0,
    drilled_at: new Date(started).toISOString(),
    expected_entities: expected,
    entities: null,
  };
  if (restored.error?.code === 'E_ABORTED') throw restored.error;
  if (restored.error) report.problems.push(`restore failed: ${restored.error.message}`);
  else {
    report.restore_ms = restored.value.duration_ms;
    report.entities = restored.value.entities;
    progress.phase('comparing');
    report.problems.push(...core.compareEntities(expected, report.entities));
  }
  if (dropped) report.problems.push(`${dropped.message}; drop it by hand`);
  report.ok = report.problems.length === 0;
  report.duration_ms = Date.now() - started;
  const record = core.recordText(started, report.ok, report.duration_ms, report.problems, {
    restore_ms: report.restore_ms,
    entities: report.entities,
  });
  try {
    await store.put(entry.keys.drill_record, Buffer.from(record));
  } catch (err) {
    throw new BackupError(err.code, `recording the drill outcome: ${err.message}`);
  }
  progress.phase('done');
  return report;
}

module.exports = { restore, drill };
