'use strict';
// Signed backups on both engines, with keys made by Node's own crypto (PKCS#8 / SPKI PEM, as
// OpenSSL writes them): a private key signs, a public key checks; a backup the key did not sign
// is refused by verify, restore, drill and openRead; unsigned ones need allowUnsigned; each
// engine accepts what the other signed.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { Engine } = require('..');
const { admin, dbUrl, psql, tmpdir, Databases, expectCode } = require('./fixtures');

const dbs = new Databases('signing');
let catalog;
let root;
const pair = () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    private: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    public: publicKey.export({ type: 'spki', format: 'pem' }),
  };
};
const keys = pair();
const otherKeys = pair();

before(() => {
  root = tmpdir('bbnode-signing-');
  catalog = dbs.catalog('cat', 30);
});

after(() => {
  dbs.dropAll();
  fs.rmSync(root, { recursive: true, force: true });
});

const manifestFile = (store, id) => path.join(store, `${id}.sql.gz.manifest.json`);

for (const kind of ['native', 'wasm']) {
  const other = kind === 'native' ? 'wasm' : 'native';
  const engine = (store, signing) => new Engine({ store, engine: kind, signing });

  test(`${kind}: a private key signs; a public key (either engine) verifies, restores and drills it`, async () => {
    const store = fs.mkdtempSync(path.join(root, `${kind}-`));
    const keyFile = path.join(root, `${kind}-private.pem`);
    fs.writeFileSync(keyFile, keys.private, { mode: 0o600 });
    const manifest = await engine(store, { keyFile }).backup({ databaseUrl: dbUrl(catalog) });
    assert.equal(manifest.signature.algorithm, 'ed25519');
    assert.match(manifest.signature.keyId, /^[0-9a-f]{16}$/);

    for (const reader of [engine(store, { key: keys.public }), new Engine({ store, engine: other, signing: { key: keys.public } })]) {
      const [listed] = await reader.list();
      assert.equal(listed.signature, 'valid');
      assert.equal((await reader.verify(manifest.id)).ok, true);
      const target = dbs.name(`ok_${kind}_${reader.kind}`);
      await reader.restore(manifest.id, { databaseUrl: dbUrl(target) });
      assert.equal(psql(dbUrl(target), 'SELECT count(*) FROM final_entities'), '30');
      assert.equal((await reader.drill(manifest.id, { databaseUrl: admin })).ok, true);
      const opened = await reader.openRead(manifest.id);
      for await (const chunk of opened.chunks) assert.ok(chunk.length > 0);
    }
    // Without a key the signature is shown, not checked.
    assert.equal((await engine(store).list())[0].signature, 'signed');
    // A public key cannot sign: refused before anything is dumped.
    await expectCode(engine(store, { key: keys.public }).backup({ databaseUrl: dbUrl(catalog) }), 'E_INVALID');
    assert.equal((await engine(store).list()).length, 1);
  });

  test(`${kind}: a changed manifest, another key's backup and a moved backup are refused everywhere`, async () => {
    const store = fs.mkdtempSync(path.join(root, `${kind}-tamper-`));
    const signed = await engine(store, { key: keys.private }).backup({ databaseUrl: dbUrl(catalog), labels: { release: '1.45.0' } });
    const file = manifestFile(store, signed.id);
    const original = fs.readFileSync(file, 'utf8');
    const edits = {
      'a label': m => (m.labels.release = '9.9.9'),
      'the trigger': m => (m.trigger.kind = 'scheduled'),
      'an added field': m => (m.note = 'planted'),
    };
    const reader = engine(store, { key: keys.public, allowUnsigned: true });
    for (const [what, edit] of Object.entries(edits)) {
      const m = JSON.parse(original);
      edit(m);
      fs.writeFileSync(file, JSON.stringify(m));
      const [listed] = await reader.list();
      assert.equal(listed.signature, 'invalid', what);
      assert.match(listed.signatureProblem, /changed after it was signed/, what);
      await expectCode(reader.verify(signed.id), 'E_INTEGRITY');
      await expectCode(reader.restore(signed.id, { databaseUrl: dbUrl(dbs.name(`tamper_${kind}`)) }), 'E_INTEGRITY');
      await expectCode(reader.drill(signed.id, { databaseUrl: admin }), 'E_INTEGRITY');
      await expectCode(reader.openRead(signed.id), 'E_INTEGRITY');
      const health = await reader.health({ maxAge: '1h' });
      assert.notEqual(health.status, 'OK', what);
      assert.ok(health.checks.some(c => c.name === 'signatures' && c.status === 'WARNING'), JSON.stringify(health.checks));
    }
    fs.writeFileSync(file, original);
    // Signed by another key: the message names both key ids.
    const err = await expectCode(engine(store, { key: otherKeys.public }).verify(signed.id), 'E_INTEGRITY');
    assert.match(err.message, new RegExp(signed.signature.keyId));
    // The whole backup copied under a newer name: its manifest was signed for the old one.
    const moved = signed.id.replace(/_\d{6}$/, '_235959');
    for (const part of ['.sql.gz', '.sql.gz.sha256', '.sql.gz.manifest.json']) {
      fs.copyFileSync(path.join(store, signed.id + part), path.join(store, moved + part));
    }
    const copied = await expectCode(reader.verify(moved), 'E_INTEGRITY');
    assert.match(copied.message, /copied or renamed/);
    assert.equal((await reader.verify(signed.id)).ok, true);
  });

  test(`${kind}: unsigned backups need allowUnsigned once a key is configured; bad keys are named, never echoed`, async () => {
    const store = fs.mkdtempSync(path.join(root, `${kind}-unsigned-`));
    const plain = await engine(store).backup({ databaseUrl: dbUrl(catalog) });
    assert.equal(plain.signature, undefined);
    assert.equal((await engine(store).list())[0].signature, 'unsigned');
    const health = await engine(store).health({ maxAge: '1h' });
    assert.ok(health.checks.some(c => c.name === 'signatures' && /unsigned/.test(c.message)), JSON.stringify(health.checks));

    const strict = engine(store, { key: keys.public });
    const err = await expectCode(strict.verify(plain.id), 'E_INTEGRITY');
    assert.match(err.message, /allow-unsigned/);
    await expectCode(strict.restore(plain.id, { databaseUrl: dbUrl(dbs.name(`unsigned_${kind}`)) }), 'E_INTEGRITY');
    assert.equal((await engine(store, { key: keys.public, allowUnsigned: true }).verify(plain.id)).ok, true);

    const secret = 'TOP-SECRET-NOT-A-KEY';
    for (const signing of [
      { key: secret },
      { key: `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n` },
      { keyFile: path.join(root, 'missing.pem') },
      { keyFile: '/dev/zero' },
      { key: keys.private, keyFile: 'x' },
    ]) {
      assert.throws(
        () => engine(store, signing),
        e => e.code === 'E_INVALID' && !e.message.includes(secret) && !e.message.includes('MC4C'),
        JSON.stringify(Object.keys(signing)),
      );
    }
  });
}
