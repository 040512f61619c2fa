'use strict';
// @backstage-backup/engine: one Engine API over backstage-backup-core, two engines behind it.
// The native addon (crates/napi) comes prebuilt in a platform package,
// @backstage-backup/engine-linux-x64-gnu, installed as an optional dependency where it fits
// (a checkout's own build, scripts/build-native.sh, sits in native/ and wins); where none loads
// (another platform, a libc mismatch), or when BACKSTAGE_BACKUP_ENGINE=wasm, the WebAssembly
// engine (crates/wasm in wasm/, with the I/O glue in wasm-engine/) takes over.
// Both take the same options, report the same progress, resolve to the same shapes and fail
// with the same BackupError codes.
const path = require('node:path');

const { BackupError } = require('./errors');

const KINDS = ['native', 'wasm'];

// The platforms a prebuilt native engine is published for; everywhere else runs the wasm engine.
const PREBUILT = ['linux-x64-gnu'];

/** `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, …: napi-rs's platform names. */
function platformKey() {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const glibc = process.report?.getReport?.()?.header?.glibcVersionRuntime;
  return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
}

function loadNative() {
  const key = platformKey();
  const local = path.join(__dirname, 'native', `backstage-backup.${key}.node`);
  const platformPackage = `@backstage-backup/engine-${key}`;
  try {
    return { binding: require(local), from: local };
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') return { error: `${local} does not load: ${err.message}` };
  }
  try {
    return { binding: require(platformPackage), from: platformPackage };
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !err.message.includes(platformPackage)) {
      return { error: `${platformPackage} does not load here: ${err.message}` };
    }
  }
  if (!PREBUILT.includes(key)) {
    return { error: `no prebuilt native engine for ${key} (there is one for ${PREBUILT.join(', ')})` };
  }
  return {
    error:
      `${platformPackage} is not installed (an install that omits optional dependencies leaves it out); ` +
      `add it to the backend package (\`yarn add ${platformPackage}\`)`,
  };
}

function loadWasm() {
  try {
    return { binding: require('./wasm-engine/engine') };
  } catch (err) {
    return { error: `${err.message}; reinstall @backstage-backup/engine (its wasm/ files are missing or damaged)` };
  }
}

// Loaded on first use, so a process that only needs one engine never loads the other.
const loaded = {};
const load = kind => (loaded[kind] ??= kind === 'native' ? loadNative() : loadWasm());

function choose(requested) {
  if (requested === 'auto' || requested === '') requested = undefined;
  if (requested !== undefined && !KINDS.includes(requested)) {
    throw new BackupError('E_INVALID', `engine must be 'native', 'wasm' or 'auto', not '${requested}'`);
  }
  if (requested) {
    const engine = load(requested);
    if (engine.binding) return requested;
    const fallback = requested === 'native' ? '; or leave BACKSTAGE_BACKUP_ENGINE unset to use the WebAssembly engine' : '';
    throw new BackupError('E_UNAVAILABLE', `the ${requested} engine is not available: ${engine.error}${fallback}`);
  }
  if (load('native').binding) return 'native';
  if (load('wasm').binding) return 'wasm';
  throw new BackupError(
    'E_UNAVAILABLE',
    `neither engine is available (native: ${load('native').error}; wasm: ${load('wasm').error})`,
  );
}

/** Which engine `new Engine()` would use, and why: for a start-up log line. */
function engineChoice(requested = process.env.BACKSTAGE_BACKUP_ENGINE || undefined) {
  const kind = choose(requested);
  if (requested && requested !== 'auto') return { kind, reason: `BACKSTAGE_BACKUP_ENGINE=${requested} asks for it` };
  if (kind === 'native') return { kind, reason: `its addon (${load('native').from}) loads on ${platformKey()}` };
  return { kind, reason: `the native engine did not load: ${load('native').error}` };
}

// Both engines return core's JS shape (crates/core/src/js_shape.rs), as types.generated.d.ts
// declares it: nothing is renamed here.
function settle(text) {
  const result = JSON.parse(text);
  if (result.ok) return result.value;
  throw new BackupError(result.error.code, result.error.message, result.error.reason);
}

async function call(signal, start) {
  if (signal?.aborted) throw new BackupError('E_ABORTED', 'aborted before it started');
  try {
    return await start();
  } catch (err) {
    if (err instanceof BackupError) throw err;
    if (signal?.aborted) throw new BackupError('E_ABORTED', 'aborted; nothing partial was left in the store');
    throw new BackupError('E_INTERNAL', err.message);
  }
}

// The native addon sends progress as JSON text; the wasm engine as objects.
function progress(onProgress, parse) {
  if (typeof onProgress !== 'function') return undefined;
  return event => {
    try {
      onProgress(parse ? JSON.parse(event) : event);
    } catch {
      // A failing listener must not break the backup.
    }
  };
}

/** The native addon behind the common calling convention: options and results as JSON text. */
class NativeBackend {
  constructor(binding, store, level, s3Credentials, signing) {
    // The store and the credentials as given: core reads both (core's StoreSpec).
    const json = value => (value === undefined ? undefined : JSON.stringify(value));
    try {
      this.engine = new binding.NativeEngine(json(store), level, json(s3Credentials), json(signing));
    } catch (err) {
      throw nativeChunkError(err);
    }
  }
  describeStore() {
    return this.direct('describeStore');
  }
  checkPrune(options) {
    this.direct('checkPrune', JSON.stringify(options ?? {}));
  }
  parseBackupId(id) {
    return JSON.parse(this.direct('parseBackupId', String(id)));
  }
  /** A synchronous call of the addon, its "E_CODE: message" failures as BackupErrors. */
  direct(method, ...args) {
    try {
      return this.engine[method](...args);
    } catch (err) {
      throw nativeChunkError(err);
    }
  }
  run(method, args, onProgress, signal) {
    const json = args.map(a => (a !== null && typeof a === 'object' ? JSON.stringify(a) : a));
    const withProgress = method === 'backup' || method === 'verify' || method === 'restore';
    const rest = withProgress ? [progress(onProgress, true), signal] : method === 'drill' ? [signal] : [];
    return call(signal, async () => settle(await this.engine[method](...json, ...rest)));
  }
}

// A native reader's errors arrive as "E_CODE: message" (they are not built on the JS thread).
function nativeChunkError(err) {
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(err?.message ?? '');
  return m ? new BackupError(m[1], m[2]) : new BackupError('E_INTERNAL', err?.message ?? String(err));
}

NativeBackend.prototype.openRead = async function openRead(selector) {
  const reader = this.engine.reader(selector);
  const opened = await call(undefined, async () => settle(await reader.open()));
  async function* chunks() {
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.next();
        } catch (err) {
          throw nativeChunkError(err);
        }
        if (chunk === null) return;
        yield chunk;
      }
    } finally {
      // A reader stopped early (a client that went away) lets the backup go now, not at GC.
      reader.close();
    }
  }
  return { ...opened, chunks: chunks() };
};

class WasmBackend {
  constructor(binding, store, level, s3Credentials, signing) {
    this.engine = new binding.WasmEngine(store, level, s3Credentials, signing);
  }
  describeStore() {
    return this.engine.describeStore();
  }
  checkPrune(options) {
    this.engine.checkPrune(options);
  }
  parseBackupId(id) {
    return this.engine.parseBackupId(id);
  }
  run(method, args, onProgress, signal) {
    const withProgress = method === 'backup' || method === 'verify' || method === 'restore';
    const rest = withProgress ? [progress(onProgress, false), signal] : method === 'drill' ? [signal] : [];
    return call(signal, () => this.engine[method](...args, ...rest));
  }
  openRead(selector) {
    return call(undefined, () => this.engine.openRead(selector));
  }
}

// A PEM key is well under 1 KiB: a larger "key file" is the wrong file, never read whole.
const MAX_KEY_BYTES = 16 * 1024;

/** Reads a key file: regular files only, capped whatever its size says; never echoes it. */
function readKeyFile(file) {
  const fs = require('node:fs');
  let fd;
  try {
    if (!fs.statSync(file).isFile()) throw new Error('not a regular file');
    fd = fs.openSync(file, 'r');
    const buffer = Buffer.alloc(MAX_KEY_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_KEY_BYTES) throw new Error(`over ${MAX_KEY_BYTES >> 10} KiB; is it the right file?`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'it does not exist' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new BackupError('E_INVALID', `cannot read the signing key file ${file}: ${why}; give the path of an Ed25519 PEM key (\`backstage-backup keygen\` makes one)`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** `{key?, keyFile?, allowUnsigned?}` as the engines take it: `{key: PEM text, allow_unsigned}`. */
function signingSettings(signing) {
  if (signing === undefined || signing === null) return undefined;
  const ok =
    typeof signing === 'object' &&
    Object.keys(signing).every(k => ['key', 'keyFile', 'allowUnsigned'].includes(k)) &&
    (signing.key === undefined || typeof signing.key === 'string') &&
    (signing.keyFile === undefined || typeof signing.keyFile === 'string') &&
    (signing.allowUnsigned === undefined || typeof signing.allowUnsigned === 'boolean') &&
    !(signing.key && signing.keyFile);
  if (!ok) {
    throw new BackupError('E_INVALID', 'signing must be {key?: PEM text, keyFile?: path, allowUnsigned?: boolean}, with key or keyFile, not both');
  }
  const key = signing.keyFile ? readKeyFile(signing.keyFile) : signing.key;
  return { key: key || undefined, allow_unsigned: Boolean(signing.allowUnsigned) };
}

class Engine {
  /**
   * @param {{store?: string | {url: string, region?: string, endpoint?: string, forcePathStyle?: boolean, sse?: string, kmsKeyId?: string, credentials?: object}, compressionLevel?: number, engine?: 'native' | 'wasm',
   *   s3Credentials?: {accessKeyId: string, secretAccessKey: string, sessionToken?: string},
   *   signing?: {key?: string, keyFile?: string, allowUnsigned?: boolean}}} [opts]
   */
  constructor({
    store = process.env.BACKSTAGE_BACKUP_STORE || './backups',
    compressionLevel = 6,
    engine = process.env.BACKSTAGE_BACKUP_ENGINE || undefined,
    s3Credentials = undefined,
    signing = undefined,
  } = {}) {
    if (!Number.isInteger(compressionLevel) || compressionLevel < 1 || compressionLevel > 9) {
      throw new BackupError('E_INVALID', 'compressionLevel must be a whole number from 1 to 9');
    }
    const trust = signingSettings(signing);
    this.kind = choose(engine);
    this.store = store;
    const Backend = this.kind === 'native' ? NativeBackend : WasmBackend;
    Object.defineProperty(this, 'backend', { value: new Backend(load(this.kind).binding, store, compressionLevel, s3Credentials, trust) });
  }

  /** Where the store is, safe to show (E_INVALID when the store is wrong). */
  describeStore() {
    return this.backend.describeStore();
  }

  /** A backup id taken apart, by core: `{id, pluginId, takenAt}`; throws E_INVALID for anything else. */
  parseBackupId(id) {
    return this.backend.parseBackupId(id);
  }

  /** Checks prune options without touching the store (throws E_INVALID naming what is wrong). */
  checkPrune(options) {
    this.backend.checkPrune(options);
  }

  backup({ onProgress, signal, ...opts } = {}) {
    return this.backend.run('backup', [opts], onProgress, signal);
  }

  list() {
    return this.backend.run('list', []);
  }

  verify(selector = 'latest', { onProgress, signal } = {}) {
    return this.backend.run('verify', [selector], onProgress, signal);
  }

  restore(selector, { onProgress, signal, ...opts } = {}) {
    return this.backend.run('restore', [selector, opts], onProgress, signal);
  }

  drill(selector = 'latest', { signal, ...opts } = {}) {
    return this.backend.run('drill', [selector, opts], undefined, signal);
  }

  prune(opts = {}) {
    return this.backend.run('prune', [opts]);
  }

  health(opts = {}) {
    return this.backend.run('health', [opts]);
  }

  /** Opens a backup's stored `.sql.gz`; `chunks` yields it a Buffer at a time (back-pressure). */
  openRead(selector = 'latest') {
    return this.backend.openRead(selector);
  }
}

module.exports = { Engine, BackupError, engineChoice };
