'use strict';
// A worker thread compressing blocks of the dump with crates/wasm's deflateBlock (pigz style:
// raw deflate primed with the previous block's last 32 KiB), while the main thread reads
// pg_dump, hashes and frames the stream and writes the store. In: `{level}` first, then
// `{dictionary, data, last}` per block. Out, one reply per message, in order: `null` for the
// first, the block's compressed bytes for the others; `{error: {code, message}}` on a failure.
const { parentPort } = require('node:worker_threads');

const core = require('./core');

let level;
parentPort.on('message', message => {
  try {
    if (message.data) {
      const out = core.deflateBlock(level, message.dictionary, message.data, message.last);
      parentPort.postMessage(out, [out.buffer]);
    } else {
      level = message.level;
      // Hot loops optimised before real data arrives (a first huge call runs in V8's baseline tier).
      const sample = Buffer.alloc(256 << 10, 'INSERT INTO warm VALUES (1);\n');
      for (let i = 0; i < 4; i++) core.deflateBlock(level, new Uint8Array(0), sample, false);
      parentPort.postMessage(null);
    }
  } catch (err) {
    const coded = core.coded(err);
    parentPort.postMessage({ error: { code: coded.code, message: coded.message } });
  }
});
