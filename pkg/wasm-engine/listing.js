'use strict';
// Reading a store's listing into backups: the glue lists objects and open uploads and reads
// the small objects; crates/wasm groups them and applies the listing rules.
const core = require('./core');

/** One LIST (and the open uploads): groups by backup, no object read. */
async function index(store) {
  const [objects, pending] = await Promise.all([store.list(), store.pendingUploads()]);
  return { groups: core.listingIndex(objects, pending), pending };
}

async function readText(store, key) {
  return (await store.getSmall(key, core.maxManifestBytes())).toString('utf8');
}

async function readOptional(store, key) {
  try {
    return await readText(store, key);
  } catch {
    // An unreadable record only hides its mark, as in the native engine.
    return undefined;
  }
}

/** Lists backups, newest first (entries as crates/wasm carries them). */
async function listEntries(store) {
  const { groups } = await index(store);
  const shown = groups.filter(g => g.shown);
  // A few reads at a time, like the native engine's buffer_unordered(8).
  for (let i = 0; i < shown.length; i += 8) {
    await Promise.all(
      shown.slice(i, i + 8).map(async g => {
        if ('manifest' in g.parts) {
          try {
            g.manifest_text = await readText(store, g.keys.manifest);
          } catch (err) {
            if (err.code === 'E_NOT_FOUND') g.manifest_gone = true;
            else if (err.code === 'E_INTEGRITY') g.manifest_error = err.message;
            else throw err;
          }
        }
        if ('verify_record' in g.parts) g.verify_text = await readOptional(store, g.keys.verify_record);
        if ('drill_record' in g.parts) g.drill_text = await readOptional(store, g.keys.drill_record);
      }),
    );
  }
  return core.listingEntries(shown);
}

/** The backup `selector` names (`latest` or an id); `latest` prefers `pluginId`'s backups. */
async function findBackup(store, selector, pluginId) {
  return core.selectBackup(await listEntries(store), String(selector), pluginId ?? undefined, store.describe());
}

/** Clears leftovers of unfinished backups older than `minAgeSeconds` (all plugins' when no id). */
async function clearLeftovers(store, pluginId, minAgeSeconds, nowMs, apply = true) {
  const decide = ({ groups, pending }) => core.leftovers(groups, pending, pluginId ?? undefined, minAgeSeconds, nowMs);
  let plan = decide(await index(store));
  if (!apply) return plan.report;
  for (const upload of plan.abort) await store.abortPending(upload);
  if (plan.abort.length) {
    // As the native engine: what to remove is judged after the aborts, from a fresh listing.
    const again = decide(await index(store));
    plan = { remove: again.remove, report: { ...again.report, aborted_uploads: plan.report.aborted_uploads } };
  }
  // Manifest first, marker last: an interrupted clean-up still lists as incomplete.
  for (const backup of plan.remove) for (const key of backup.keys) await store.delete(key);
  return plan.report;
}

module.exports = { index, listEntries, findBackup, clearLeftovers };
