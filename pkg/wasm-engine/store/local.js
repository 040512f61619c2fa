'use strict';
// File system calls for core's folder store (crates/core/src/store/folder.rs, through
// crates/wasm/src/folder.rs), one Node call a method. The protocol (temp names, fsyncs,
// publishing, what a leftover is) and the words of a failure are core's; errors leave as Node
// threw them, errno and all.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');

const meta = stat => ({ is_file: stat.isFile(), size: stat.size, modified_ms: stat.mtimeMs });

class FolderFs {
  constructor(root) {
    this.folderRoot = root;
  }

  createDirAll(dir) {
    return fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  }

  createNew(file) {
    return fsp.open(file, 'wx', 0o600);
  }

  hardLink(existing, link) {
    return fsp.link(existing, link);
  }

  rename(from, to) {
    return fsp.rename(from, to);
  }

  removeFile(file) {
    return fsp.unlink(file);
  }

  removeFileNow(file) {
    try {
      fs.unlinkSync(file);
    } catch {}
  }

  async syncDir(dir) {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async metadata(file) {
    return meta(await fsp.stat(file));
  }

  /** Entries with their metadata (symlinks followed; none for an entry gone meanwhile). */
  async readDir(dir) {
    const names = await fsp.readdir(dir);
    return Promise.all(names.map(async name => ({ name, meta: await fsp.stat(path.join(dir, name)).then(meta, () => undefined) })));
  }

  async openRead(file) {
    const handle = await fsp.open(file, 'r');
    const { size } = await handle.stat();
    return { stream: handle.createReadStream({ highWaterMark: 1 << 20 }), size };
  }
}

module.exports = { FolderFs };
