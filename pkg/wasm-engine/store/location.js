'use strict';
// Store URLs, read by core's parser (crates/core/src/location.rs, through crates/wasm): a
// folder, a file: URL (RFC 8089), or s3://bucket/prefix?region=…&endpoint=…&path_style=…&sse=…&kms_key_id=….
const core = require('../core');

/** `{kind: 'local', path}` or `{kind: 's3', bucket, prefix, region, endpoint, pathStyle, sse}`. */
function parseLocation(input) {
  const loc = core.parseStoreLocation(String(input ?? ''));
  // Absent fields as undefined, as the stores test them with `??`.
  for (const key of Object.keys(loc)) if (loc[key] === null) loc[key] = undefined;
  if (loc.sse && loc.sse.keyId === null) loc.sse.keyId = undefined;
  return loc;
}

/** Where the store is, safe to show (core's `StoreLocation::describe`). */
function describe(loc) {
  return loc.describe;
}

module.exports = { parseLocation, describe };
