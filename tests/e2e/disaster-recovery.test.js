'use strict';
// End-to-end disaster recovery, measured against the runbook it replaces. A real Backstage
// backend (catalog + the backup plugin) on real PostgreSQL and the loopback S3 server ingests a
// generated catalog of 1,000 entities of every kind; each scenario backs it up, causes a
// disaster, recovers as an operator would (the plugin's API, the CLI, or the runbook's own
// commands), restarts the backend and compares every entity the catalog API serves (uid, kind,
// namespace, name, etag, relations) with what it served before the disaster.
const assert = require('node:assert/strict');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');

const { KINDS, writeCatalog } = require('./lib/catalog');
const { Harness, psql, sh } = require('./lib/harness');
const recovery = require('./lib/recovery');
const { requireBinaries, sleep, startCluster, startFileServer, startS3 } = require('./lib/servers');
const { count, differences, kinds, settle, snapshot, summary } = require('./lib/snapshot');

const PER_KIND = Number(process.env.E2E_ENTITIES_PER_KIND || 1000);
// The runbook's RTOs: its "Disaster Scenarios and Responses" table, and for what that table has
// no row for, its "Restore PostgreSQL from Backup" procedure.
const RUNBOOK = {
  corruption: { text: '5 min ("Database corruption")', ms: 5 * 60_000 },
  deletion: { text: '10 min ("Accidental deletion")', ms: 10 * 60_000 },
  region: { text: '45 min ("Region outage": full DR in a new region)', ms: 45 * 60_000 },
  restore: { text: '~5 min ("Restore PostgreSQL from Backup")', ms: 5 * 60_000 },
};

let h; // the harness: names, config, CLI
let s3;
let files; // the HTTP server the API-registered locations are read from
let catalog; // {index, registered, expected}
let backend;
let configFile; // the app-config the backend runs with now
let cluster; // the new region's PostgreSQL, once scenario 3 started it
let lastGood; // a backup id known to hold the full catalog: what a failed scenario is healed from
let ingestMs;

const log = message => console.log(`${new Date().toISOString().slice(11, 19)} ${message}`);

/** Starts a backup through the plugin's REST API and waits for its job; returns the manifest. */
async function apiBackup(labels) {
  const { jobId } = await backend.api('POST', '/api/backup/backups', { labels });
  const job = await waitJob(jobId);
  return job.result;
}

async function waitJob(jobId, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await backend.api('GET', `/api/backup/jobs/${jobId}`);
    if (job.status === 'succeeded') return job;
    if (job.status === 'failed') throw new Error(`job ${job.kind} ${jobId} failed: ${JSON.stringify(job.error)}`);
    if (Date.now() > deadline) throw new Error(`job ${jobId} still running after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/**
 * Restores through the plugin's API over the live catalog. The restore runs while the catalog
 * works on the same tables; a deadlock PostgreSQL breaks by aborting the restore is retried by
 * the engine itself (the transaction rolled back), so one request is all an operator makes.
 */
async function apiRestore(id) {
  const { jobId } = await backend.api('POST', `/api/backup/backups/${id}/restore`, { confirm: id });
  return waitJob(jobId);
}

/** The catalog serves again: the restarted backend is ready and serves every entity. */
async function servingAgain(timeoutMs = 180_000) {
  await backend.ready(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await count(backend);
      if (last === catalog.expected) return;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`the catalog did not serve ${catalog.expected} entities again (last: ${last})`);
}

/** Per kind, what the catalog's filtered queries find: these read the `search` table. */
async function searchCounts() {
  const out = {};
  for (const kind of KINDS) {
    const page = await backend.api('GET', `/api/catalog/entities/by-query?limit=1&fields=kind&filter=kind=${kind}`);
    out[kind] = page.totalItems;
  }
  return out;
}

/** A fingerprint of the tables the catalog API is built from. */
function tablesFingerprint(url) {
  return psql(
    url,
    `SELECT (SELECT count(*) || ':' || md5(string_agg(entity_id || hash || coalesce(final_entity, ''), ',' ORDER BY entity_id)) FROM final_entities)
     || ' ' || (SELECT count(*) || ':' || md5(string_agg(originating_entity_id || source_entity_ref || type || target_entity_ref, ',' ORDER BY 1)) FROM relations)
     || ' ' || (SELECT count(*) || ':' || md5(string_agg(entity_id || key || coalesce(value, '') || coalesce(original_value, ''), ',' ORDER BY 1)) FROM search)`,
  );
}

/**
 * Before a disaster: the catalog as the API serves it, a backup of it, and proof that the two
 * hold the same thing (nothing changed while the backup ran; its entity counts match).
 */
async function backUp(makeBackup) {
  const before = await snapshot(backend);
  assert.equal(before.size, catalog.expected, `the catalog serves ${before.size} entities, not ${catalog.expected}`);
  const backup = await makeBackup();
  const again = await snapshot(backend);
  assert.equal(summary(differences(before, again)), 'identical', 'the catalog changed while it was backed up');
  if (backup.entities) {
    const byKind = Object.fromEntries(Object.entries(kinds(before)).map(([k, n]) => [k.toLowerCase(), n]));
    assert.deepEqual(backup.entities, byKind, 'the backup counts other entities than the catalog serves');
  }
  return { before, backup };
}

/** After recovery: every entity as before, and the filtered (search) queries agree. */
async function assertRecovered(before, searchBefore) {
  const after = await snapshot(backend);
  assert.equal(summary(differences(before, after)), 'identical');
  if (searchBefore) assert.deepEqual(await searchCounts(), searchBefore);
}

/** Asserts that the disaster is visible through the catalog API (or that the API fails). */
async function assertDamaged(before, what) {
  let diffs;
  try {
    diffs = differences(before, await snapshot(backend));
  } catch (err) {
    log(`${what}: the catalog API fails: ${err.message.slice(0, 120)}`);
    return;
  }
  assert.ok(diffs.length > 0, `${what} left the catalog API unchanged`);
  log(`${what}: ${diffs.length} differences through the catalog API`);
}

/**
 * Times `recover(restored)` (it calls `restored()` when the database is back, before Backstage
 * starts) and holds it to the runbook's RTO.
 */
async function timed(scenario, recover) {
  // The row is read when recorded: a recovery may add to `scenario.how` what the operator had to do.
  const row = ms => ({ ...scenario, runbook: scenario.runbook.text, ms, restoreMs });
  const started = Date.now();
  let restoreMs = null;
  try {
    await recover(() => (restoreMs = Date.now() - started));
  } catch (err) {
    recovery.record(row(null));
    throw err;
  }
  const ms = Date.now() - started;
  recovery.record(row(ms));
  log(`${scenario.n} recovered in ${recovery.seconds(ms)} (restore ${recovery.seconds(restoreMs)}; runbook: ${scenario.runbook.text})`);
  assert.ok(ms <= scenario.runbook.ms, `recovery took ${recovery.seconds(ms)}, longer than the runbook's ${scenario.runbook.text}`);
  return ms;
}

const catalogUrl = () => h.catalogUrl();

/** A scenario starts from the full catalog: if an earlier one failed, restore the last good backup. */
async function healthy() {
  try {
    if (!backend.child) backend.start();
    await backend.ready(60_000);
    if ((await count(backend)) === catalog.expected) return;
  } catch (err) {
    log(`the catalog is not serving (${err.message.slice(0, 200)})`);
  }
  log(`healing from ${lastGood} before the scenario`);
  await backend.stop();
  await h.cliOk(['restore', lastGood, '--app-config', configFile, '--clean', '--yes', '--no-safety-backup']);
  backend.start();
  await servingAgain();
}

describe('disaster recovery of the Backstage catalog', { concurrency: false }, () => {
  before(async () => {
    requireBinaries();
    s3 = await startS3();
    h = new Harness({ s3 });
    h.sweepLeftovers();
    const dir = path.join(h.dir, 'catalog');
    catalog = writeCatalog(dir, PER_KIND);
    files = await startFileServer(dir);
    const written = await h.writeConfig('primary', h.server, { catalogIndex: catalog.index, readHost: files.host });
    configFile = written.file;
    backend = h.backend(configFile, written.baseUrl);
    const started = Date.now();
    backend.start();
    await backend.ready();
    for (const name of catalog.registered) {
      await backend.api('POST', '/api/catalog/locations', { type: 'url', target: files.url(name) });
    }
    let shown = 0;
    await settle(backend, catalog.expected, {
      onProgress: n => {
        if (Date.now() - shown > 15_000) {
          shown = Date.now();
          log(`ingesting: ${n} of ${catalog.expected} entities`);
        }
      },
    });
    ingestMs = Date.now() - started;
    log(`catalog ingested and settled: ${catalog.expected} entities in ${recovery.seconds(ingestMs)}`);
  });

  after(async () => {
    recovery.publish(
      h?.artifacts ?? 'tests/artifacts/e2e',
      `Catalog: ${catalog?.expected} entities (${PER_KIND} of each kind), ingested in ${ingestMs ? recovery.seconds(ingestMs) : 'n/a'}; ` +
        `${os.cpus().length} CPU cores, PostgreSQL and the S3 server on loopback. ` +
        'Recovery time: from the start of the restore to the restarted backend serving every entity again.',
    );
    await backend?.stop();
    await files?.close();
    try {
      h?.dropDatabases();
    } finally {
      cluster?.stop();
      await s3?.stop();
      h?.cleanUp();
    }
  });

  test('1. database corruption: rows deleted and mangled in final_entities, relations, search; restored through the plugin API', async () => {
    await healthy();
    const searchBefore = await searchCounts();
    const { before, backup } = await backUp(() => apiBackup({ scenario: 'corruption' }));
    lastGood = backup.id;
    const tablesBefore = tablesFingerprint(catalogUrl());

    psql(
      catalogUrl(),
      `DELETE FROM final_entities WHERE entity_ref LIKE 'component:default/component-00%';
       UPDATE final_entities SET final_entity = replace(replace(final_entity, '"etag":"', '"etag":"bad'), 'team-', 'mangled-')
         WHERE entity_ref LIKE 'api:%' OR entity_ref LIKE 'user:default/user-01%';
       DELETE FROM relations WHERE type IN ('dependsOn', 'dependencyOf');
       UPDATE relations SET target_entity_ref = 'group:default/nobody' WHERE type = 'ownedBy' AND source_entity_ref LIKE 'system:%';
       DELETE FROM search WHERE key = 'spec.type';
       UPDATE search SET value = 'garbage' WHERE key = 'kind' AND value IN ('user', 'template');`,
    );
    await assertDamaged(before, 'corruption');
    assert.notDeepEqual(await searchCounts(), searchBefore, 'the search table damage is not visible');
    assert.notEqual(tablesFingerprint(catalogUrl()), tablesBefore);

    const row = {
      n: '1',
      disaster: 'Database corruption (final_entities, relations, search)',
      how: 'plugin API `POST /backups/:id/restore`, then restart',
      runbook: RUNBOOK.corruption,
    };
    await timed(
      row,
      async restored => {
        const job = await apiRestore(backup.id);
        restored();
        assert.ok(job.result.safetyBackup, 'the restore took no safety backup');
        log(`safety backup: ${job.result.safetyBackup}`);
        await backend.restart();
        await servingAgain();
      },
    );
    await assertRecovered(before, searchBefore);
    assert.equal(tablesFingerprint(catalogUrl()), tablesBefore, 'final_entities, relations or search differ from before');
  });

  test('2. accidental deletion: entities and a location unregistered through the catalog API; restored with the CLI', async () => {
    await healthy();
    const { before, backup } = await backUp(() => apiBackup({ scenario: 'deletion' }));
    lastGood = backup.id;

    const locations = await backend.api('GET', '/api/catalog/locations');
    const victim = locations.map(l => l.data ?? l).find(l => l.target === files.url('extra-a.yaml'));
    assert.ok(victim, `no registered location for extra-a.yaml among ${JSON.stringify(locations).slice(0, 300)}`);
    await backend.api('DELETE', `/api/catalog/locations/${victim.id}`);
    const doomed = [...before.values()].filter(e => /^(component|system|user|api)-00[0-4]\d$/.test(e.name));
    for (const e of doomed) await backend.api('DELETE', `/api/catalog/entities/by-uid/${e.uid}`);
    log(`unregistered ${victim.target} and deleted ${doomed.length} entities`);
    await assertDamaged(before, 'deletion');

    // Backstage scaled to zero (nothing writes while the catalog is replaced), restored, started.
    await timed(
      { n: '2', disaster: 'Accidental deletion (entities and a location, through the catalog API)', how: 'stop Backstage, `backstage-backup restore ID --clean --yes`, start it', runbook: RUNBOOK.deletion },
      async restored => {
        await backend.stop();
        const out = await h.cliOk(['restore', backup.id, '--database-url', catalogUrl(), '--clean', '--yes']);
        restored();
        assert.ok(out.json.safety_backup, 'the restore took no safety backup');
        log(`safety backup: ${out.json.safety_backup}`);
        backend.start();
        await servingAgain();
      },
    );
    await assertRecovered(before);
    const restored = (await backend.api('GET', '/api/catalog/locations')).map(l => l.data ?? l);
    assert.ok(restored.some(l => l.id === victim.id && l.target === victim.target), 'the unregistered location is not back');
  });

  test('3. complete loss: the catalog database dropped; restored into a new database on a new server', async () => {
    await healthy();
    const { before, backup } = await backUp(() => apiBackup({ scenario: 'complete-loss' }));
    lastGood = backup.id;

    // The region is gone: Backstage with it, and its database server's catalog.
    await backend.stop();
    psql(h.server.url('postgres'), `DROP DATABASE "${h.catalogDb}" WITH (FORCE)`);
    const clusterStarted = Date.now();
    cluster = await startCluster();
    log(`new region's PostgreSQL started on port ${cluster.port} in ${recovery.seconds(Date.now() - clusterStarted)}`);
    const region = { host: '127.0.0.1', port: cluster.port, user: 'postgres', url: cluster.url };
    h.servers.push(region);
    const written = await h.writeConfig('new-region', region, { catalogIndex: catalog.index, readHost: files.host });

    await timed(
      { n: '3', disaster: 'Complete loss (catalog database dropped; new server in a "new region")', how: '`backstage-backup restore ID --app-config new-region.yaml`, then start Backstage there', runbook: RUNBOOK.region },
      async restored => {
        const out = await h.cliOk(['restore', backup.id, '--app-config', written.file, '--clean', '--yes']);
        restored();
        assert.equal(out.json.created_database, true, 'the restore did not create the new database');
        h.server = region;
        configFile = written.file;
        backend = h.backend(configFile, written.baseUrl);
        backend.start();
        await servingAgain();
      },
    );
    await assertRecovered(before);
    // The new region's backend sees the backups made in the old one (same store).
    const { items } = await backend.api('GET', '/api/backup/backups');
    assert.ok(items.some(b => b.id === backup.id));
  });

  test('4. failed upgrade: a pre-upgrade backup, a bad migration that stops the catalog, rollback', async () => {
    await healthy();
    // The Helm pre-upgrade hook, reading Backstage's own app-config.
    const { before, backup } = await backUp(async () => {
      const out = await h.cliOk(['backup', '--app-config', configFile, '--trigger', 'pre-upgrade', '--label', 'backstage=next-release']);
      return out.json;
    });
    lastGood = backup.id;

    // The upgrade: new pods run a migration this catalog version does not know, and change a table.
    await backend.stop();
    psql(
      catalogUrl(),
      `INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20991231000000_next_release.js', 999, now());
       ALTER TABLE final_entities RENAME COLUMN final_entity TO final_entity_v2;
       ALTER TABLE relations ADD COLUMN weight integer NOT NULL DEFAULT 1;`,
    );
    backend.start();
    const failure = await backend.startupFailure();
    assert.match(failure, /catalog.*migration/i);
    await assert.rejects(backend.api('GET', '/api/catalog/entities?limit=1'), 'the catalog serves on the failed upgrade');
    await backend.stop();
    log(`the upgraded catalog does not start: ${failure}`);

    let safetyBackupFailure = null;
    const row = {
      n: '4',
      disaster: 'Failed upgrade (unknown knex migration, changed table)',
      how: '`backstage-backup list` → the pre-upgrade backup, `restore ID --clean --yes`, start the old release',
      runbook: RUNBOOK.restore,
    };
    await timed(
      row,
      async restored => {
        const list = await h.cliOk(['list']);
        const preUpgrade = list.json.find(b => b.trigger === 'pre-upgrade' && b.status === 'complete');
        assert.equal(preUpgrade?.id, backup.id, 'list does not offer the pre-upgrade backup first');
        assert.equal(preUpgrade.labels.backstage, 'next-release');
        const restore = ['restore', preUpgrade.id, '--app-config', configFile, '--clean', '--yes'];
        const first = await h.cli(restore);
        if (first.code !== 0) {
          // What an operator does next when the safety backup is what fails: skip it.
          safetyBackupFailure = first.json?.error?.message ?? first.stderr;
          log(`the rollback failed (${safetyBackupFailure}); again with --no-safety-backup`);
          row.how += ' (failed; again with `--no-safety-backup`)';
          await h.cliOk([...restore, '--no-safety-backup']);
        }
        restored();
        backend.start();
        await servingAgain();
      },
    );
    await assertRecovered(before);
    assert.equal(psql(catalogUrl(), "SELECT count(*) FROM knex_migrations WHERE name = '20991231000000_next_release.js'"), '0');
    // The safety backup must not stand in the way of a rollback: the table it cannot count in is
    // exactly what a failed upgrade changes.
    assert.equal(safetyBackupFailure, null, `restore --clean needed --no-safety-backup on the failed upgrade: ${safetyBackupFailure}`);
  });

  test('5a. interop: a backup made by the runbook (pg_dump | gzip) restores with backstage-backup', async () => {
    await healthy();
    const dir = path.join(h.dir, 'runbook-backups');
    fs.mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
    const file = path.join(dir, `backstage-catalog-${stamp}.sql.gz`);
    const { before } = await backUp(async () => {
      // scripts/backup-catalog.sh ./backups, then the runbook's integrity check.
      const out = await sh(`pg_dump '${catalogUrl()}' | gzip > '${file}' && gunzip -t '${file}'`);
      assert.equal(out.code, 0, out.stderr);
      return {};
    });
    const verified = await h.cliOk(['verify', file]);
    assert.equal(verified.json.ok, true, JSON.stringify(verified.json));

    psql(catalogUrl(), 'TRUNCATE final_entities, relations, search, refresh_state, refresh_state_references, locations CASCADE');
    await assertDamaged(before, 'data loss');

    await timed(
      { n: '5a', disaster: 'Data loss (catalog tables truncated); the backup is a runbook `pg_dump | gzip` file', how: 'stop Backstage, `backstage-backup restore FILE.sql.gz --clean --yes`, start it', runbook: RUNBOOK.restore },
      async restored => {
        await backend.stop();
        await h.cliOk(['restore', file, '--database-url', catalogUrl(), '--clean', '--yes']);
        restored();
        backend.start();
        await servingAgain();
      },
    );
    await assertRecovered(before);
  });

  test('5b. interop: a backup made by backstage-backup restores with the runbook (gunzip -c | psql)', async () => {
    await healthy();
    const { before, backup } = await backUp(() => apiBackup({ scenario: 'runbook-restore' }));
    lastGood = backup.id;
    // Downloaded through the plugin (GET /backups/:id/download), checked as the runbook would.
    const file = path.join(h.dir, backup.name);
    const res = await fetch(`${backend.baseUrl}/api/backup/backups/${backup.id}/download`, {
      headers: { authorization: `Bearer ${h.token}` },
    });
    assert.equal(res.status, 200);
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), backup.compressed.sha256);
    assert.equal((await sh(`gunzip -t '${file}'`)).code, 0);

    await backend.stop();
    psql(h.server.url('postgres'), `DROP DATABASE "${h.catalogDb}" WITH (FORCE)`);

    await timed(
      { n: '5b', disaster: 'Catalog database dropped; the backup is a backstage-backup file', how: "the runbook's `createdb` + `gunzip -c FILE | psql`, then start", runbook: RUNBOOK.restore },
      async restored => {
        psql(h.server.url('postgres'), `CREATE DATABASE "${h.catalogDb}"`);
        const out = await sh(`gunzip -c '${file}' | psql -q -v ON_ERROR_STOP=1 '${catalogUrl()}' > /dev/null`);
        assert.equal(out.code, 0, out.stderr);
        restored();
        backend.start();
        await servingAgain();
      },
    );
    await assertRecovered(before);
  });
});
