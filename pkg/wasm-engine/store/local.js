'use strict';
// A folder store, as core's store/local.rs: every object is staged under a hidden temp name
// (`.KEY.tmp-PID-NANOS`, mode 0600), fsynced, then renamed (or hard-linked, for put-if-absent)
// into place and the folder fsynced. Temp files are what `pendingUploads` reports, so a killed
// process's leftovers are seen and cleared by either engine.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');

const { BackupError } = require('../../errors');

const TEMP_MARK = '.tmp-';

/** A failed file system call, with where and what it was doing: crates/wasm has core word it. */
const ioError = (where, doing, err) => Object.assign(err instanceof Error ? err : new Error(String(err)), { where, doing });

async function syncDir(dir) {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class LocalStore {
  constructor(root) {
    this.root = root;
  }

  describe() {
    return this.root;
  }

  path(key) {
    if (!key || key.includes('/') || key.includes('\\') || key.startsWith('.')) {
      throw new BackupError('E_INVALID', `'${key}' is not a valid object name`);
    }
    return path.join(this.root, key);
  }

  tempPath(key) {
    const nanos = process.hrtime.bigint() + BigInt(Date.now()) * 1000000n;
    return path.join(this.root, `.${key}${TEMP_MARK}${process.pid}-${nanos}`);
  }

  async ensureRoot() {
    try {
      await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError(this.root, 'creating the backup folder', err);
    }
  }

  async publish(temp, target, exclusive) {
    try {
      if (exclusive) {
        try {
          await fsp.link(temp, target);
        } catch (err) {
          if (err.code === 'EEXIST') throw new BackupError('E_EXISTS', `${target} already exists`);
          throw err;
        }
        await fsp.unlink(temp);
      } else await fsp.rename(temp, target);
      await syncDir(path.dirname(target));
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw err instanceof BackupError ? err : ioError(target, 'publishing', err);
    }
  }

  async writeSmall(key, data, exclusive) {
    const target = this.path(key);
    const temp = this.tempPath(key);
    await this.ensureRoot();
    try {
      const handle = await fsp.open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw ioError(target, 'writing', err);
    }
    await this.publish(temp, target, exclusive);
  }

  put(key, data) {
    return this.writeSmall(key, data, false);
  }

  putNew(key, data) {
    return this.writeSmall(key, data, true);
  }

  async startUpload(key) {
    const target = this.path(key);
    const temp = this.tempPath(key);
    await this.ensureRoot();
    let handle;
    try {
      handle = await fsp.open(temp, 'wx', 0o600);
    } catch (err) {
      throw ioError(temp, 'creating', err);
    }
    const discard = async () => {
      await handle.close().catch(() => {});
      await fsp.rm(temp, { force: true });
    };
    return {
      write: async chunk => {
        try {
          await handle.write(chunk);
        } catch (err) {
          await discard();
          throw ioError(target, 'writing', err);
        }
      },
      complete: async () => {
        try {
          await handle.sync();
          await handle.close();
        } catch (err) {
          await discard();
          throw ioError(target, 'writing', err);
        }
        await this.publish(temp, target, true);
      },
      abort: discard,
    };
  }

  async get(key) {
    const file = this.path(key);
    let handle;
    try {
      // Opening a FIFO planted in the store would wait forever: objects are regular files.
      if (!(await fsp.stat(file)).isFile()) throw new BackupError('E_INTEGRITY', `${key} is not a regular file`);
      handle = await fsp.open(file, 'r');
    } catch (err) {
      throw err instanceof BackupError ? err : ioError(file, 'opening', err);
    }
    const { size } = await handle.stat();
    return { stream: handle.createReadStream({ highWaterMark: 1 << 20 }), size };
  }

  async readdir() {
    try {
      return await fsp.readdir(this.root, { withFileTypes: true });
    } catch (err) {
      if (err.code === 'ENOENT') return [];
      throw ioError(this.root, 'listing', err);
    }
  }

  async list() {
    const out = [];
    for (const entry of await this.readdir()) {
      if (entry.name.startsWith('.')) continue;
      let stat;
      try {
        stat = fs.statSync(path.join(this.root, entry.name));
      } catch {
        continue;
      }
      if (stat.isFile()) out.push({ key: entry.name, size: stat.size });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key) {
    const file = this.path(key);
    try {
      await fsp.unlink(file);
      await syncDir(path.dirname(file));
    } catch (err) {
      if (err.code !== 'ENOENT') throw ioError(file, 'deleting', err);
    }
  }

  async pendingUploads() {
    const out = [];
    for (const entry of await this.readdir()) {
      const rest = entry.name.startsWith('.') ? entry.name.slice(1) : undefined;
      const at = rest?.lastIndexOf(TEMP_MARK) ?? -1;
      if (at < 0) continue;
      let started_ms;
      try {
        started_ms = fs.statSync(path.join(this.root, entry.name)).mtimeMs;
      } catch {
        continue;
      }
      out.push({ key: rest.slice(0, at), started_ms, handle: entry.name });
    }
    return out;
  }

  async abortPending(pending) {
    if (!pending.handle.startsWith('.') || pending.handle.includes('/')) {
      throw new BackupError('E_INVALID', 'not a temp file of this store');
    }
    const file = path.join(this.root, pending.handle);
    try {
      await fsp.unlink(file);
    } catch (err) {
      if (err.code !== 'ENOENT') throw ioError(file, 'deleting', err);
    }
  }
}

module.exports = { LocalStore };
