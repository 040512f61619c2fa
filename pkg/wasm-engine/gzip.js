'use strict';
// The gzip worker threads: pg_dump's output compressed pigz style on worker threads while this
// thread hashes and frames it (crates/wasm's GzipFramer). Core's backup (database_backup.rs)
// pulls the pieces into its upload and decides what a failure was.
const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const { BackupError, database } = require('../errors');
const core = require('./core');

/** Dump blocks compressed independently (pigz style), each primed with the previous block's last
 * bytes: core's sizes, as the native engine's. */
const { blockBytes: BLOCK_BYTES, dictionaryBytes: DICTIONARY_BYTES } = core.gzipBlocks();
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
 * The dump compressed as one standard gzip stream, pigz style: 1 MiB blocks are compressed on
 * `threads` (0: one per core) worker threads while this thread hashes the raw side (SHA-256,
 * CRC-32) and yields `{data, raw}` pieces in order between the gzip header and trailer; returns
 * `{digests, complete}`. At most IN_FLIGHT_PER_WORKER blocks per worker wait: memory stays
 * bounded and back-pressure reaches pg_dump.
 */
async function* compressed(input, level, threads) {
  const framer = new core.GzipFramer();
  // The raw side's SHA-256 (1.9 GB on a large catalog) with Node's crypto: SHA extensions make
  // it ~10x faster than WebAssembly's, and this thread would otherwise be the bottleneck.
  const rawHash = crypto.createHash('sha256');
  const workers = Array.from({ length: core.compressionThreads(threads ?? 0, cores()) }, () => gzipWorker());
  const pending = [];
  let raw = 0;
  async function* drain(keep) {
    while (pending.length > keep) {
      const out = await pending.shift();
      framer.stored(out);
      yield { data: out, raw };
    }
  }
  try {
    await Promise.all(workers.map(worker => worker.send({ level })));
    yield { data: framer.header(), raw };
    let dictionary = new Uint8Array(0);
    let sent = 0;
    let pieces = [];
    let size = 0;
    const send = last => {
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
    };
    try {
      for await (const chunk of input) {
        pieces.push(chunk);
        size += chunk.length;
        if (size >= BLOCK_BYTES) {
          send(false);
          yield* drain(workers.length * IN_FLIGHT_PER_WORKER - 1);
        }
      }
    } catch (err) {
      if (err instanceof BackupError) throw err;
      throw database(`reading the dump: ${err.message}`);
    }
    // The last block (empty for an empty dump) ends the deflate stream.
    send(true);
    yield* drain(0);
    yield { data: framer.trailer(), raw };
    return { digests: { raw: { bytes: raw, sha256: rawHash.digest('hex') }, compressed: framer.digest() }, complete: framer.completionLine() };
  } finally {
    // Replies still owed settle (or fail) when the workers stop; nobody waits for them.
    for (const reply of pending) reply.catch(() => {});
    framer.free();
    await Promise.all(workers.map(worker => worker.stop()));
  }
}

module.exports = { compressed };
