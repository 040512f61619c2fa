'use strict';
// The Engine against real PostgreSQL (the real catalog schema, generated entities) and a local
// store: every method, progress, abort, error codes, and interop with the CLI.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Engine, BackupError } = require('..');

const root = path.join(__dirname, '..', '..');
const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const bin = name => path.join(target, 'debug', name);
const admin = process.env.BACKSTAGE_BACKUP_TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbUrl = name => {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
};
const psql = (url, sql) => execFileSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' }).trim();

const suffix = `${process.pid}_${Date.now() % 100000}`;
const catalog = `bbnode_cat_${suffix}`;
const bulky = `bbnode_bulk_${suffix}`;
const created = [];
let store;

before(() => {
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'bbnode-'));
  execFileSync(bin('catalog-fixture'), ['--admin-url', admin, '--database', catalog, '--entities', '200'], { stdio: 'ignore' });
  created.push(catalog);
  psql(admin, `CREATE DATABASE ${bulky}`);
  created.push(bulky);
  psql(
    dbUrl(bulky),
    'CREATE TABLE bulk (id bigint PRIMARY KEY, a text, b text); ' +
      'INSERT INTO bulk SELECT i, md5(i::text), md5((i::bigint * 7919)::text) FROM generate_series(1, 1500000) i',
  );
});

after(() => {
  for (const name of created) psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  fs.rmSync(store, { recursive: true, force: true });
});

const expectCode = async (promise, code) => {
  await assert.rejects(promise, err => {
    assert.ok(err instanceof BackupError, `${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
};

test('the native engine loads', () => {
  const engine = new Engine({ store });
  assert.equal(engine.kind, 'native');
});

test('backup, list, verify, drill, restore, prune and health', async () => {
  const engine = new Engine({ store });
  const events = [];
  const manifest = await engine.backup({
    databaseUrl: dbUrl(catalog),
    trigger: 'pre-upgrade',
    labels: { backstage_version: '1.45.0' },
    onProgress: event => events.push(event),
  });
  assert.equal(manifest.format, 'backstage-backup/v1');
  assert.equal(manifest.trigger.kind, 'pre-upgrade');
  // Label names are data: not camel-cased.
  assert.deepEqual(manifest.labels, { backstage_version: '1.45.0' });
  const total = Object.values(manifest.entities).reduce((a, b) => a + b, 0);
  assert.equal(total, 200);
  assert.equal(manifest.raw.bytes > 0 && manifest.compressed.sha256.length, 64);
  assert.ok(events.some(e => e.phase === 'dumping'), JSON.stringify(events));
  assert.ok(events.some(e => e.stored > 0), JSON.stringify(events));

  const list = await engine.list();
  assert.equal(list[0].id, manifest.id);
  assert.equal(list[0].status, 'complete');
  assert.deepEqual(list[0].entities, manifest.entities);

  const verified = await engine.verify('latest');
  assert.equal(verified.ok, true);
  // The CLI reads what the engine wrote.
  execFileSync(bin('backstage-backup'), ['verify', manifest.id, '--store', store], { stdio: 'ignore' });

  const drilled = await engine.drill('latest', { databaseUrl: admin });
  assert.equal(drilled.ok, true, JSON.stringify(drilled.problems));
  assert.deepEqual(drilled.entities, manifest.entities);

  const fresh = `bbnode_restore_${suffix}`;
  created.push(fresh);
  const restored = await engine.restore(manifest.id, { databaseUrl: dbUrl(fresh) });
  assert.equal(restored.createdDatabase, true);
  assert.deepEqual(restored.entities, manifest.entities);
  assert.equal(psql(dbUrl(fresh), 'SELECT count(*) FROM final_entities'), '200');

  const plan = await engine.prune({ keepLast: 1, dryRun: true });
  assert.equal(plan.dryRun, true);
  assert.ok(plan.decisions.every(d => d.keep));

  const report = await engine.health({ maxAge: '1h' });
  assert.equal(report.status, 'OK', JSON.stringify(report.checks));
});

test('errors carry stable codes', async () => {
  const engine = new Engine({ store });
  await expectCode(engine.verify('backstage-catalog-20000101_000000'), 'E_NOT_FOUND');
  await expectCode(engine.verify('../etc/passwd'), 'E_INVALID');
  await expectCode(new Engine({ store: 'gs://bucket/x' }).list(), 'E_INVALID');
  await expectCode(engine.prune({}), 'E_INVALID');
  await expectCode(engine.backup({ databaseUrl: dbUrl(`${catalog}_missing`) }), 'E_NOT_FOUND');
  assert.throws(() => new Engine({ store, compressionLevel: 12 }), err => err.code === 'E_INVALID');
  // A backup of a database another backup holds gets E_LOCKED.
  const holder = spawn('psql', ['-qAt', dbUrl(catalog), '-c', 'SELECT pg_advisory_lock(4342347, hashtext(current_database())), pg_sleep(20)']);
  try {
    let locked = false;
    for (let i = 0; i < 100 && !locked; i++) {
      await new Promise(r => setTimeout(r, 50));
      locked = psql(admin, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4342347`) !== '0';
    }
    assert.ok(locked, 'the lock holder never took the lock');
    await expectCode(engine.backup({ databaseUrl: dbUrl(catalog) }), 'E_LOCKED');
  } finally {
    holder.kill('SIGKILL');
    // The server-side session outlives its client while pg_sleep runs: end it, freeing the lock.
    psql(
      admin,
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4342347 ` +
        `AND database = (SELECT oid FROM pg_database WHERE datname = '${catalog}')`,
    );
  }
});

test('an aborted backup stops promptly and leaves nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbnode-abort-'));
  try {
    const engine = new Engine({ store: dir });
    const controller = new AbortController();
    const started = Date.now();
    const running = engine.backup({
      databaseUrl: dbUrl(bulky),
      signal: controller.signal,
      onProgress: event => {
        if (event.stored > 0) controller.abort();
      },
    });
    await expectCode(running, 'E_ABORTED');
    assert.ok(Date.now() - started < 30000);
    assert.deepEqual(await engine.list(), []);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('backups to S3 verify, list and restore, and abort leaves no multipart upload', async () => {
  const server = spawn(bin('s3-test-server'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const info = await new Promise((resolve, reject) => {
      let text = '';
      server.stdout.on('data', chunk => {
        text += chunk;
        if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]));
      });
      server.on('exit', code => reject(new Error(`s3-test-server exited with ${code}`)));
    });
    process.env.AWS_ACCESS_KEY_ID = info.accessKey;
    process.env.AWS_SECRET_ACCESS_KEY = info.secretKey;
    const url = `s3://${info.bucket}/node?endpoint=${info.endpoint}&region=${info.region}&path_style=true`;
    const engine = new Engine({ store: url });

    const controller = new AbortController();
    const aborted = engine.backup({
      databaseUrl: dbUrl(bulky),
      signal: controller.signal,
      onProgress: event => {
        if (event.stored > 9 * 1024 * 1024) controller.abort();
      },
    });
    await expectCode(aborted, 'E_ABORTED');
    assert.deepEqual(await engine.list(), []);

    const manifest = await engine.backup({ databaseUrl: dbUrl(catalog) });
    assert.equal((await engine.verify(manifest.id)).ok, true);
    const [entry] = await engine.list();
    assert.equal(entry.status, 'complete');
    const fresh = `bbnode_s3restore_${suffix}`;
    created.push(fresh);
    const restored = await engine.restore('latest', { databaseUrl: dbUrl(fresh) });
    assert.deepEqual(restored.entities, manifest.entities);
    // No upload left open by the aborted backup: the store's own listing of pending uploads
    // would show it as an incomplete backup.
    assert.ok((await engine.list()).every(e => e.status === 'complete'));
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    server.stdin.end();
    server.kill('SIGTERM');
  }
});
