'use strict';
// Prune and health, as core's prune.rs, store_lock.rs and health.rs: the decisions are
// crates/wasm's (retention plan, health evaluation); here the store is read and changed.
const { BackupError } = require('../errors');
const core = require('./core');
const { listEntries, clearLeftovers, readLock, LOCK_KEY } = require('./listing');

const LOCK_TTL_MS = 30 * 60 * 1000;
const utc = ms => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The store-wide lock object both engines use: created atomically, expiring after its TTL. */
async function acquireLock(store, purpose) {
  const now = Date.now();
  const body = {
    token: `${process.pid}-${process.hrtime.bigint()}`,
    purpose,
    pid: process.pid,
    acquired_at: new Date(now).toISOString(),
    expires_at: new Date(now + LOCK_TTL_MS).toISOString(),
  };
  for (let i = 0; i < 2; i++) {
    try {
      await store.putNew(LOCK_KEY, Buffer.from(JSON.stringify(body)));
      return {
        release: async () => {
          if ((await readLock(store))?.token === body.token) await store.delete(LOCK_KEY);
        },
      };
    } catch (err) {
      if (err.code !== 'E_EXISTS') throw err;
    }
    const held = await readLock(store);
    if (held && Date.parse(held.expires_at) > Date.now()) {
      throw new BackupError(
        'E_LOCKED',
        `another ${held.purpose} (pid ${held.pid}, since ${utc(Date.parse(held.acquired_at))}) holds the lock on ${store.describe()}; ` +
          `wait for it, or delete ${LOCK_KEY} there if that process is gone (the lock expires at ${utc(Date.parse(held.expires_at))})`,
      );
    }
    await store.delete(LOCK_KEY);
  }
  throw new BackupError('E_LOCKED', `could not take the lock on ${store.describe()}: another process keeps taking it`);
}

async function prune(store, opts, trust) {
  const now = Date.now();
  const policy = {
    keep_last: opts.keep_last ?? undefined,
    keep_daily: opts.keep_daily ?? undefined,
    keep_weekly: opts.keep_weekly ?? undefined,
    keep_monthly: opts.keep_monthly ?? undefined,
    keep_within: opts.keep_within ?? undefined,
  };
  // Bad options fail before the lock is taken or anything is listed.
  core.prunePlan([], policy, now);
  const graceSeconds = opts.grace ? core.parseDuration(opts.grace) : core.defaultGraceSeconds();
  const dryRun = Boolean(opts.dry_run);
  const lock = dryRun ? undefined : await acquireLock(store, 'prune');
  try {
    // Listed after the lock is taken: a reader whose hold is not here waits for this prune.
    // One LIST for holds and backups.
    const objects = await store.list();
    const plan = core.prunePlan(await listEntries(store, objects), policy, now, objects.map(o => o.key), trust);
    if (!dryRun) {
      // Manifest first: from then on a half-deleted backup lists as incomplete, never as good.
      for (const backup of plan.delete) for (const key of backup.keys) await store.delete(key);
      for (const key of plan.expired_holds) await store.delete(key);
    }
    const leftovers = await clearLeftovers(store, undefined, graceSeconds, now, !dryRun);
    return {
      dry_run: dryRun,
      decisions: plan.decisions,
      deleted: plan.delete.map(d => d.id),
      freed_bytes: plan.freed_bytes,
      untouched: plan.untouched,
      leftovers,
    };
  } finally {
    await lock?.release();
  }
}

async function health(store, opts, trust) {
  // Every option goes to core's one parser (an unknown one is E_INVALID there).
  const options = opts;
  core.checkHealthOptions(options);
  const now = Date.now();
  let entries;
  try {
    entries = await listEntries(store);
  } catch (err) {
    // An unreachable store is UNKNOWN, not an error: health is for monitors.
    return core.unreadableHealth(err.message, options, now, store.describe());
  }
  return core.evaluateHealth(entries, options, now, store.describe(), trust);
}

module.exports = { prune, health };
