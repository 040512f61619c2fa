'use strict';
// The backup operation, as core's backup.rs: with the database's advisory lock held and a
// snapshot exported, pg_dump --snapshot streams through crates/wasm's SHA-256 and parallel
// gzip (blocks on worker threads) into the store; then the sidecar, then the manifest (written
// last). A marker stands beside the backup until then, and every failure or abort removes what
// was written.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const { BackupError, database, aborted, checkAborted } = require('../errors');
const core = require('./core');
const pg = require('./postgres');

function spawnPgDump(tools, conn, snapshot) {
  const args = ['--format=plain', '--no-password', `--snapshot=${snapshot}`];
  if (conn.schema) args.push(`--schema=${conn.schema}`);
  const child = spawn(tools.pgDump, args, { env: pg.libpqEnv(conn), stdio: ['ignore', 'pipe', 'pipe'] });
  // When a child exits, Node drains (discards) a stdout nobody listens to yet: a small dump can
  // finish before the upload is ready. A 'readable' listener claims it (and keeps flow control).
  child.stdout.on('readable', () => {});
  const stderr = pg.collectStderr(child.stderr);
  const exited = new Promise(resolve => {
    child.on('error', err => resolve({ err }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const wait = async () => {
    const { err, code, signal } = await exited;
    if (err) throw database(`cannot start ${tools.pgDump}: ${err.message}`);
    if (code === 0) return;
    const status = signal ? `signal: ${signal}` : `exit status: ${code}`;
    throw database(`pg_dump failed (${status}): ${stderr() || 'it printed nothing'}`);
  };
  return { child, stdout: child.stdout, wait };
}

/** Dump blocks compressed independently (pigz style), as the native engine's 1 MiB blocks. */
const BLOCK_BYTES = 1 << 20;
/** Each block is primed with the previous block's last 32 KiB: gzip's ratio, not a block's. */
const DICTIONARY_BYTES = 32 << 10;
const cores = () => os.availableParallelism?.() ?? os.cpus().length;
/** Blocks in flight per worker: enough to keep every thread busy, and memory bounded. */
const IN_FLIGHT_PER_WORKER = 2;

/** A gzip worker: `send(message)` resolves to its reply; replies come in order. */
function gzipWorker() {
  const worker = new Worker(path.join(__dirname, 'gzip-worker.js'));
  const waiting = [];
  let failure;
  const fail = err => {
    failure ??= err;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  worker.on('message', reply => {
    const next = waiting.shift();
    if (reply?.error) next?.reject(new BackupError(reply.error.code, reply.error.message));
    else next?.resolve(reply);
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new BackupError('E_INTERNAL', 'the gzip worker stopped')));
  return {
    send: (message, transfer) => {
      if (failure) return Promise.reject(failure);
      const reply = new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      worker.postMessage(message, transfer);
      return reply;
    },
    stop: () => worker.terminate(),
  };
}

/** The last DICTIONARY_BYTES of `previous` followed by `block` (a copy: `block` is transferred). */
function nextDictionary(previous, block) {
  if (block.length >= DICTIONARY_BYTES) return block.slice(block.length - DICTIONARY_BYTES);
  const joined = new Uint8Array(previous.length + block.length);
  joined.set(previous);
  joined.set(block, previous.length);
  return joined.slice(Math.max(0, joined.length - DICTIONARY_BYTES));
}

/**
 * Streams the dump into `upload` as one standard gzip stream, pigz style: 1 MiB blocks are
 * compressed on `threads` (0 or absent: one per core) worker threads while this thread hashes the raw side (SHA-256, CRC-32)
 * and writes the blocks in order between the gzip header and trailer. `{digests, complete}`.
 * At most IN_FLIGHT_PER_WORKER blocks per worker wait: memory stays bounded and back-pressure
 * reaches pg_dump.
 */
async function streamInto(upload, input, level, threads, progress, signal) {
  const framer = new core.GzipFramer();
  // The raw side's SHA-256 (1.9 GB on a large catalog) with Node's crypto: SHA extensions make
  // it ~10x faster than WebAssembly's, and this thread would otherwise be the bottleneck.
  const rawHash = crypto.createHash('sha256');
  const workers = Array.from({ length: core.compressionThreads(threads ?? 0, cores()) }, () => gzipWorker());
  const pending = [];
  let raw = 0;
  const drain = async keep => {
    while (pending.length > keep) {
      const out = await pending.shift();
      framer.stored(out);
      if (out.length) await upload.write(out);
      progress.bytes({ raw, stored: framer.storedBytes, total: null });
    }
  };
  try {
    await Promise.all(workers.map(worker => worker.send({ level })));
    await upload.write(framer.header());
    let dictionary = new Uint8Array(0);
    let sent = 0;
    let pieces = [];
    let size = 0;
    const send = async last => {
      // Copied into a buffer of its own (never Node's shared pool): it is handed to a worker.
      const block = new Uint8Array(size);
      let at = 0;
      for (const piece of pieces) {
        block.set(piece, at);
        at += piece.length;
      }
      pieces = [];
      size = 0;
      framer.raw(block);
      rawHash.update(block);
      raw += block.length;
      const primer = dictionary;
      dictionary = nextDictionary(dictionary, block);
      const worker = workers[sent++ % workers.length];
      pending.push(worker.send({ dictionary: primer, data: block, last }, [block.buffer]));
      await drain(workers.length * IN_FLIGHT_PER_WORKER - 1);
    };
    try {
      for await (const chunk of input) {
        checkAborted(signal);
        pieces.push(chunk);
        size += chunk.length;
        if (size >= BLOCK_BYTES) await send(false);
      }
    } catch (err) {
      if (err instanceof BackupError) throw err;
      throw database(`reading the dump: ${err.message}`);
    }
    checkAborted(signal);
    // The last block (empty for an empty dump) ends the deflate stream.
    await send(true);
    await drain(0);
    await upload.write(framer.trailer());
    const digests = { raw: { bytes: raw, sha256: rawHash.digest('hex') }, compressed: framer.digest() };
    progress.bytes({ raw: digests.raw.bytes, stored: digests.compressed.bytes, total: null });
    return { digests, complete: framer.completionLine() };
  } catch (err) {
    // Replies still owed settle (or fail) when the workers stop; nobody waits for them.
    for (const reply of pending) reply.catch(() => {});
    throw core.coded(err);
  } finally {
    framer.free();
    await Promise.all(workers.map(worker => worker.stop()));
  }
}

async function writeBackup(store, dump, database_, entities, options, progress, signal) {
  // core's reservation: the marker, created only if absent, makes the name this backup's.
  const name = await core.reserveName(store, database_.plugin_id);
  const { id, keys } = name;
  const createdAt = name.startedMs;
  // The parts this backup created: a failure deletes these and nothing else.
  const written = [];
  try {
    const upload = await store.startUpload(keys.data);
    progress.phase('dumping');
    let digests;
    try {
      const streamed = await streamInto(upload, dump.stdout, options.level, options.threads, progress, signal).then(
        value => ({ value }),
        error => ({ error }),
      );
      // A failed upload or an abort came first (and stopped pg_dump): it is the cause.
      if (streamed.error) dump.child.kill('SIGTERM');
      const exited = await dump.wait().then(() => undefined, error => error);
      if (streamed.error) throw streamed.error;
      if (exited) throw exited;
      if (!streamed.value.complete) {
        throw database(
          'the dump ended without pg_dump\'s "PostgreSQL database dump complete" line: it is not a complete plain-format dump',
        );
      }
      digests = streamed.value.digests;
    } catch (err) {
      await upload.abort().catch(() => {});
      throw err;
    }
    checkAborted(signal);
    progress.phase('finalizing');
    // Exclusive, as every part: nothing this backup writes replaces another's object.
    await upload.complete();
    written.push(keys.data);
    await store.putNew(keys.sidecar, Buffer.from(core.sidecarText(digests.compressed.sha256, keys.data)));
    written.push(keys.sidecar);
    // Signed with the engine's private key when it has one (options.trust).
    const { manifest, text } = core.buildSignedManifest({
      id,
      name: keys.data,
      database: database_,
      created_at_ms: createdAt,
      finished_at_ms: Date.now(),
      level: options.level,
      raw: digests.raw,
      compressed: digests.compressed,
      entities,
      trigger: options.trigger,
      labels: options.labels ?? {},
    }, options.trust);
    await store.putNew(keys.manifest, Buffer.from(text));
    written.push(keys.manifest);
    // A leftover marker beside a manifest is harmless: the manifest decides.
    await store.delete(keys.marker).catch(() => {});
    name.free();
    progress.phase('done');
    return manifest;
  } catch (err) {
    for (const key of [keys.manifest, keys.sidecar, keys.data]) if (written.includes(key)) await store.delete(key).catch(() => {});
    await name.release();
    throw signal?.aborted ? aborted() : err;
  }
}

/**
 * Takes a backup of `conn` into `store`; resolves to the manifest. `options`: level, trigger
 * (as checkBackupOptions returns it), labels, pluginId.
 */
async function backupDatabase(store, conn, pluginId, options, progress, signal) {
  checkAborted(signal);
  progress.phase('connecting');
  const session = await pg.connect(conn);
  let dump;
  const stop = () => dump?.child.kill('SIGTERM');
  signal?.addEventListener('abort', stop);
  try {
    // Holds the database's advisory lock and the exported snapshot until the dump is done
    // (core's queries; closing the session releases both).
    const snapshot = await core.openSnapshot(session, conn);
    const tools = await pg.findTools(snapshot.server_major);
    checkAborted(signal);
    // Other databases (servers) may share this plugin id and store: only what is abandoned goes.
    await core.clearLeftovers(store, pluginId);
    checkAborted(signal);
    dump = spawnPgDump(tools, conn, snapshot.snapshot_id);
    const info = {
      name: conn.database,
      plugin_id: pluginId,
      host: pg.hostPort(conn),
      ...(conn.schema ? { schema: conn.schema } : {}),
      server_version: snapshot.server_version,
      pg_dump_version: tools.version,
      ...(snapshot.latest_migration ? { latest_migration: snapshot.latest_migration } : {}),
    };
    return await writeBackup(store, dump, info, snapshot.entities, options, progress, signal);
  } finally {
    signal?.removeEventListener('abort', stop);
    dump?.child.kill('SIGTERM');
    await session.close();
  }
}

/** `engine.backup(options)`: resolves the database, checks the options, backs up. */
async function backup(store, opts, defaultLevel, progress, signal, trust) {
  core.requireSigningKey(trust);
  const level = opts.level ?? defaultLevel;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new BackupError('E_INVALID', `compression level ${level} is out of range: use 1 (fastest) to 9 (smallest)`);
  }
  const { conn, pluginId: fromDatabase } = pg.resolveDatabase(opts);
  const pluginId = opts.plugin_id ?? fromDatabase;
  // Core's rule (pipeline::compression_threads): 0 is one per core, as natively.
  const threads = core.compressionThreads(opts.threads ?? 0, cores());
  const trigger = core.checkBackupOptions(opts.trigger ?? undefined, opts.by ?? undefined, opts.labels, pluginId);
  return backupDatabase(store, conn, pluginId, { level, threads, trigger, labels: opts.labels, trust }, progress, signal);
}

module.exports = { backup, backupDatabase };
