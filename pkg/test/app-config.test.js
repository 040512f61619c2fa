'use strict';
// Backstage app-config files name the database the same way on both engines and the CLI (one
// resolver, in core): files merged in order, `${VAR}`, `$env` and `$file`, plugin overrides.
// The WebAssembly engine once refused app-config files outright.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Engine } = require('..');
const { bin, tmpdir, Databases, expectCode } = require('./fixtures');

const dbs = new Databases('appcfg');
let catalog;
let dir;

before(() => {
  catalog = dbs.catalog('cat', 50);
  dir = tmpdir('bbnode-appcfg-');
  fs.writeFileSync(path.join(dir, 'pw.txt'), 'unused-with-trust-auth\n');
  // The base file names the server through a variable and the password through a file; the
  // second, like a production overlay, points the catalog plugin at its own database.
  fs.writeFileSync(
    path.join(dir, 'app-config.yaml'),
    [
      'backend:',
      '  database:',
      '    client: pg',
      '    connection:',
      '      host: ${BBTEST_APPCFG_HOST}',
      '      port: 5432',
      '      user: { $env: BBTEST_APPCFG_USER }',
      '      password: { $file: ./pw.txt }',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'app-config.production.yaml'),
    ['backend:', '  database:', '    plugin:', '      catalog:', '        connection:', `          database: ${catalog}`, ''].join('\n'),
  );
  process.env.BBTEST_APPCFG_HOST = '127.0.0.1';
  process.env.BBTEST_APPCFG_USER = 'postgres';
});

after(() => {
  dbs.dropAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

const files = () => [path.join(dir, 'app-config.yaml'), path.join(dir, 'app-config.production.yaml')];

for (const kind of ['native', 'wasm']) {
  test(`${kind}: app-config files name the database as Backstage does`, async () => {
    const store = tmpdir(`bbnode-appcfg-${kind}-`);
    try {
      const engine = new Engine({ store, engine: kind });
      const manifest = await engine.backup({ appConfig: files() });
      assert.equal(manifest.database.name, catalog);
      assert.equal(manifest.database.pluginId, 'catalog');
      assert.equal(manifest.database.host, '127.0.0.1:5432');
      assert.equal((await engine.verify(manifest.id)).ok, true);
      // Each file alone is not enough: the overlay is what names this database.
      const base = await expectCode(engine.backup({ appConfig: files().slice(0, 1) }), 'E_NOT_FOUND');
      assert.match(base.message, /backstage_plugin_catalog/);
      const missing = path.join(dir, 'absent.yaml');
      const err = await expectCode(engine.backup({ appConfig: [missing] }), 'E_INVALID');
      assert.match(err.message, /cannot read app-config .*absent\.yaml/);
      // A FIFO would block a reader forever; it is refused as not a regular file.
      const fifo = path.join(dir, `fifo-${kind}.yaml`);
      execFileSync('mkfifo', [fifo]);
      const blocked = await expectCode(engine.backup({ appConfig: [fifo] }), 'E_INVALID');
      assert.match(blocked.message, /not a regular file/);
      // The password read from the file never shows.
      assert.doesNotMatch(JSON.stringify(manifest) + base.message, /unused-with-trust-auth/);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
}

test('the CLI reads the same files the same way', () => {
  const store = tmpdir('bbnode-appcfg-cli-');
  try {
    const args = ['backup', '--store', store, '--json'];
    for (const file of files()) args.push('--app-config', file);
    const out = JSON.parse(execFileSync(bin('backstage-backup'), args, { encoding: 'utf8', env: process.env }));
    const manifest = out.manifest ?? out;
    assert.equal(manifest.database.name, catalog);
    assert.equal(manifest.database.plugin_id, 'catalog');
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
});
