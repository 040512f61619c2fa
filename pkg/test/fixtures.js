'use strict';
// What the Node engine's tests share: the built binaries, throwaway databases on the real
// PostgreSQL server, a real S3 server on loopback, and error assertions.
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BackupError } = require('..');

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
const tmpdir = prefix => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** Databases made for one test file, dropped by `dropAll`. */
class Databases {
  constructor(tag) {
    this.suffix = `${tag}_${process.pid}_${Date.now() % 100000}`;
    this.created = [];
  }

  name(base) {
    const name = `bbnode_${base}_${this.suffix}`;
    this.created.push(name);
    return name;
  }

  /** The real catalog schema with `entities` generated entities. */
  catalog(base, entities = 200) {
    const name = this.name(base);
    execFileSync(bin('catalog-fixture'), ['--admin-url', admin, '--database', name, '--entities', String(entities)], { stdio: 'ignore' });
    return name;
  }

  /** A database whose dump takes long enough (~150 MB) to abort mid-way. */
  bulky(base, rows = 1500000) {
    const name = this.name(base);
    psql(admin, `CREATE DATABASE ${name}`);
    psql(
      dbUrl(name),
      'CREATE TABLE bulk (id bigint PRIMARY KEY, a text, b text); ' +
        `INSERT INTO bulk SELECT i, md5(i::text), md5((i::bigint * 7919)::text) FROM generate_series(1, ${rows}) i`,
    );
    return name;
  }

  dropAll() {
    for (const name of this.created) psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Starts crates/testkit's SeaweedFS S3 server: `{info, url(prefix), client, stop}`. */
async function startS3() {
  const server = spawn(bin('s3-test-server'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
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
  const sdk = require('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: info.region,
    endpoint: info.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKey, secretAccessKey: info.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    info,
    url: prefix => `s3://${info.bucket}/${prefix}?endpoint=${info.endpoint}&region=${info.region}&path_style=true`,
    /** Object keys and open multipart uploads under `prefix/`, straight from the server. */
    async contents(prefix) {
      const objects = await client.send(new sdk.ListObjectsV2Command({ Bucket: info.bucket, Prefix: `${prefix}/` }));
      const uploads = await client.send(new sdk.ListMultipartUploadsCommand({ Bucket: info.bucket, Prefix: `${prefix}/` }));
      return {
        keys: (objects.Contents ?? []).map(o => o.Key.slice(prefix.length + 1)).sort(),
        uploads: (uploads.Uploads ?? []).map(u => u.Key),
      };
    },
    async putObject(key, body) {
      await client.send(new sdk.PutObjectCommand({ Bucket: info.bucket, Key: key, Body: body }));
    },
    async getObject(key) {
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: info.bucket, Key: key }));
      return Buffer.from(await out.Body.transformToByteArray());
    },
    stop() {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      client.destroy();
      server.stdin.end();
      server.kill('SIGTERM');
    },
  };
}

/** Asserts `promise` rejects with a BackupError of `code`; returns that error. */
async function expectCode(promise, code) {
  let caught;
  await assert.rejects(promise, err => {
    assert.ok(err instanceof BackupError, `${err}`);
    assert.equal(err.code, code, err.message);
    caught = err;
    return true;
  });
  return caught;
}

/** Holds `name`'s backup advisory lock (as a running backup would) until `release()`. */
async function holdBackupLock(name) {
  const holder = spawn('psql', ['-qAt', dbUrl(name), '-c', 'SELECT pg_advisory_lock(4342347, hashtext(current_database())), pg_sleep(60)']);
  const held = () =>
    psql(
      admin,
      `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4342347 ` +
        `AND database = (SELECT oid FROM pg_database WHERE datname = '${name}')`,
    ) !== '0';
  for (let i = 0; i < 100 && !held(); i++) await new Promise(r => setTimeout(r, 50));
  assert.ok(held(), 'the lock holder never took the lock');
  return () => {
    holder.kill('SIGKILL');
    // The server-side session outlives its client while pg_sleep runs: end it, freeing the lock.
    psql(
      admin,
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4342347 ` +
        `AND database = (SELECT oid FROM pg_database WHERE datname = '${name}')`,
    );
  };
}

module.exports = { root, bin, admin, dbUrl, psql, tmpdir, Databases, startS3, expectCode, holdBackupLock };
