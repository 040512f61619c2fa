'use strict';
// Rules both engines take from core, so they cannot drift apart again: the compression threads
// (0 is one per core; over 256 is E_INVALID before anything is dumped; the native engine once
// spawned whatever it was asked for, the wasm engine capped at 64).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');

const { Engine } = require('..');
const { dbUrl, tmpdir, Databases, expectCode } = require('./fixtures');

const dbs = new Databases('rules');
let catalog;
let store;

before(() => {
  catalog = dbs.catalog('cat', 20);
  store = tmpdir('bbnode-rules-');
});

after(() => {
  dbs.dropAll();
  fs.rmSync(store, { recursive: true, force: true });
});

for (const kind of ['native', 'wasm']) {
  test(`${kind}: threads from 0 (one per core) to 256; more, a fraction or a negative is E_INVALID and writes nothing`, async () => {
    const engine = new Engine({ store, engine: kind });
    const before = (await engine.list()).length;
    for (const threads of [257, 100_000, -1, 1.5]) {
      const err = await expectCode(engine.backup({ databaseUrl: dbUrl(catalog), threads }), 'E_INVALID');
      assert.match(err.message, /threads must be a whole number from 0 \(one per core\) to 256/);
    }
    assert.equal((await engine.list()).length, before);
    for (const threads of [0, 3]) {
      const manifest = await engine.backup({ databaseUrl: dbUrl(catalog), threads });
      assert.equal((await engine.verify(manifest.id)).ok, true);
    }
  });
}
