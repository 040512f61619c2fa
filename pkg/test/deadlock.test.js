'use strict';
// A clean restore over a live Backstage can deadlock with it: DROP SCHEMA … CASCADE locks table
// after table while the app holds others. PostgreSQL breaks the deadlock by aborting one side;
// when that is the restore, it rolled back and is loaded again (core's restore, on both engines:
// the WebAssembly engine once waited half as long between loads as the native one).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const { Engine } = require('..');
const { dbUrl, psql, tmpdir, Databases } = require('./fixtures');

const dbs = new Databases('deadlock');
let store;

before(() => {
  store = tmpdir('bbnode-deadlock-');
});

after(() => {
  dbs.dropAll();
  fs.rmSync(store, { recursive: true, force: true });
});

/** "Backstage": a session holding a lock on `relations` inside an open transaction, once it does. */
async function liveApp(name) {
  const child = spawn('psql', ['-qAt', '-v', 'ON_ERROR_STOP=0', dbUrl(name)], {
    env: { ...process.env, PGAPPNAME: 'bb-live-app' },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin.write('BEGIN;\nLOCK TABLE relations IN ROW EXCLUSIVE MODE;\n');
  const holds = () =>
    psql(
      dbUrl(name),
      "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'bb-live-app' " +
        "AND l.granted AND l.relation = 'relations'::regclass",
    ) !== '0';
  for (let i = 0; i < 200 && !holds(); i++) await new Promise(resolve => setTimeout(resolve, 50));
  assert.ok(holds(), 'the live session never took its lock');
  return child;
}

/** A table the restore holds exclusively while it waits for another lock, once it does. */
async function tableTheRestoreHolds(name) {
  for (let i = 0; i < 600; i++) {
    // In the database itself: pg_class is per database.
    const held = psql(
      dbUrl(name),
      'SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation ' +
        'JOIN pg_stat_activity a ON a.pid = l.pid ' +
        `WHERE a.datname = '${name}' AND a.application_name <> 'bb-live-app' AND l.granted ` +
        "AND l.mode = 'AccessExclusiveLock' AND c.relkind = 'r' AND c.relname <> 'relations' " +
        'AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = l.pid AND NOT w.granted) LIMIT 1',
    );
    if (held) return held;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  assert.fail('the restore never waited for the live transaction\'s lock');
}

for (const kind of ['native', 'wasm']) {
  test(`${kind}: a clean restore caught in a deadlock with a live Backstage is loaded again and commits`, async () => {
    const name = dbs.catalog(`dl${kind}`, 60);
    const engine = new Engine({ store, engine: kind });
    const count = table => psql(dbUrl(name), `SELECT count(*) FROM ${table}`);
    const relations = count('relations');
    assert.notEqual(relations, '0');
    const { id } = await engine.backup({ databaseUrl: dbUrl(name) });
    psql(dbUrl(name), 'DELETE FROM relations');

    const live = await liveApp(name);
    let report;
    try {
      const restoring = engine.restore(id, { databaseUrl: dbUrl(name), clean: true, safetyBackup: false });
      restoring.catch(() => {});
      const held = await tableTheRestoreHolds(name);
      // Ask for a table the restore holds: PostgreSQL aborts one side. When it picks the app,
      // the app's statement fails; when it picks the restore, the restore loads again.
      live.stdin.end(`SELECT count(*) FROM "${held}";\nROLLBACK;\n`);
      report = await restoring;
    } finally {
      live.kill('SIGKILL');
    }
    assert.equal(report.id, id);
    assert.equal(count('relations'), relations, 'the restore committed the backup\'s rows');
  });
}
