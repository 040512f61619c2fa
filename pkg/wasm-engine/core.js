'use strict';
// The WebAssembly half of the engine (crates/wasm, built by scripts/build-wasm.sh into
// pkg/wasm/): every decision and byte transform. Its errors carry the core's stable codes;
// here they become BackupErrors.
const path = require('node:path');

const { BackupError } = require('../errors');

const file = path.join(__dirname, '..', 'wasm', 'backstage_backup_wasm.js');
const wasm = require(file);

// A first huge call into wasm runs in V8's baseline tier (15-22 MB/s): compress and verify a
// few chunks once so the hot loops are optimised before real data arrives.
function warmUp() {
  // Whole lines only: the verifier refuses a dump that ends inside a statement.
  const line = 'INSERT INTO warm VALUES (1);\n';
  const chunk = Buffer.from(line.repeat(Math.floor((256 << 10) / line.length)));
  const deflater = new wasm.Deflater(1);
  const verifier = new wasm.Verifier(false);
  for (let i = 0; i < 8; i++) verifier.push(deflater.push(chunk));
  verifier.push(deflater.finish());
  verifier.finish(undefined);
  deflater.free();
  verifier.free();
}

function coded(err) {
  if (err instanceof BackupError) return err;
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) return new BackupError(err.code, err.message);
  return new BackupError('E_INTERNAL', err?.message ?? String(err));
}

// Every export, with errors turned into BackupErrors; classes stay as they are (their methods
// throw coded errors that `coded` converts where the glue catches them).
const api = {};
for (const [name, value] of Object.entries(wasm)) {
  const isClass = typeof value === 'function' && /^[A-Z]/.test(name);
  api[name] =
    typeof value !== 'function' || isClass
      ? value
      : (...args) => {
          try {
            return value(...args);
          } catch (err) {
            throw coded(err);
          }
        };
}

let warmed = false;
api.warmUp = () => {
  if (!warmed) warmUp();
  warmed = true;
};
api.coded = coded;

module.exports = api;
