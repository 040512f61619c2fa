'use strict';
// Reads a small object whole, refusing one larger than `limit`: core's `Store::get_small`.
const { BackupError, store: storeError } = require('../../errors');

/** `{stream, size}` from a store's get, read into one Buffer of at most `limit` bytes. */
async function readCapped(key, { stream, size }, limit) {
  if (size > limit) {
    stream.destroy?.();
    throw new BackupError('E_INTEGRITY', `${key} is ${size} bytes, more than the ${limit} expected`);
  }
  const chunks = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > limit) throw new BackupError('E_INTEGRITY', `${key} is larger than ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy?.();
    throw err instanceof BackupError ? err : storeError(`reading ${key}: ${err.message}`);
  }
  return Buffer.concat(chunks);
}

module.exports = { readCapped };
