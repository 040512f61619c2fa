'use strict';
// Opens the store a URL names. Every store offers: describe, put, putNew, startUpload (write,
// complete, abort), get ({stream, size}), getSmall, list ([{key, size}]), delete,
// pendingUploads ([{key, started_ms, handle}]) and abortPending: core's Store trait.
const { parseLocation } = require('./location');
const { LocalStore } = require('./local');

function openStore(url, s3Credentials) {
  const loc = parseLocation(url);
  if (loc.kind === 'local') return new LocalStore(loc.path);
  const { S3Store } = require('./s3');
  return new S3Store(loc, s3Credentials);
}

module.exports = { openStore };
