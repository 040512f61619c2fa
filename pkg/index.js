'use strict';
// @backstage-backup/engine: one Engine API over backstage-backup-core. Loads the native addon
// built from crates/napi; BACKSTAGE_BACKUP_ENGINE=wasm asks for the WebAssembly engine, which
// is not built yet, so that (or a platform without the addon) fails with a clear E_UNAVAILABLE.
const path = require('node:path');

class BackupError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'BackupError';
    this.code = code;
  }
}

function loadNative() {
  if (process.env.BACKSTAGE_BACKUP_ENGINE === 'wasm') return { error: 'BACKSTAGE_BACKUP_ENGINE=wasm' };
  const file = path.join(__dirname, 'native', `backstage-backup.${process.platform}-${process.arch}.node`);
  try {
    return { binding: require(file) };
  } catch (err) {
    return { error: `${file}: ${err.message}` };
  }
}

const native = loadNative();

// Keys under these are data (label names, entity kinds), not field names: never renamed.
const VERBATIM = new Set(['labels', 'entities', 'expected_entities', 'expectedEntities']);

function rename(value, convert, verbatim = false) {
  if (Array.isArray(value)) return value.map(v => rename(v, convert));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) {
    const name = verbatim ? key : convert(key);
    out[name] = verbatim ? inner : rename(inner, convert, VERBATIM.has(key));
  }
  return out;
}
const toCamel = key => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const toSnake = key => key.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);

function settle(text) {
  const result = JSON.parse(text);
  if (result.ok) return rename(result.value, toCamel);
  throw new BackupError(result.error.code, result.error.message);
}

async function call(signal, start) {
  if (signal?.aborted) throw new BackupError('E_ABORTED', 'aborted before it started');
  try {
    return settle(await start());
  } catch (err) {
    if (err instanceof BackupError) throw err;
    if (signal?.aborted) throw new BackupError('E_ABORTED', 'aborted; nothing partial was left in the store');
    throw new BackupError('E_INTERNAL', err.message);
  }
}

function progress(onProgress) {
  if (typeof onProgress !== 'function') return undefined;
  return event => {
    try {
      onProgress(rename(JSON.parse(event), toCamel));
    } catch {
      // A failing listener must not break the backup.
    }
  };
}

const options = opts => JSON.stringify(rename(opts ?? {}, toSnake));

class Engine {
  /**
   * @param {{store?: string, compressionLevel?: number}} [opts]
   */
  constructor({ store = process.env.BACKSTAGE_BACKUP_STORE || './backups', compressionLevel = 6 } = {}) {
    if (!native.binding) {
      throw new BackupError(
        'E_UNAVAILABLE',
        `the native engine is not available (${native.error}) and the WebAssembly engine is not built yet; ` +
          'build the addon with `npm install` at the repository root',
      );
    }
    if (!Number.isInteger(compressionLevel) || compressionLevel < 1 || compressionLevel > 9) {
      throw new BackupError('E_INVALID', 'compressionLevel must be a whole number from 1 to 9');
    }
    this.kind = 'native';
    this.store = store;
    this.native = new native.binding.NativeEngine(store, compressionLevel);
  }

  backup({ onProgress, signal, ...opts } = {}) {
    return call(signal, () => this.native.backup(options(opts), progress(onProgress), signal));
  }

  list() {
    return call(undefined, () => this.native.list());
  }

  verify(selector = 'latest', { onProgress, signal } = {}) {
    return call(signal, () => this.native.verify(selector, progress(onProgress), signal));
  }

  restore(selector, { onProgress, signal, ...opts } = {}) {
    return call(signal, () => this.native.restore(selector, options(opts), progress(onProgress), signal));
  }

  drill(selector = 'latest', { signal, ...opts } = {}) {
    return call(signal, () => this.native.drill(selector, options(opts), signal));
  }

  prune(opts = {}) {
    return call(undefined, () => this.native.prune(options(opts)));
  }

  health(opts = {}) {
    return call(undefined, () => this.native.health(options(opts)));
  }
}

module.exports = { Engine, BackupError };
