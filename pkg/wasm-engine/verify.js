'use strict';
// Reading a backup for restore and drill through crates/wasm's Verifier (SHA-256 of both
// sides, full gunzip, pg_dump's completion line), the dump handed to psql as it is checked.
// `verify` itself is core's (crates/wasm's ops.rs).
const { BackupError, store: storeError, checkAborted } = require('../errors');
const core = require('./core');

const CHUNK_BYTES = 1 << 20;

/**
 * Streams `key` through a Verifier. With `onOutput`, the decompressed dump is handed to it
 * (awaited: back-pressure). Resolves `{check, problems}`, or `{corrupt}` (an E_INTEGRITY
 * error) when the object is not a whole gzip stream.
 */
async function readVerified(store, key, expected, progress, signal, onOutput) {
  const { stream, size } = await store.get(key);
  const verifier = new core.Verifier(Boolean(onOutput));
  let pieces = [];
  let length = 0;
  const feed = async () => {
    const out = verifier.push(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length));
    pieces = [];
    length = 0;
    if (onOutput && out.length) await onOutput(out);
    progress.bytes({ raw: verifier.rawBytes, stored: verifier.storedBytes, total: size });
  };
  try {
    try {
      for await (const chunk of stream) {
        checkAborted(signal);
        pieces.push(chunk);
        length += chunk.length;
        if (length >= CHUNK_BYTES) await feed();
      }
    } catch (err) {
      if (err instanceof BackupError || err?.code?.startsWith?.('E_')) throw err;
      throw storeError(`reading the backup from the store: ${err.message}`);
    }
    if (length) await feed();
    const { check, problems, rest } = verifier.finish(expected);
    if (onOutput && rest.length) await onOutput(rest);
    return { check, problems };
  } catch (err) {
    stream.destroy?.();
    const coded = core.coded(err);
    if (coded.code === 'E_INTEGRITY') return { corrupt: coded };
    throw coded;
  } finally {
    verifier.free();
  }
}

module.exports = { readVerified };
