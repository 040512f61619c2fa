'use strict';
// Verification, as core's verify/operation.rs: re-read the stored object through crates/wasm's
// Verifier (SHA-256 of both sides, full gunzip, pg_dump's completion line) and record the
// outcome beside the backup (`.verify.json`).
const { BackupError, store: storeError, checkAborted } = require('../errors');
const core = require('./core');

const CHUNK_BYTES = 1 << 20;

/**
 * Streams `key` through a Verifier. With `onOutput`, the decompressed dump is handed to it
 * (awaited: back-pressure). Resolves `{check, problems}`, or `{corrupt}` (an E_INTEGRITY
 * error) when the object is not a whole gzip stream.
 */
async function readVerified(store, key, expected, progress, signal, onOutput) {
  const { stream, size } = await store.get(key);
  const verifier = new core.Verifier(Boolean(onOutput));
  let pieces = [];
  let length = 0;
  const feed = async () => {
    const out = verifier.push(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length));
    pieces = [];
    length = 0;
    if (onOutput && out.length) await onOutput(out);
    progress.bytes({ raw: verifier.rawBytes, stored: verifier.storedBytes, total: size });
  };
  try {
    try {
      for await (const chunk of stream) {
        checkAborted(signal);
        pieces.push(chunk);
        length += chunk.length;
        if (length >= CHUNK_BYTES) await feed();
      }
    } catch (err) {
      if (err instanceof BackupError || err?.code?.startsWith?.('E_')) throw err;
      throw storeError(`reading the backup from the store: ${err.message}`);
    }
    if (length) await feed();
    const { check, problems, rest } = verifier.finish(expected);
    if (onOutput && rest.length) await onOutput(rest);
    return { check, problems };
  } catch (err) {
    stream.destroy?.();
    const coded = core.coded(err);
    if (coded.code === 'E_INTEGRITY') return { corrupt: coded };
    throw coded;
  } finally {
    verifier.free();
  }
}

/** What the manifest promises: `{compressed, raw}` digests. */
function manifestExpectations(entry) {
  return entry.manifest ? { compressed: entry.manifest.compressed, raw: entry.manifest.raw } : {};
}

async function verify(store, entry, progress, signal, trust) {
  core.refuseUnusable(entry);
  core.admitSignature(entry, trust);
  const started = Date.now();
  progress.phase('verifying');
  const found = [];
  const expected = manifestExpectations(entry);
  if (entry.has_sidecar) {
    try {
      const text = await store.getSmall(entry.keys.sidecar, core.maxManifestBytes());
      expected.sidecar_sha256 = core.parseSidecar(text, entry.keys.data);
    } catch (err) {
      found.push(`sidecar: ${err.message}`);
    }
  } else if (entry.status === 'complete') {
    found.push('the .sha256 sidecar is missing');
  }
  const result = await readVerified(store, entry.keys.data, expected, progress, signal);
  if (result.corrupt) found.push(result.corrupt.message);
  else found.push(...result.problems);
  const report = {
    id: entry.id,
    name: entry.keys.data,
    status: entry.status,
    ok: found.length === 0,
    problems: found,
    check: result.check ?? null,
    duration_ms: Date.now() - started,
    verified_at: new Date(started).toISOString(),
  };
  const record = core.recordText(started, report.ok, report.duration_ms, found, undefined);
  try {
    await store.put(entry.keys.verify_record, Buffer.from(record));
  } catch (err) {
    // The verdict stands even when the store will not take its record.
    if (err.code !== 'E_STORE') throw err;
  }
  progress.phase('done');
  return report;
}

module.exports = { verify, readVerified, manifestExpectations };
