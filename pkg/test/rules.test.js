'use strict';
// Rules both engines take from core, so they cannot drift apart again: the compression threads
// (0 is one per core; over 256 is E_INVALID before anything is dumped; the native engine once
// spawned whatever it was asked for, the wasm engine capped at 64), and pg_dump discovery.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

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

// pg_dump discovery is core's on both engines (the wasm engine once had its own copy): a
// folder without pg_dump, and one whose pg_dump is older than the server, get the same answer.
for (const kind of ['native', 'wasm']) {
  test(`${kind}: BACKSTAGE_BACKUP_PG_BIN without a usable pg_dump is E_PG_DUMP saying what to install`, async () => {
    const engine = new Engine({ store, engine: kind });
    const bin = tmpdir('bbnode-pgbin-');
    const saved = process.env.BACKSTAGE_BACKUP_PG_BIN;
    try {
      // psql stays usable (the wasm engine's session runs on it); pg_dump is missing, then old.
      const newest = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => b - a)[0];
      fs.symlinkSync(`/usr/lib/postgresql/${newest}/bin/psql`, path.join(bin, 'psql'));
      process.env.BACKSTAGE_BACKUP_PG_BIN = bin;
      const missing = await expectCode(engine.backup({ databaseUrl: dbUrl(catalog) }), 'E_PG_DUMP');
      assert.match(missing.message, /pg_dump was not found: install the PostgreSQL 1\d client .*postgresql-client-1\d/);
      fs.writeFileSync(path.join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n', { mode: 0o755 });
      const old = await expectCode(engine.backup({ databaseUrl: dbUrl(catalog) }), 'E_PG_DUMP');
      assert.match(old.message, /pg_dump 9\.6\.24 \(.*pg_dump\) is older than the server \(PostgreSQL 1\d\)/);
    } finally {
      if (saved === undefined) delete process.env.BACKSTAGE_BACKUP_PG_BIN;
      else process.env.BACKSTAGE_BACKUP_PG_BIN = saved;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
}
