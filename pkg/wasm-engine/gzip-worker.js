'use strict';
// A worker thread running crates/wasm's Deflater (gzip + SHA-256 of the compressed side) while
// the main thread reads pg_dump, hashes the raw side and writes the store: the backup pipeline
// on two cores, as the native engine uses two. In: `{level}` first, then Uint8Array chunks, then
// 'finish'. Out, one reply per message, in order: the compressed bytes so far (often empty);
// for 'finish', `{last, digest, complete}`; `{error: {code, message}}` on a failure.
const { parentPort } = require('node:worker_threads');

const core = require('./core');

let deflater;
parentPort.on('message', message => {
  try {
    if (message === 'finish') {
      const last = deflater.finish();
      parentPort.postMessage({ last, digest: deflater.digest(), complete: deflater.completionLine() }, [last.buffer]);
    } else if (message instanceof Uint8Array) {
      const out = deflater.push(message);
      parentPort.postMessage(out, [out.buffer]);
    } else {
      core.warmUp();
      deflater = new core.Deflater(message.level);
      parentPort.postMessage(null);
    }
  } catch (err) {
    const coded = core.coded(err);
    parentPort.postMessage({ error: { code: coded.code, message: coded.message } });
  }
});
