'use strict';
// One store format: a backup made by either engine verifies and restores with the other and
// with the CLI, on a local store and on S3; and what a killed backup leaves is seen and
// cleared by the other engine.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Engine } = require('..');
const { bin, dbUrl, psql, tmpdir, Databases, startS3 } = require('./fixtures');

const dbs = new Databases('interop');
let catalog;
let bulky;
let store;
let s3;

before(async () => {
  store = tmpdir('bbnode-interop-');
  catalog = dbs.catalog('cat', 150);
  bulky = dbs.bulky('bulk');
  s3 = await startS3();
});

after(() => {
  dbs.dropAll();
  fs.rmSync(store, { recursive: true, force: true });
  s3?.stop();
});

const cli = (...args) => JSON.parse(execFileSync(bin('backstage-backup'), [...args, '--json'], { encoding: 'utf8' }));

async function crossCheck(storeUrl, from, to, where) {
  const maker = new Engine({ store: storeUrl, engine: from });
  const reader = new Engine({ store: storeUrl, engine: to });
  const manifest = await maker.backup({ databaseUrl: dbUrl(catalog), labels: { made_by: from } });
  const listed = (await reader.list()).find(x => x.id === manifest.id);
  assert.equal(listed?.status, 'complete', `${to} lists ${from}'s backup as complete`);
  assert.deepEqual(listed.labels, { made_by: from });
  const verified = await reader.verify(manifest.id);
  assert.equal(verified.ok, true, JSON.stringify(verified.problems));
  const fresh = dbs.name(`${where}_${from}_to_${to}`);
  const restored = await reader.restore(manifest.id, { databaseUrl: dbUrl(fresh) });
  assert.deepEqual(restored.entities, manifest.entities);
  assert.equal(psql(dbUrl(fresh), 'SELECT count(*) FROM final_entities'), '150');
  return manifest;
}

test('a native backup verifies and restores with the wasm engine, and a wasm backup with the native one (local store)', async () => {
  await crossCheck(store, 'native', 'wasm', 'local');
  await new Promise(r => setTimeout(r, 1000));
  await crossCheck(store, 'wasm', 'native', 'local');
});

test('the same on S3', async () => {
  const url = s3.url('interop');
  await crossCheck(url, 'native', 'wasm', 's3');
  await new Promise(r => setTimeout(r, 1000));
  await crossCheck(url, 'wasm', 'native', 's3');
});

test('the CLI lists, verifies and restores a wasm-engine backup; the wasm engine reads the CLI\'s', async () => {
  const dir = tmpdir('bbnode-cli-');
  try {
    const wasm = new Engine({ store: dir, engine: 'wasm' });
    const manifest = await wasm.backup({ databaseUrl: dbUrl(catalog), trigger: 'scheduled' });
    const listed = cli('list', '--store', dir);
    assert.equal(listed[0].id, manifest.id);
    assert.equal(listed[0].status, 'complete');
    assert.equal(listed[0].trigger, 'scheduled');
    assert.equal(cli('verify', manifest.id, '--store', dir).ok, true);
    const fresh = dbs.name('cli_restore');
    const restored = cli('restore', manifest.id, '--store', dir, '--database-url', dbUrl(fresh), '--yes');
    assert.deepEqual(restored.entities, manifest.entities);

    await new Promise(r => setTimeout(r, 1000));
    const made = cli('backup', '--store', dir, '--database-url', dbUrl(catalog));
    const fresh2 = dbs.name('from_cli');
    const back = await wasm.restore(made.id, { databaseUrl: dbUrl(fresh2) });
    assert.deepEqual(back.entities, made.entities);
    assert.equal((await wasm.verify(made.id)).ok, true);
    // Records each engine writes are read by the other.
    assert.equal(cli('list', '--store', dir).find(x => x.id === made.id).verified_ok, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Either engine, killed mid-backup, leaves leftovers the other engine's next backup clears: the
// marker, the staged object and the clean-up rules are one protocol (core's), not two copies.
for (const [killed, survivor] of [
  ['wasm', 'native'],
  ['native', 'wasm'],
]) {
  test(`a killed ${killed}-engine backup is listed as incomplete by the ${survivor} engine and cleared by its next backup`, async () => {
    const dir = tmpdir('bbnode-killed-');
    try {
      const script =
        `const { Engine } = require(${JSON.stringify(path.join(__dirname, '..'))});` +
        `new Engine({ store: ${JSON.stringify(dir)}, engine: ${JSON.stringify(killed)} }).backup({ databaseUrl: ${JSON.stringify(dbUrl(bulky))},` +
        ` onProgress: e => { if (e.stored > 2e6) { console.log('going'); } } });`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve, reject) => {
        child.stdout.on('data', () => resolve());
        child.on('exit', code => reject(new Error(`the backup ended (${code}) before it could be killed`)));
      });
      child.kill('SIGKILL');
      await new Promise(r => child.on('close', r));
      // pg_dump dies with its session; give the server a moment to drop the lock.
      await new Promise(r => setTimeout(r, 500));
      const other = new Engine({ store: dir, engine: survivor });
      const [left] = await other.list();
      assert.equal(left.status, 'incomplete');
      assert.ok(fs.readdirSync(dir).some(f => f.startsWith('.')), 'a staged temp file is left');
      // Its next backup of the same database holds the lock, and the killed process is gone
      // (its marker names it): the leftovers are dead and cleared, well inside the grace period.
      const next = await other.backup({ databaseUrl: dbUrl(bulky) });
      const all = await other.list();
      assert.deepEqual(
        all.map(x => x.status),
        ['complete'],
        JSON.stringify(all),
      );
      assert.equal(all[0].id, next.id);
      assert.deepEqual(fs.readdirSync(dir).filter(f => f.startsWith('.')), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
