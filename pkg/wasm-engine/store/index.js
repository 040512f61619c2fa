'use strict';
// Opens the store a URL names. Every store offers: describe, put, putNew, startUpload (write,
// complete, abort), get ({stream, size}), list ([{key, size}]), delete,
// pendingUploads ([{key, started_ms, handle}]) and abortPending: core's Store trait.
const fs = require('node:fs');
const path = require('node:path');

const core = require('../core');
const { parseLocation } = require('./location');
const { LocalStore } = require('./local');

/**
 * Refuses a local store folder other users can write to or replace (core's folder_safety
 * rules, judged in WebAssembly), unless BACKSTAGE_BACKUP_INSECURE_STORE=1.
 */
function checkStoreFolder(folder) {
  if (['1', 'true'].includes(process.env.BACKSTAGE_BACKUP_INSECURE_STORE ?? '')) return;
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

function openStore(url, s3Credentials) {
  const loc = parseLocation(url);
  if (loc.kind === 'local') {
    checkStoreFolder(loc.path);
    return new LocalStore(loc.path);
  }
  const { S3Store } = require('./s3');
  return new S3Store(loc, s3Credentials);
}

module.exports = { openStore };
