'use strict';
// What a store URL needs from Node: the file system calls core's folder store runs over
// (local.js) or the S3 requests core's S3 store runs over (s3.js); crates/wasm opens the store.
const fs = require('node:fs');
const path = require('node:path');

const core = require('../core');
const { FolderFs } = require('./local');

/**
 * Refuses a local store folder other users can write to or replace (core's folder_safety
 * rules, judged in WebAssembly), unless BACKSTAGE_BACKUP_INSECURE_STORE=1.
 */
function checkStoreFolder(folder) {
  if (core.insecureStoreAllowed()) return;
  let existing = path.resolve(folder);
  // The folder may not exist yet (a first backup creates it): judge where it goes.
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) return;
    existing = parent;
  }
  const chain = [];
  for (let dir = fs.realpathSync(existing); ; dir = path.dirname(dir)) {
    const { uid, gid, mode } = fs.statSync(dir);
    chain.push({ path: dir, uid, gid, mode });
    if (path.dirname(dir) === dir) break;
  }
  core.judgeStoreFolders(chain, process.geteuid(), process.getegid());
}

/** The glue for the store the caller gave (a folder, a URL or the store object), read by core. */
function openStore(store, s3Credentials) {
  const resolved = core.resolveStore(store, s3Credentials);
  if (resolved.kind === 'local') {
    checkStoreFolder(resolved.path);
    return new FolderFs(resolved.path);
  }
  const { S3Calls } = require('./s3');
  return new S3Calls(resolved.location, resolved.credentials ?? undefined);
}

module.exports = { openStore };
