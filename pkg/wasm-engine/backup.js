'use strict';
// The backup operation's bytes: with core's session holding the database's advisory lock and
// an exported snapshot, pg_dump --snapshot streams through SHA-256 and parallel gzip (blocks on
// worker threads) into core's BackupWriter, which writes and cleans up in core's one order.
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

/**
 * Streams the dump into a backup core writes (crates/wasm's BackupWriter: marker, data,
 * sidecar, manifest last, and the clean-up of a failure); resolves to the manifest.
 */
async function writeBackup(store, dump, database_, entities, options, progress, signal) {
  const writer = await core.beginBackup(store, options.request, options.defaultLevel, options.trust, database_.plugin_id);
  try {
    progress.phase('dumping');
    const streamed = await streamInto(writer, dump.stdout, writer.level, writer.threads, progress, signal).then(
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
    checkAborted(signal);
    progress.phase('finalizing');
    const manifest = await writer.finish(database_, entities, streamed.value.digests);
    progress.phase('done');
    return manifest;
  } catch (err) {
    // Nothing to do when finish failed: it removed what it wrote itself.
    await writer.abandon();
    throw signal?.aborted ? aborted() : err;
  } finally {
    writer.free();
  }
}

/**
 * Takes a backup of `conn` into `store`; resolves to the manifest. `options`: `{request (the
 * engine's snake_case backup options), defaultLevel, trust}`.
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

/** `engine.backup(options)`: checks the options (core's BackupRequest), resolves the database, backs up. */
async function backup(store, opts, defaultLevel, progress, signal, trust) {
  const checked = core.checkBackup(opts, defaultLevel, trust);
  const { conn, pluginId: fromDatabase } = pg.resolveDatabase(opts);
  const pluginId = checked.plugin_id ?? fromDatabase;
  return backupDatabase(store, conn, pluginId, { request: opts, defaultLevel, trust }, progress, signal);
}

module.exports = { backup, backupDatabase };
