'use strict';
// Reading a store's listing into backups: the glue lists objects and open uploads and reads
// the small objects; crates/wasm groups them and applies the listing rules.
const fs = require('node:fs');
const os = require('node:os');

const { BackupError } = require('../errors');
const core = require('./core');

/** One LIST (and the open uploads): groups by backup, no object read. `listed`: objects already listed. */
async function index(store, listed) {
  const [objects, pending] = await Promise.all([listed ?? store.list(), store.pendingUploads()]);
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

/** Lists backups, newest first (entries as crates/wasm carries them); `listed` as for index. */
async function listEntries(store, listed) {
  const { groups } = await index(store, listed);
  const shown = groups.filter(g => g.shown);
  // A few reads at a time, like the native engine's buffer_unordered(8).
  for (let i = 0; i < shown.length; i += 8) {
    await Promise.all(
      shown.slice(i, i + 8).map(async g => {
        if ('manifest' in g.parts) {
          try {
            g.manifest_text = await readText(store, g.keys.manifest);
          } catch (err) {
            // Deleted meanwhile (a prune): skipped. Too large, refused, unreadable: this one is
            // listed damaged and the rest of the store still works.
            if (err.code === 'E_NOT_FOUND') g.manifest_gone = true;
            else g.manifest_error = err.message;
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

const LOCK_KEY = 'backstage-backup.lock';

/**
 * Finds a backup and holds it against prune while it is read, as core's read_hold.rs: write
 * the hold, wait while a prune holds the store lock, then look the selector up again (`latest`
 * may have changed; a deleted id is E_NOT_FOUND). Resolves to `{entry, release}`;
 * `release()` never throws.
 */
async function holdBackup(store, selector, pluginId, purpose, signal) {
  let entry = await findBackup(store, selector, pluginId);
  // Each lap follows a prune that changed what `latest` is; prunes are rare and short.
  for (let lap = 0; lap < 3; lap++) {
    const release = await writeHold(store, entry.id, purpose);
    if (!release) return { entry, release: async () => {} };
    try {
      if (!(await waitForPrune(store, signal))) return { entry, release };
      // A prune ran while the hold was written and may not have seen it.
      let now;
      try {
        now = await findBackup(store, selector, pluginId);
      } catch (err) {
        if (err.code !== 'E_NOT_FOUND' || selector === 'latest') throw err;
        throw new BackupError(
          'E_NOT_FOUND',
          `${entry.id} was deleted by a prune that ran as this ${purpose} started; \`backstage-backup list\` shows what is left`,
        );
      }
      if (now.id === entry.id) return { entry: now, release };
      entry = now;
    } catch (err) {
      await release();
      throw err;
    }
    await release();
  }
  throw new BackupError('E_LOCKED', `prunes of ${store.describe()} keep deleting the backup this ${purpose} picks; try again when they are done`);
}

/** Writes a hold on `backupId`; resolves to its release, or undefined when the store refuses it. */
async function writeHold(store, backupId, purpose) {
  const now = Date.now();
  const key = core.holdKey(backupId, purpose, now + core.holdTtlMs(), `${process.pid}-${process.hrtime.bigint()}`);
  const body = { backup: backupId, purpose, pid: process.pid, acquired_at: new Date(now).toISOString() };
  try {
    await store.putNew(key, Buffer.from(JSON.stringify(body)));
  } catch {
    // Read-only credentials must still verify and restore: read unheld, as before holds.
    return undefined;
  }
  // Left behind, the hold expires and a later prune removes it.
  return () => store.delete(key).catch(() => {});
}

/** Waits until no live prune holds the store lock; true if one did. */
async function waitForPrune(store, signal) {
  let waited = false;
  for (;;) {
    const held = await readLock(store);
    if (!held || Date.parse(held.expires_at) <= Date.now()) return waited;
    waited = true;
    if (signal?.aborted) throw new BackupError('E_ABORTED', 'aborted while waiting for a prune to finish');
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/** The store lock's body (prune's), or undefined when nobody holds it. */
async function readLock(store) {
  try {
    return JSON.parse((await store.getSmall(LOCK_KEY, 64 << 10)).toString('utf8'));
  } catch (err) {
    if (err.code === 'E_NOT_FOUND' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** This process as a backup's marker names it (core's `Owner::this_process`). */
function thisProcess() {
  const read = file => {
    try {
      const text = fs.readFileSync(file, 'utf8').trim();
      return text && text.length <= 64 ? text : undefined;
    } catch {
      return undefined;
    }
  };
  let pidNamespace;
  try {
    pidNamespace = fs.readlinkSync('/proc/self/ns/pid');
  } catch {}
  return {
    host: os.hostname().slice(0, 255),
    ...(read('/proc/sys/kernel/random/boot_id') ? { boot_id: read('/proc/sys/kernel/random/boot_id') } : {}),
    ...(pidNamespace && pidNamespace.length <= 64 ? { pid_namespace: pidNamespace } : {}),
    pid: process.pid,
  };
}

/** Whether `pid` runs in this PID namespace (EPERM: it runs as another user). */
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

/** The marker's text of `key`, or undefined when it is gone or unreadable (then age decides). */
async function readMarker(store, key) {
  try {
    return (await store.getSmall(key, core.maxMarkerBytes())).toString('utf8');
  } catch (err) {
    if (err.code === 'E_NOT_FOUND' || err.code === 'E_INTEGRITY') return undefined;
    throw err;
  }
}

/**
 * Clears abandoned leftovers of unfinished backups (all plugins' when no id): older than
 * `graceSeconds`, or whose marker names a process known to be gone. A backup that may still
 * be running (another server sharing the plugin id and the store) is never touched.
 */
async function clearLeftovers(store, pluginId, graceSeconds, nowMs, apply = true) {
  const here = thisProcess();
  const decide = async ({ groups, pending }) => {
    const wanted = new Set(core.unfinishedWithMarker(groups));
    for (const g of groups) if (wanted.has(g.id)) g.marker_text = await readMarker(store, g.keys.marker);
    return core.leftovers(groups, pending, pluginId ?? undefined, graceSeconds, nowMs, here, pidAlive);
  };
  let plan = await decide(await index(store));
  if (!apply) return plan.report;
  for (const upload of plan.abort) await store.abortPending(upload);
  if (plan.abort.length) {
    // As the native engine: what to remove is judged after the aborts, from a fresh listing.
    const again = await decide(await index(store));
    plan = { remove: again.remove, report: { ...again.report, aborted_uploads: plan.report.aborted_uploads } };
  }
  // Manifest first, marker last: an interrupted clean-up still lists as incomplete.
  for (const backup of plan.remove) for (const key of backup.keys) await store.delete(key);
  return plan.report;
}

module.exports = { index, listEntries, findBackup, holdBackup, readLock, LOCK_KEY, clearLeftovers, readMarker, thisProcess };
