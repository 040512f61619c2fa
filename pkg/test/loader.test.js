'use strict';
// Which engine `require('@backstage-backup/engine')` gives: native where its addon loads, the
// WebAssembly engine where it cannot or when BACKSTAGE_BACKUP_ENGINE=wasm asks for it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { Engine, BackupError } = require('..');
const { tmpdir } = require('./fixtures');

const pkg = path.join(__dirname, '..');

/** Runs `code` in a fresh Node with `env`; returns what it printed. */
const run = (dir, code, env = {}) =>
  execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(dir)}); ${code}`], {
    encoding: 'utf8',
    env: { ...process.env, BACKSTAGE_BACKUP_ENGINE: '', ...env },
  }).trim();

/** A copy of the package without native/: a platform with no binary. */
function withoutNative() {
  const dir = tmpdir('bbnode-pkg-');
  for (const entry of fs.readdirSync(pkg)) {
    if (['native', 'test', 'node_modules'].includes(entry)) continue;
    fs.cpSync(path.join(pkg, entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

test('native by default, wasm when BACKSTAGE_BACKUP_ENGINE=wasm', () => {
  const dir = tmpdir('bbnode-loader-');
  const code = `console.log(new m.Engine({ store: ${JSON.stringify(dir)} }).kind)`;
  assert.equal(run(pkg, code), 'native');
  assert.equal(run(pkg, code, { BACKSTAGE_BACKUP_ENGINE: 'wasm' }), 'wasm');
  assert.equal(run(pkg, code, { BACKSTAGE_BACKUP_ENGINE: 'native' }), 'native');
});

test('where the native addon cannot load, the wasm engine is used; asking for native says why', () => {
  const dir = withoutNative();
  try {
    const store = tmpdir('bbnode-loader-');
    assert.equal(
      run(dir, `const e = new m.Engine({ store: ${JSON.stringify(store)} }); e.list().then(l => console.log(e.kind, l.length))`),
      'wasm 0',
    );
    const said = run(
      dir,
      `try { new m.Engine({ engine: 'native' }) } catch (err) { console.log(err.code, err instanceof m.BackupError, /native/.test(err.message)) }`,
    );
    assert.equal(said, 'E_UNAVAILABLE true true');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('engineChoice says which engine runs and why, naming the package an admin can add', () => {
  const said = JSON.parse(run(pkg, 'console.log(JSON.stringify(m.engineChoice()))'));
  assert.equal(said.kind, 'native');
  assert.match(said.reason, /loads on linux-x64-gnu/);
  const dir = withoutNative();
  try {
    const fallback = JSON.parse(run(dir, 'console.log(JSON.stringify(m.engineChoice()))'));
    assert.equal(fallback.kind, 'wasm');
    assert.match(fallback.reason, /@backstage-backup\/engine-linux-x64-gnu is not installed/);
    assert.match(fallback.reason, /yarn add @backstage-backup\/engine-linux-x64-gnu/);
    const asked = JSON.parse(run(dir, 'console.log(JSON.stringify(m.engineChoice()))', { BACKSTAGE_BACKUP_ENGINE: 'wasm' }));
    assert.deepEqual(asked, { kind: 'wasm', reason: 'BACKSTAGE_BACKUP_ENGINE=wasm asks for it' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown engine name is E_INVALID', () => {
  assert.throws(
    () => new Engine({ engine: 'java' }),
    err => err instanceof BackupError && err.code === 'E_INVALID',
  );
});
