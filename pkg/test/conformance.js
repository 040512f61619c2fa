'use strict';
// The conformance suite both engines pass: every method against real PostgreSQL (the real
// catalog schema, generated entities), a local store and the loopback S3 server; progress
// events; aborts; and one failure of every class with its stable code.
// `require('./conformance')('native' | 'wasm')` registers it for one engine.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { Engine } = require('..');
const { bin, admin, dbUrl, psql, tmpdir, Databases, startS3, expectCode, holdBackupLock } = require('./fixtures');

const total = entities => Object.values(entities).reduce((a, b) => a + b, 0);

function checkProgress(events, kind) {
  const phases = events.filter(e => e.phase).map(e => e.phase);
  assert.deepEqual(
    phases.filter(p => ['connecting', 'dumping', 'finalizing', 'done'].includes(p)),
    ['connecting', 'dumping', 'finalizing', 'done'],
    `${kind}: ${JSON.stringify(phases)}`,
  );
  const bytes = events.filter(e => e.raw !== undefined);
  assert.ok(bytes.length > 0 && bytes.at(-1).stored > 0, JSON.stringify(events));
  for (let i = 1; i < bytes.length; i++) assert.ok(bytes[i].raw >= bytes[i - 1].raw, 'raw bytes never go back');
}

module.exports = function conformance(kind) {
  const dbs = new Databases(kind);
  let catalog;
  let bulky;
  let store;
  let s3;
  const engine = (storeUrl, opts = {}) => new Engine({ store: storeUrl, engine: kind, ...opts });

  before(async () => {
    store = tmpdir(`bbnode-${kind}-`);
    catalog = dbs.catalog('cat');
    bulky = dbs.bulky('bulk');
    s3 = await startS3();
  });

  after(() => {
    dbs.dropAll();
    fs.rmSync(store, { recursive: true, force: true });
    s3?.stop();
  });

  test(`${kind}: the ${kind} engine loads`, () => {
    assert.equal(engine(store).kind, kind);
  });

  test(`${kind}: backup, list, verify, drill, restore, prune and health on a local store`, async () => {
    const e = engine(store);
    const events = [];
    const manifest = await e.backup({
      databaseUrl: dbUrl(catalog),
      trigger: 'pre-upgrade',
      labels: { backstage_version: '1.45.0' },
      onProgress: event => events.push(event),
    });
    assert.equal(manifest.format, 'backstage-backup/v1');
    assert.match(manifest.id, /^backstage-bbnode-cat-[a-z0-9-]+-\d{8}_\d{6}$/);
    assert.equal(manifest.name, `${manifest.id}.sql.gz`);
    assert.equal(manifest.trigger.kind, 'pre-upgrade');
    // Label names are data: not camel-cased.
    assert.deepEqual(manifest.labels, { backstage_version: '1.45.0' });
    assert.equal(total(manifest.entities), 200);
    assert.equal(manifest.database.name, catalog);
    assert.equal(manifest.database.host, '127.0.0.1:5432');
    assert.match(manifest.database.latestMigration, /\.js$/);
    assert.equal(manifest.compressed.sha256.length, 64);
    assert.ok(manifest.raw.bytes > manifest.compressed.bytes);
    checkProgress(events, kind);

    // The store format: three objects, private, `sha256sum -c` and gzip accept them.
    const files = fs.readdirSync(store).filter(f => f.startsWith(manifest.id)).sort();
    assert.deepEqual(files, [manifest.name, `${manifest.name}.manifest.json`, `${manifest.name}.sha256`]);
    for (const f of files) assert.equal(fs.statSync(path.join(store, f)).mode & 0o777, 0o600, f);
    execFileSync('sha256sum', ['-c', `${manifest.name}.sha256`], { cwd: store, stdio: 'ignore' });
    execFileSync('gzip', ['-t', path.join(store, manifest.name)]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(store, `${manifest.name}.manifest.json`))).labels, { backstage_version: '1.45.0' });

    const list = await e.list();
    assert.equal(list[0].id, manifest.id);
    assert.equal(list[0].status, 'complete');
    assert.equal(list[0].bytes, manifest.compressed.bytes);
    assert.deepEqual(list[0].entities, manifest.entities);

    const verifyEvents = [];
    const verified = await e.verify('latest', { onProgress: event => verifyEvents.push(event) });
    assert.equal(verified.ok, true, JSON.stringify(verified.problems));
    assert.equal(verified.check.raw.sha256, manifest.raw.sha256);
    assert.ok(verifyEvents.some(ev => ev.total === manifest.compressed.bytes), JSON.stringify(verifyEvents));
    assert.equal((await e.list())[0].verifiedOk, true);
    // The CLI reads what the engine wrote.
    execFileSync(bin('backstage-backup'), ['verify', manifest.id, '--store', store], { stdio: 'ignore' });

    const drilled = await e.drill('latest', { databaseUrl: admin });
    assert.equal(drilled.ok, true, JSON.stringify(drilled.problems));
    assert.deepEqual(drilled.entities, manifest.entities);
    assert.equal(psql(admin, `SELECT count(*) FROM pg_database WHERE datname = '${drilled.scratchDatabase}'`), '0');
    assert.equal((await e.list())[0].drilledOk, true);

    const fresh = dbs.name('restore');
    const restored = await e.restore(manifest.id, { databaseUrl: dbUrl(fresh) });
    assert.equal(restored.createdDatabase, true);
    assert.deepEqual(restored.entities, manifest.entities);
    assert.equal(psql(dbUrl(fresh), 'SELECT count(*) FROM final_entities'), '200');
    // TOASTed values are stored with LZ4 (the faster load), none with pglz.
    const compression = db =>
      psql(db, "SELECT count(*) FILTER (WHERE pg_column_compression(final_entity) = 'lz4') || ' ' || count(*) FILTER (WHERE pg_column_compression(final_entity) = 'pglz') FROM final_entities");
    const [sourcePglz] = compression(dbUrl(catalog)).split(' ').slice(1);
    assert.ok(Number(sourcePglz) > 0, 'the fixture has no compressed values to check');
    assert.equal(compression(dbUrl(fresh)), `${sourcePglz} 0`);

    // Again over the restored copy: --clean replaces it after a safety backup of it.
    const again = await e.restore(manifest.id, { databaseUrl: dbUrl(fresh), clean: true });
    assert.equal(again.createdDatabase, false);
    // The safety backup is named after the backup that replaces the target (found by `latest`).
    assert.ok(again.safetyBackup?.startsWith(`backstage-${manifest.database.pluginId}-`), JSON.stringify(again));
    assert.equal(psql(dbUrl(fresh), 'SELECT count(*) FROM final_entities'), '200');

    const plan = await e.prune({ keepLast: 1, dryRun: true });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.deleted, []);
    assert.ok(plan.decisions.length >= 2);

    const report = await e.health({ maxAge: '1h' });
    assert.equal(report.status, 'OK', JSON.stringify(report.checks));
    assert.equal(report.lastVerify.id, manifest.id);
  });

  test(`${kind}: backup, verify, restore and prune on S3`, async () => {
    const prefix = `${kind}-all`;
    const e = engine(s3.url(prefix));
    const first = await e.backup({ databaseUrl: dbUrl(catalog) });
    await new Promise(r => setTimeout(r, 1100));
    const second = await e.backup({ databaseUrl: dbUrl(catalog), labels: { n: '2' } });
    const { keys, uploads } = await s3.contents(prefix);
    assert.deepEqual(uploads, []);
    for (const m of [first, second]) for (const suffix of ['', '.sha256', '.manifest.json']) assert.ok(keys.includes(`${m.name}${suffix}`), keys.join());
    const sidecar = (await s3.getObject(`${prefix}/${second.name}.sha256`)).toString();
    assert.equal(sidecar, `${second.compressed.sha256}  ${second.name}\n`);

    assert.equal((await e.verify(first.id)).ok, true);
    const list = await e.list();
    assert.deepEqual(
      list.map(x => [x.id, x.status]),
      [
        [second.id, 'complete'],
        [first.id, 'complete'],
      ],
    );
    const fresh = dbs.name('s3restore');
    const restored = await e.restore('latest', { databaseUrl: dbUrl(fresh) });
    assert.equal(restored.id, second.id);
    assert.deepEqual(restored.entities, second.entities);
    // keep-last 1 keeps the newest, and the verified one: nothing to delete yet.
    assert.deepEqual((await e.prune({ keepLast: 1 })).deleted, []);
    await e.verify(second.id);
    const pruned = await e.prune({ keepLast: 1 });
    assert.deepEqual(pruned.deleted, [first.id]);
    assert.ok(pruned.freedBytes > 0);
    const after = await s3.contents(prefix);
    assert.ok(!after.keys.some(k => k.startsWith(first.id)), after.keys.join());
    assert.ok(!after.keys.includes('backstage-backup.lock'), 'the prune lock is released');
    assert.equal((await e.health({ maxAge: '1h', drillMaxAge: '1d' })).lastBackup.id, second.id);
  });

  test(`${kind}: s3Credentials are used instead of the AWS chain, and never echoed`, async () => {
    const given = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
    const saved = { ...given };
    // The environment's chain now holds a wrong secret: only the given credentials work.
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret-from-the-environment';
    try {
      const prefix = `${kind}-given`;
      const e = engine(s3.url(prefix), { s3Credentials: given });
      const manifest = await e.backup({ databaseUrl: dbUrl(catalog) });
      assert.equal((await e.verify(manifest.id)).ok, true);
      const chunks = [];
      for await (const chunk of (await e.openRead(manifest.id)).chunks) chunks.push(chunk);
      assert.equal(Buffer.concat(chunks).length, manifest.compressed.bytes);
      await expectCode(engine(s3.url(prefix)).list(), 'E_STORE');
      // Wrong given credentials fail the same way, without the secret in the message.
      const wrong = { accessKeyId: given.accessKeyId, secretAccessKey: 'given-but-wrong-secret' };
      await assert.rejects(engine(s3.url(prefix), { s3Credentials: wrong }).list(), err => {
        assert.equal(err.code, 'E_STORE');
        assert.ok(!err.message.includes('given-but-wrong-secret'), err.message);
        return true;
      });
      for (const bad of [{}, { accessKeyId: 'a' }, { accessKeyId: 'a', secretAccessKey: 's3cr3t-value', extra: 1 }, 'text']) {
        assert.throws(() => engine(s3.url(prefix), { s3Credentials: bad }), err => {
          assert.equal(err.code, 'E_INVALID');
          assert.ok(!err.message.includes('s3cr3t-value'), err.message);
          return true;
        });
      }
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved.secretAccessKey;
    }
  });

  test(`${kind}: the store may be given as an object (the plugin's backup.store), read by core`, async () => {
    const { bucket, endpoint, region, accessKey, secretKey } = s3.info;
    const prefix = `${kind}-object`;
    const object = { url: `s3://${bucket}/${prefix}`, endpoint, region, forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } };
    const e = engine(object);
    assert.equal(e.describeStore(), `s3://${bucket}/${prefix} (endpoint ${endpoint})`);
    const manifest = await e.backup({ databaseUrl: dbUrl(catalog) });
    // The same store said as a URL sees the same backup.
    assert.deepEqual((await engine(s3.url(prefix)).list()).map(b => b.id), [manifest.id]);
    const wrong = [
      [{ url: `s3://${bucket}/${prefix}`, regoin: region }, /regoin/],
      [{ url: './backups', endpoint }, /go with an s3:\/\/bucket\/prefix URL/],
      [{ url: './backups', credentials: { accessKeyId: 'a', secretAccessKey: 's3cr3t-value' } }, /S3 credentials are for an s3:\/\/ store/],
      [42, /the store is a folder, an s3:\/\/bucket\/prefix URL, or/],
    ];
    for (const [store, words] of wrong) {
      const err = await expectCode(engine(store).list(), 'E_INVALID');
      assert.match(err.message, words);
      assert.doesNotMatch(err.message, /s3cr3t-value/);
      assert.throws(() => engine(store).describeStore(), { code: 'E_INVALID' });
    }
  });

  test(`${kind}: checkPrune and parseBackupId are core's rules, nothing touched`, () => {
    const e = engine(path.join(tmpdir('bbnode-pure-'), 'never-made'));
    e.checkPrune({ keepLast: 3, keepWithin: '30d', dryRun: true, grace: '2d' });
    for (const [options, words] of [
      [{ keepLast: 1.5 }, /prune options: keepLast: /],
      [{ keepDaily: 0 }, /keeps nothing/],
      [{ keep_last: 1 }, /keep_last/],
      [{}, /no retention rule given/],
      [{ keepWithin: 'soon' }, /keepWithin/],
      [{ keepLast: 1, grace: 'later' }, /grace/],
    ]) {
      assert.throws(() => e.checkPrune(options), err => err.code === 'E_INVALID' && words.test(err.message), JSON.stringify(options));
    }
    assert.deepEqual(e.parseBackupId('backstage-tech-insights-20261125_020000'), {
      id: 'backstage-tech-insights-20261125_020000',
      pluginId: 'tech-insights',
      takenAt: '2026-11-25T02:00:00Z',
    });
    for (const bad of ['backstage-catalog-20261125_020000.sql.gz', '../x', 'latest', 'backstage-catalog-20261125_020000\n']) {
      assert.throws(() => e.parseBackupId(bad), { code: 'E_INVALID' }, bad);
    }
  });

  test(`${kind}: a store folder others can write to is refused, unless BACKSTAGE_BACKUP_INSECURE_STORE=1`, async () => {
    const open = tmpdir(`bbnode-${kind}-open-`);
    fs.chmodSync(open, 0o777);
    const inside = path.join(open, 'backups');
    try {
      await assert.rejects(engine(inside).list(), err => /BACKSTAGE_BACKUP_INSECURE_STORE=1/.test(err.message));
      process.env.BACKSTAGE_BACKUP_INSECURE_STORE = '1';
      assert.deepEqual(await engine(inside).list(), []);
      process.env.BACKSTAGE_BACKUP_INSECURE_STORE = 'yes';
      await assert.rejects(engine(inside).list(), err => /BACKSTAGE_BACKUP_INSECURE_STORE=1/.test(err.message));
    } finally {
      delete process.env.BACKSTAGE_BACKUP_INSECURE_STORE;
      fs.rmSync(open, { recursive: true, force: true });
    }
  });

  test(`${kind}: an error carries core's cause as its reason`, async () => {
    const names = ['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSERVICE'];
    const saved = Object.fromEntries(names.map(n => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    try {
      const err = await expectCode(engine(store).backup({}), 'E_INVALID');
      assert.equal(err.reason, 'no-database-given', err.message);
    } finally {
      for (const [n, v] of Object.entries(saved)) if (v !== undefined) process.env[n] = v;
    }
    // Without a cause there is no reason at all.
    const plain = await expectCode(engine(store).verify('backstage-catalog-20000101_000000'), 'E_NOT_FOUND');
    assert.equal(plain.reason, undefined);
  });

  // core's S3 store and its failure words serve both engines: each engine's SDK only reports.
  test(`${kind}: S3 failures say what failed and what to do, in core's words`, async () => {
    const { endpoint, region } = s3.info;
    const missing = `no-such-bucket-${kind}`;
    const noBucket = await expectCode(engine(`s3://${missing}/p?endpoint=${endpoint}&region=${region}&path_style=true`).list(), 'E_STORE');
    assert.equal(noBucket.message, `listing s3://${missing}/p/: bucket '${missing}' does not exist; create it or fix the store URL`);
    const down = await expectCode(engine(`s3://some-bucket/p?endpoint=http://127.0.0.1:9&region=${region}&path_style=true`).list(), 'E_STORE');
    assert.match(down.message, /^listing s3:\/\/some-bucket\/p\/: cannot reach http:\/\/127\.0\.0\.1:9 \(.+\); check the endpoint, the network and that the server is up$/s);
    const wrong = { accessKeyId: s3.info.accessKey, secretAccessKey: 'not-the-secret' };
    const denied = await expectCode(engine(s3.url(`${kind}-words`), { s3Credentials: wrong }).list(), 'E_STORE');
    assert.match(denied.message, /: access denied \((AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch)\); check the AWS credentials and the bucket policy$/);
    const absent = await expectCode(engine(s3.url(`${kind}-words`)).openRead('backstage-catalog-20000101_000000'), 'E_NOT_FOUND');
    assert.doesNotMatch(absent.message, /not-the-secret/);
  });

  // Regression: a child's unread stdout is drained by Node when the child exits, so a dump that
  // ended before the upload was ready came out empty (wasm engine, second backup onwards).
  test(`${kind}: a tiny dump that ends before the store is ready is still read whole`, async () => {
    const tiny = dbs.name('tiny');
    psql(admin, `CREATE DATABASE ${tiny}`);
    psql(dbUrl(tiny), 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    const dir = tmpdir(`bbnode-${kind}-tiny-`);
    try {
      const e = engine(dir);
      for (let i = 0; i < 3; i++) {
        const manifest = await e.backup({ databaseUrl: dbUrl(tiny) });
        assert.ok(manifest.raw.bytes > 500, JSON.stringify(manifest.raw));
        await new Promise(r => setTimeout(r, 1000));
      }
      assert.deepEqual((await e.list()).map(x => x.status), ['complete', 'complete', 'complete']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: openRead streams the stored .sql.gz as it is`, async () => {
    const e = engine(store);
    const [latest] = (await e.list()).filter(x => x.status === 'complete');
    const opened = await e.openRead(latest.id);
    assert.equal(opened.id, latest.id);
    assert.equal(opened.fileName, latest.name);
    assert.equal(opened.summary.id, latest.id);
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    for await (const chunk of opened.chunks) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    assert.equal(bytes, opened.bytes);
    assert.equal(hash.digest('hex'), fs.readFileSync(path.join(store, `${latest.name}.sha256`), 'utf8').split(' ')[0]);
    await expectCode(e.openRead('backstage-catalog-20000101_000000'), 'E_NOT_FOUND');
  });

  test(`${kind}: a backup being read is spared by prune (of either engine) until the reader lets go`, async () => {
    const prefix = `${kind}-held`;
    const e = engine(s3.url(prefix));
    const other = engine(s3.url(prefix), { engine: kind === 'native' ? 'wasm' : 'native' });
    const first = await e.backup({ databaseUrl: dbUrl(catalog) });
    await new Promise(r => setTimeout(r, 1100));
    const second = await e.backup({ databaseUrl: dbUrl(catalog) });
    await e.verify(second.id);
    const holds = async () => (await s3.contents(prefix)).keys.filter(k => k.startsWith('backstage-backup.reading.'));
    assert.deepEqual(await holds(), [], 'verify let go of its backup');

    const opened = await e.openRead(first.id);
    const chunks = opened.chunks[Symbol.asyncIterator]();
    assert.equal((await chunks.next()).done, false);
    const [hold] = await holds();
    assert.match(hold, new RegExp(`^backstage-backup\\.reading\\.${first.id}\\.\\d+\\.download\\.`));
    for (const pruner of [other, e]) {
      const plan = await pruner.prune({ keepLast: 1 });
      assert.deepEqual(plan.deleted, [], JSON.stringify(plan));
      const decision = plan.decisions.find(d => d.id === first.id);
      assert.deepEqual([decision.keep, decision.reasons], [true, ['being read (download)']]);
    }
    // The client goes away after one chunk: the hold goes with it.
    await chunks.return();
    for (let i = 0; i < 50 && (await holds()).length > 0; i++) await new Promise(r => setTimeout(r, 100));
    assert.deepEqual(await holds(), []);
    assert.deepEqual((await other.prune({ keepLast: 1 })).deleted, [first.id]);
  });

  test(`${kind}: openRead of an object cut short while it is read fails with E_INTEGRITY`, async () => {
    const dir = tmpdir(`bbnode-${kind}-cut-`);
    try {
      const e = engine(dir);
      const manifest = await e.backup({ databaseUrl: dbUrl(bulky) });
      const opened = await e.openRead(manifest.id);
      // The store loses the object's tail after it was opened (a disk fault, a concurrent write).
      fs.truncateSync(path.join(dir, manifest.name), Math.floor(manifest.compressed.bytes / 3));
      let bytes = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of opened.chunks) bytes += chunk.length;
        })(),
        err => {
          assert.equal(err.code, 'E_INTEGRITY', err.message);
          assert.match(err.message, /bytes early/);
          return true;
        },
      );
      assert.ok(bytes < manifest.compressed.bytes);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: errors carry stable codes`, async () => {
    const e = engine(store);
    // Not found.
    await expectCode(e.verify('backstage-catalog-20000101_000000'), 'E_NOT_FOUND');
    await expectCode(engine(tmpdir('bbnode-empty-')).verify('latest'), 'E_NOT_FOUND');
    await expectCode(e.backup({ databaseUrl: dbUrl(`${catalog}_missing`) }), 'E_NOT_FOUND');
    // Invalid input.
    await expectCode(e.backup({ databaseUrl: dbUrl(catalog), threads: 1.5 }), 'E_INVALID');
    await expectCode(e.verify('../etc/passwd'), 'E_INVALID');
    await expectCode(engine('gs://bucket/x').list(), 'E_INVALID');
    await expectCode(engine('s3://user:secret@bucket/x').list(), 'E_INVALID');
    await expectCode(e.prune({}), 'E_INVALID');
    await expectCode(e.health({ maxAge: 'soon' }), 'E_INVALID');
    await expectCode(e.backup({ databaseUrl: dbUrl(catalog), labels: { 'bad key': 'x' } }), 'E_INVALID');
    await expectCode(e.backup({ databaseUrl: dbUrl(catalog), trigger: 'whenever' }), 'E_INVALID');
    await expectCode(e.backup({ databaseUrl: 'mysql://u:hunter2@h/db' }), 'E_INVALID');
    assert.throws(() => engine(store, { compressionLevel: 12 }), err => err.code === 'E_INVALID');
    // A misspelt or snake_case option is refused by name, never ignored for its default.
    const unknown = [
      ['databseUrl', () => e.backup({ databseUrl: dbUrl(catalog) })],
      ['safety_backup', () => e.restore('latest', { databaseUrl: dbUrl(catalog), safety_backup: false })],
      ['clean', () => e.drill('latest', { databaseUrl: dbUrl(catalog), clean: true })],
      ['keep_last', () => e.prune({ keep_last: 1 })],
    ];
    for (const [key, start] of unknown) {
      const err = await expectCode(start(), 'E_INVALID');
      assert.ok(err.message.includes(key), `${key}: ${err.message}`);
    }
    // The database cannot be reached: pg_dump/psql/database class. The password stays out.
    await assert.rejects(e.backup({ databaseUrl: 'postgresql://postgres:hunter2@127.0.0.1:1/x' }), err => {
      assert.equal(err.code, 'E_PG_DUMP', err.message);
      assert.ok(!err.message.includes('hunter2'), err.message);
      return true;
    });
    // The store fails: a folder that is a file; S3 with a wrong secret.
    const notDir = path.join(tmpdir('bbnode-file-'), 'file');
    fs.writeFileSync(notDir, 'x');
    await expectCode(engine(notDir).list(), 'E_STORE');
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret';
    try {
      await expectCode(engine(s3.url(`${kind}-denied`)).list(), 'E_STORE');
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = secret;
    }
    // Exists: a non-empty target without clean.
    const occupied = dbs.name('occupied');
    psql(admin, `CREATE DATABASE ${occupied}`);
    psql(dbUrl(occupied), 'CREATE TABLE keep_me (x int)');
    const manifest = await e.backup({ databaseUrl: dbUrl(catalog) });
    await expectCode(e.restore(manifest.id, { databaseUrl: dbUrl(occupied) }), 'E_EXISTS');
    // Locked: the database's backup lock, and the store's prune lock.
    const release = await holdBackupLock(catalog);
    try {
      await expectCode(e.backup({ databaseUrl: dbUrl(catalog) }), 'E_LOCKED');
    } finally {
      release();
    }
    const locked = tmpdir('bbnode-locked-');
    const hour = 3600e3;
    fs.writeFileSync(
      path.join(locked, 'backstage-backup.lock'),
      JSON.stringify({ token: 't', purpose: 'prune', pid: 1, acquired_at: new Date().toISOString(), expires_at: new Date(Date.now() + hour).toISOString() }),
    );
    await expectCode(engine(locked).prune({ keepLast: 1 }), 'E_LOCKED');
    // Integrity: an unfinished backup cannot be verified.
    const unfinished = tmpdir('bbnode-unfinished-');
    fs.writeFileSync(path.join(unfinished, 'backstage-catalog-20200101_000000.sql.gz'), 'x');
    fs.writeFileSync(path.join(unfinished, 'backstage-catalog-20200101_000000.sql.gz.incomplete'), '{}');
    assert.equal((await engine(unfinished).list())[0].status, 'incomplete');
    await expectCode(engine(unfinished).verify('backstage-catalog-20200101_000000'), 'E_INTEGRITY');
    // Aborted before it started.
    await expectCode(e.backup({ databaseUrl: dbUrl(catalog), signal: AbortSignal.abort() }), 'E_ABORTED');
    // A missing app-config file is named, on both engines (one resolver, in core).
    const withConfig = e.backup({ appConfig: [path.join(tmpdir('bbnode-cfg-'), 'app-config.yaml')] });
    assert.match((await expectCode(withConfig, 'E_INVALID')).message, /app-config\.yaml/);
  });

  test(`${kind}: a damaged backup fails verify, and restore leaves the target unchanged`, async () => {
    const dir = tmpdir(`bbnode-${kind}-damaged-`);
    try {
      const e = engine(dir);
      const manifest = await e.backup({ databaseUrl: dbUrl(catalog) });
      const file = path.join(dir, manifest.name);
      const bytes = fs.readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      fs.writeFileSync(file, bytes);
      const report = await e.verify(manifest.id);
      assert.equal(report.ok, false);
      assert.ok(report.problems.length > 0);
      assert.equal((await e.list())[0].verifiedOk, false);
      const target = dbs.name('damaged');
      psql(admin, `CREATE DATABASE ${target}`);
      psql(dbUrl(target), 'CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (7)');
      await expectCode(e.restore(manifest.id, { databaseUrl: dbUrl(target), clean: true, safetyBackup: false }), 'E_INTEGRITY');
      assert.equal(psql(dbUrl(target), 'SELECT x FROM keep_me'), '7');
      assert.equal(psql(dbUrl(target), "SELECT to_regclass('final_entities') IS NULL"), 't');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: a catalog broken by a bad migration is backed up and rolled back`, async () => {
    const dir = tmpdir(`bbnode-${kind}-upgrade-`);
    try {
      const e = engine(dir);
      const broken = dbs.catalog('upgrade', 40);
      const good = await e.backup({ databaseUrl: dbUrl(broken), trigger: 'pre-upgrade' });
      psql(
        dbUrl(broken),
        "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20991231000000_bad.js', 99, now()); " +
          'ALTER TABLE final_entities RENAME COLUMN final_entity TO final_entity_v2',
      );
      // The broken state is still backed up, without the counts it cannot read.
      const after = await e.backup({ databaseUrl: dbUrl(broken) });
      assert.equal(after.entities ?? null, null);
      assert.equal(after.database.latestMigration, '20991231000000_bad.js');
      // The rollback takes its safety backup of the broken state and restores the good one.
      const report = await e.restore(good.id, { databaseUrl: dbUrl(broken), clean: true });
      assert.ok(report.safetyBackup);
      assert.equal(total(report.entities), total(good.entities));
      assert.equal(psql(dbUrl(broken), "SELECT count(*) FROM knex_migrations WHERE name LIKE '2099%'"), '0');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: an aborted backup stops promptly and leaves nothing`, async () => {
    const dir = tmpdir(`bbnode-${kind}-abort-`);
    try {
      const e = engine(dir);
      const controller = new AbortController();
      const started = Date.now();
      const running = e.backup({
        databaseUrl: dbUrl(bulky),
        signal: controller.signal,
        onProgress: event => {
          if (event.stored > 0) controller.abort();
        },
      });
      await expectCode(running, 'E_ABORTED');
      assert.ok(Date.now() - started < 30000);
      assert.deepEqual(await e.list(), []);
      assert.deepEqual(fs.readdirSync(dir), []);
      // The lock went with it: the next backup of that database is not refused.
      await expectCode(e.backup({ databaseUrl: dbUrl(bulky), signal: AbortSignal.abort() }), 'E_ABORTED');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${kind}: an aborted backup to S3 leaves no object and no open multipart upload`, async () => {
    const prefix = `${kind}-abort`;
    const e = engine(s3.url(prefix));
    const controller = new AbortController();
    const aborted = e.backup({
      databaseUrl: dbUrl(bulky),
      signal: controller.signal,
      onProgress: event => {
        // Past the first 6 MiB part: the multipart upload is open with parts in it.
        if (event.stored > 9 * 1024 * 1024) controller.abort();
      },
    });
    await expectCode(aborted, 'E_ABORTED');
    assert.deepEqual(await s3.contents(prefix), { keys: [], uploads: [] });
    assert.deepEqual(await e.list(), []);
  });
};
