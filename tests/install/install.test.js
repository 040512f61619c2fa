'use strict';
// The release as a user gets it: the tarballs scripts/release.sh made (RELEASE_DIR, default
// ./release) installed with npm into a fresh project, then run on Backstage's Node versions (22
// and 24, the official binaries from the npm package `node`) with a PATH that holds no cargo or
// rustc: the engine loads its prebuilt native addon from the platform package and backs up a
// real catalog, the WebAssembly engine does the same, and the backend plugin's dist loads as a
// backend feature. The native addon and the CLI need nothing newer than glibc 2.17.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const releaseDir = path.resolve(process.env.RELEASE_DIR || path.join(root, 'release'));
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = `bbinstall_${process.pid}`;
// What a user's machine has: system tools, no Rust toolchain.
const BARE_PATH = '/usr/local/bin:/usr/bin:/bin';
const quiet = { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } };

let app;
let version;
const tarball = name => {
  const file = path.join(releaseDir, `${name}-${version}.tgz`);
  assert.ok(fs.existsSync(file), `${file} is missing: run scripts/release.sh first`);
  return file;
};

/** The official Node binary of `major` (scripts/node-bin.sh installs and checks it). */
function nodeBinary(major) {
  const dir = execFileSync('bash', [path.join(root, 'scripts', 'node-bin.sh'), String(major)], { encoding: 'utf8' }).trim();
  return path.join(dir, 'node');
}

/** Runs `code` in the installed app on `node`, with no Rust on PATH; returns its JSON output. */
function inApp(node, code, env = {}) {
  const out = execFileSync(node, ['-e', code], {
    cwd: app,
    encoding: 'utf8',
    env: { HOME: os.homedir(), PATH: `${path.dirname(node)}:${BARE_PATH}`, ...env },
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

/** The newest GLIBC_x.y symbol version a binary needs. */
function newestGlibc(file) {
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const versions = [...symbols.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map(m => [Number(m[1]), Number(m[2])]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return versions.at(-1);
}

before(() => {
  version = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;
  execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${database}`], quiet);
  execFileSync(path.join(targetDir, 'debug', 'catalog-fixture'), ['--admin-url', admin, '--database', database, '--entities', '60'], { stdio: 'ignore' });
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'bbinstall-app-'));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'install-test', version: '1.0.0', private: true }));
  const started = Date.now();
  execFileSync(
    'npm',
    [
      'install', '--no-audit', '--no-fund', '--silent',
      tarball('backstage-backup-engine'),
      tarball('backstage-backup-engine-linux-x64-gnu'),
      tarball('backstage-backup-plugin-backup-common'),
      tarball('backstage-backup-plugin-backup-backend'),
    ],
    { cwd: app, stdio: 'inherit' },
  );
  console.log(`# npm install of the release into a fresh project: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

after(() => {
  execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${database}`], quiet);
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

test('the packages ship what runs, and no source, test or checkout build', () => {
  const list = name => execFileSync('tar', ['tzf', tarball(name)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const engine = list('backstage-backup-engine');
  assert.ok(engine.includes('package/wasm/backstage_backup_wasm_bg.wasm'), engine.join(' '));
  assert.ok(!engine.some(f => f.includes('/native/') || f.includes('/test/') || f.endsWith('.node')), engine.join(' '));
  const manifest = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', '@backstage-backup', 'engine', 'package.json'), 'utf8'));
  assert.deepEqual(manifest.optionalDependencies, { '@backstage-backup/engine-linux-x64-gnu': version });
  const platform = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', '@backstage-backup', 'engine-linux-x64-gnu', 'package.json'), 'utf8'));
  assert.deepEqual([platform.os, platform.cpu, platform.libc], [['linux'], ['x64'], ['glibc']]);
  const backend = list('backstage-backup-plugin-backup-backend');
  for (const file of ['package/dist/index.cjs.js', 'package/dist/index.d.ts', 'package/config.schema.json']) {
    assert.ok(backend.includes(file), `${file} not in ${backend.join(' ')}`);
  }
  assert.ok(backend.some(f => f.startsWith('package/migrations/')));
  assert.ok(!backend.some(f => f.startsWith('package/src/')), backend.join(' '));
  const installed = JSON.parse(
    fs.readFileSync(path.join(app, 'node_modules', '@backstage-backup', 'plugin-backup-backend', 'package.json'), 'utf8'),
  );
  assert.equal(installed.main, 'dist/index.cjs.js');
  for (const [name, range] of Object.entries(installed.dependencies)) {
    if (name.startsWith('@backstage/')) assert.match(range, /^\^/, `${name} is pinned (${range}): apps on another release get a second copy`);
  }
});

test('the native addon and the CLI need nothing newer than glibc 2.17', () => {
  const addon = path.join(app, 'node_modules', '@backstage-backup', 'engine-linux-x64-gnu', 'backstage-backup.linux-x64-gnu.node');
  assert.ok(fs.statSync(addon).size < 40 << 20, `the addon is ${fs.statSync(addon).size} bytes: not a stripped release build`);
  const needs = newestGlibc(addon);
  assert.ok(needs[0] === 2 && needs[1] <= 17, `the addon needs GLIBC_${needs.join('.')}`);
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'bbinstall-cli-'));
  try {
    execFileSync('tar', ['xzf', path.join(releaseDir, `backstage-backup-${version}-linux-x64-gnu.tar.gz`), '-C', unpacked]);
    const cli = path.join(unpacked, `backstage-backup-${version}-linux-x64-gnu`, 'backstage-backup');
    const glibc = newestGlibc(cli);
    assert.ok(glibc[0] === 2 && glibc[1] <= 17, `the CLI needs GLIBC_${glibc.join('.')}`);
    const store = path.join(unpacked, 'store');
    const out = execFileSync(cli, ['backup', '--json', '--database-url', `postgresql://postgres@127.0.0.1:5432/${database}`, '--store', store], {
      encoding: 'utf8',
      env: { PATH: BARE_PATH, HOME: os.homedir() },
    });
    assert.equal(Object.values(JSON.parse(out).entities).reduce((a, b) => a + b, 0), 60);
  } finally {
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
});

for (const major of [22, 24]) {
  test(`Node ${major}: both engines back up the catalog with no Rust on PATH; the backend plugin loads`, () => {
    const node = nodeBinary(major);
    const url = `postgresql://postgres@127.0.0.1:5432/${database}`;
    for (const kind of ['native', 'wasm']) {
      const store = fs.mkdtempSync(path.join(os.tmpdir(), `bbinstall-${kind}-`));
      try {
        const result = inApp(
          node,
          `const { Engine, engineChoice } = require('@backstage-backup/engine');
           (async () => {
             const choice = engineChoice();
             const engine = new Engine({ store: ${JSON.stringify(store)} });
             const manifest = await engine.backup({ databaseUrl: ${JSON.stringify(url)} });
             const verified = await engine.verify(manifest.id);
             console.log(JSON.stringify({ kind: engine.kind, choice, entities: manifest.entities, ok: verified.ok }));
           })().catch(err => { console.error(err); process.exit(1); });`,
          kind === 'wasm' ? { BACKSTAGE_BACKUP_ENGINE: 'wasm' } : {},
        );
        assert.equal(result.kind, kind);
        if (kind === 'native') assert.match(result.choice.reason, /@backstage-backup\/engine-linux-x64-gnu/);
        assert.equal(Object.values(result.entities).reduce((a, b) => a + b, 0), 60);
        assert.equal(result.ok, true);
      } finally {
        fs.rmSync(store, { recursive: true, force: true });
      }
    }
    const feature = inApp(
      node,
      `const m = require('@backstage-backup/plugin-backup-backend');
       console.log(JSON.stringify({ type: m.default.$$type, common: typeof require('@backstage-backup/plugin-backup-common').backupPermissions }));`,
    );
    assert.deepEqual(feature, { type: '@backstage/BackendFeature', common: 'object' });
  });
}
