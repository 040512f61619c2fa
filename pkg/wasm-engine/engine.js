'use strict';
// The WebAssembly engine: the same operations as the native addon, with crates/wasm doing the
// pure work and this glue the I/O. Inside the glue, values keep core's snake_case names; each
// operation's result leaves through `run`, which gives it core's JS shape (camelCase, as the
// native engine returns it: crates/wasm's jsShape). Failures are BackupErrors with the same codes.
const { BackupError, aborted } = require('../errors');
const core = require('./core');
const { client } = require('./postgres');
const { openStore } = require('./store');

/** Progress events as the native engine sends them: `{phase}` or `{raw, stored, total}`. */
function reporter(onProgress) {
  const send = event => {
    try {
      onProgress?.(event);
    } catch {
      // A failing listener must not break the operation.
    }
  };
  return { phase: phase => send({ phase }), bytes: bytes => send(core.jsShape(bytes)) };
}

/** Runs an operation; after an abort, whatever failed is reported as E_ABORTED. */
async function attempt(signal, op) {
  try {
    return await op();
  } catch (err) {
    if (signal?.aborted) throw aborted();
    throw core.coded(err);
  }
}

/** Runs an operation and gives its result core's JS shape: where this engine's results are renamed. */
async function run(signal, op) {
  return core.jsShape(await attempt(signal, op));
}

class WasmEngine {
  /**
   * `s3Credentials` ({accessKeyId, secretAccessKey, sessionToken?}) replace the AWS chain;
   * `signing` ({key?: PEM text, allow_unsigned?}) signs backups and checks what is read.
   */
  constructor(store, level, s3Credentials, signing) {
    core.warmUp();
    core.checkTrust(signing);
    core.checkS3Credentials(s3Credentials);
    // As given: core reads it (a folder, a URL or the store object) each time it is opened.
    this.store = store;
    this.level = level;
    // Not enumerable: a logged engine never shows a secret.
    Object.defineProperty(this, 's3Credentials', { value: s3Credentials });
    Object.defineProperty(this, 'trust', { value: signing });
  }

  describeStore() {
    return core.resolveStore(this.store, this.s3Credentials).describe;
  }

  backup(opts, onProgress, signal) {
    // core's database_backup over the glue's client.
    return run(signal, () =>
      core.backupDatabase(openStore(this.store, this.s3Credentials), client, opts, this.level, this.trust, reporter(onProgress), signal),
    );
  }

  list() {
    return run(undefined, () => core.listBackups(openStore(this.store, this.s3Credentials), this.trust));
  }

  verify(selector, onProgress, signal) {
    // core's verify_selected: hold, verify, record, release.
    return run(signal, () => core.verify(openStore(this.store, this.s3Credentials), String(selector), this.trust, reporter(onProgress), signal));
  }

  restore(selector, opts, onProgress, signal) {
    // core's restore_selected: hold, restore (verified, one transaction), release.
    const store = () => openStore(this.store, this.s3Credentials);
    return run(signal, () => core.restore(store(), client, String(selector), opts, this.trust, reporter(onProgress), signal));
  }

  drill(selector, opts, signal) {
    const store = () => openStore(this.store, this.s3Credentials);
    return run(signal, () => core.drill(store(), client, String(selector), opts, this.trust, reporter(undefined), signal));
  }

  /** `{id, fileName, bytes, summary, chunks}`: the data object, streamed from the store. */
  async openRead(selector) {
    const { chunks, ...opened } = await this.#openRead(selector);
    // The chunks are a generator, not data: only the rest takes the JS shape.
    return { ...core.jsShape(opened), chunks };
  }

  #openRead(selector) {
    // core's download: held against prune, admitted like a restore, read in bounded chunks.
    return attempt(undefined, async () => {
      const download = await core.openDownload(openStore(this.store, this.s3Credentials), String(selector), this.trust);
      async function* chunks() {
        try {
          for (let chunk; (chunk = await download.next()) !== null; ) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        } catch (err) {
          throw core.coded(err);
        } finally {
          // The end, a failure or a reader that stopped early: let the backup go.
          await download.close();
        }
      }
      return { ...download.opened, chunks: chunks() };
    });
  }

  parseBackupId(id) {
    return core.parseBackupId(String(id));
  }

  checkPrune(opts) {
    core.checkPrune(opts, this.trust);
  }

  prune(opts) {
    return run(undefined, () => core.prune(openStore(this.store, this.s3Credentials), opts, this.trust));
  }

  health(opts) {
    return run(undefined, () => core.health(openStore(this.store, this.s3Credentials), opts, this.trust));
  }
}

module.exports = { WasmEngine, BackupError };
