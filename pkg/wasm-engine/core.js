'use strict';
// The WebAssembly half of the engine (crates/wasm, built by scripts/build-wasm.sh into
// pkg/wasm/): every decision and byte transform. Its errors carry the core's stable codes;
// here they become BackupErrors.
const { execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
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
  if (err && typeof err.code === 'string' && err.code.startsWith('E_')) return new BackupError(err.code, err.message, err.reason);
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

/** Reads a short /proc value: at most 64 characters, else nothing. */
function readShort(file) {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return text && text.length <= 64 ? text : undefined;
  } catch {
    return undefined;
  }
}

// What core's store protocols need from Node (its `Host`): wasm32 has no clock, timer or process.
wasm.installHost({
  /** This process as a backup's marker names it. */
  thisProcess() {
    let pidNamespace;
    try {
      pidNamespace = fs.readlinkSync('/proc/self/ns/pid');
    } catch {}
    const bootId = readShort('/proc/sys/kernel/random/boot_id');
    return {
      host: os.hostname().slice(0, 255),
      ...(bootId ? { boot_id: bootId } : {}),
      ...(pidNamespace && pidNamespace.length <= 64 ? { pid_namespace: pidNamespace } : {}),
      pid: process.pid,
    };
  },
  /** Whether `pid` runs in this PID namespace (EPERM: it runs as another user). */
  pidAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return err.code !== 'ESRCH';
    }
  },
  randomToken: () => crypto.randomBytes(16).toString('hex'),
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
  envVar: name => process.env[name],
  /** A regular file's first `max + 1` bytes at most (core judges the size and the text). */
  readSmallFile(file, max) {
    if (!fs.statSync(file).isFile()) throw new Error('not a regular file');
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(max + 1);
      let length = 0;
      for (let n; length < buffer.length && (n = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
      return buffer.subarray(0, length);
    } finally {
      fs.closeSync(fd);
    }
  },
  isFile(file) {
    try {
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  },
  listDir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  /** `program --version`'s output, run without credentials in its environment. */
  toolVersion(program) {
    const env = { ...process.env };
    delete env.PGPASSWORD;
    delete env.DATABASE_URL;
    return new Promise(resolve => execFile(program, ['--version'], { env }, (err, stdout) => resolve(err ? undefined : stdout)));
  },
});

let warmed = false;
api.warmUp = () => {
  if (!warmed) warmUp();
  warmed = true;
};
api.coded = coded;

module.exports = api;
