'use strict';
// Health's options mean the same on both engines and the CLI (one parser, in core): sizeDrop
// and sizeGrowth decide the size check (both Node engines once ignored them), and an unknown
// option is E_INVALID rather than silently dropped.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Engine } = require('..');
const { bin, dbUrl, psql, tmpdir, Databases, expectCode } = require('./fixtures');

const dbs = new Databases('health');
let store;

before(async () => {
  store = tmpdir('bbnode-health-');
  const catalog = dbs.catalog('cat', 300);
  const engine = new Engine({ store, engine: 'native' });
  for (let i = 0; i < 2; i++) await engine.backup({ databaseUrl: dbUrl(catalog) });
  // The newest backup holds an emptied catalog: far under the median of the two before it.
  psql(dbUrl(catalog), 'TRUNCATE final_entities, refresh_state, refresh_state_references, relations, search CASCADE');
  await engine.backup({ databaseUrl: dbUrl(catalog) });
});

after(() => {
  dbs.dropAll();
  fs.rmSync(store, { recursive: true, force: true });
});

const sizeCheck = report => report.checks.find(c => c.name === 'size');

for (const kind of ['native', 'wasm']) {
  test(`${kind}: sizeDrop and sizeGrowth decide the size check; unknown options are refused`, async () => {
    const engine = new Engine({ store, engine: kind });
    assert.equal(sizeCheck(await engine.health({ maxAge: '1h' })).status, 'WARNING');
    assert.equal(sizeCheck(await engine.health({ maxAge: '1h', sizeDrop: 0.001 })).status, 'OK');
    assert.equal(sizeCheck(await engine.health({ maxAge: '1h', sizeDrop: 0.001, sizeGrowth: 1.0001 })).status, 'OK');
    await expectCode(engine.health({ sizeDrop: -1 }), 'E_INVALID');
    const err = await expectCode(engine.health({ sizeDropp: 0.1 }), 'E_INVALID');
    assert.match(err.message, /sizeDropp/);
  });
}

test('the CLI reads the same options the same way', () => {
  const run = args => {
    try {
      return JSON.parse(execFileSync(bin('backstage-backup'), ['health', '--json', '--store', store, ...args], { encoding: 'utf8' }));
    } catch (err) {
      // WARNING and CRITICAL exit non-zero; the report is on stdout all the same.
      return JSON.parse(err.stdout);
    }
  };
  assert.equal(sizeCheck(run(['--max-age', '1h'])).status, 'WARNING');
  assert.equal(sizeCheck(run(['--max-age', '1h', '--size-drop', '0.001'])).status, 'OK');
  assert.ok(path.isAbsolute(store));
});
