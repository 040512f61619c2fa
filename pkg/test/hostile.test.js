'use strict';
// A dump planted in the store never runs anything, on both engines: verify names the line,
// restore refuses with E_INTEGRITY and leaves the target as it was, drill fails; the planted
// psql meta-command or OS-reaching SQL never ran (its marker file is never created).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const { Engine } = require('..');
const { admin, dbUrl, psql, tmpdir, Databases, expectCode } = require('./fixtures');

const dbs = new Databases('hostile');
let dump;
let work;
// Stores live apart from `work`: a store under a folder anyone can write to is refused.
let stores;

before(() => {
  work = tmpdir('bbnode-hostile-');
  fs.chmodSync(work, 0o777);
  stores = tmpdir('bbnode-hostile-stores-');
  const source = dbs.name('src');
  psql(admin, `CREATE DATABASE ${source}`);
  psql(dbUrl(source), "CREATE TABLE t (x int, y text); INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 50) i");
  dump = execFileSync('pg_dump', [dbUrl(source)], { encoding: 'utf8' });
});

after(() => {
  dbs.dropAll();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(stores, { recursive: true, force: true });
});

/** `dump` with `text` inserted so that its first line becomes line `at`. */
function plant(at, text) {
  const lines = dump.split(/(?<=\n)/);
  lines.splice(at - 1, 0, text);
  return lines.join('');
}

const lineOf = predicate => dump.split('\n').findIndex(predicate) + 1;
const afterHeader = () => lineOf(l => l.includes("set_config('search_path'")) + 1;
const afterCopy = () => {
  const lines = dump.split('\n');
  const copy = lines.findIndex(l => l.startsWith('COPY '));
  return copy + lines.slice(copy).indexOf('\\.') + 2;
};

const cases = [
  { name: 'shell escape', at: afterHeader, planted: m => `\\! touch ${m}\n`, says: '\\!' },
  { name: 'output to a pipe', at: afterHeader, planted: m => `\\o |touch ${m}\nSELECT 1;\n`, says: '\\o' },
  { name: 'mid-line shell escape', at: afterHeader, planted: m => `SELECT 1; \\! touch ${m}\n`, says: '\\!' },
  { name: 'COPY TO PROGRAM', at: afterHeader, planted: m => `COPY public.t TO PROGRAM 'touch ${m}';\n`, says: 'COPY … TO' },
  { name: 'after a COPY block', at: afterCopy, planted: m => `\\! touch ${m}\n`, says: '\\!' },
];

for (const kind of ['native', 'wasm']) {
  for (const c of cases) {
    test(`${kind}: a planted ${c.name} is refused by verify, restore and drill and never runs`, async () => {
      const store = fs.mkdtempSync(path.join(stores, `${kind}-`));
      const marker = path.join(work, `PWNED-${kind}-${c.name.replace(/\W/g, '_')}`);
      const at = c.at();
      fs.writeFileSync(path.join(store, 'backstage-catalog-20261203_000000.sql.gz'), zlib.gzipSync(plant(at, c.planted(marker))));
      const e = new Engine({ store, engine: kind });

      const verified = await e.verify('latest');
      assert.equal(verified.ok, false);
      assert.ok(
        verified.problems.some(p => p.includes(`line ${at} of the dump`) && p.includes(c.says)),
        JSON.stringify(verified.problems),
      );

      const target = dbs.name(`tgt_${kind}_${cases.indexOf(c)}`);
      psql(admin, `CREATE DATABASE ${target}`);
      psql(dbUrl(target), 'CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (42)');
      await expectCode(e.restore('latest', { databaseUrl: dbUrl(target), clean: true, safetyBackup: false }), 'E_INTEGRITY');
      assert.equal(psql(dbUrl(target), "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"), 'keep_me');
      assert.equal(psql(dbUrl(target), 'SELECT x FROM keep_me'), '42');
      assert.equal(fs.existsSync(marker), false, 'restore ran the planted command');

      const drilled = await e.drill('latest', { databaseUrl: admin });
      assert.equal(drilled.ok, false);
      assert.ok(drilled.problems.some(p => p.includes(`line ${at} of the dump`)), JSON.stringify(drilled.problems));
      assert.equal(fs.existsSync(marker), false, 'drill ran the planted command');
    });
  }

  test(`${kind}: the real dump itself verifies and restores`, async () => {
    const store = fs.mkdtempSync(path.join(stores, `${kind}-good-`));
    fs.writeFileSync(path.join(store, 'backstage-catalog-20261203_000000.sql.gz'), zlib.gzipSync(dump));
    const e = new Engine({ store, engine: kind });
    assert.equal((await e.verify('latest')).ok, true);
    const target = dbs.name(`good_${kind}`);
    await e.restore('latest', { databaseUrl: dbUrl(target) });
    assert.equal(psql(dbUrl(target), 'SELECT count(*) FROM t'), '50');
  });
}
