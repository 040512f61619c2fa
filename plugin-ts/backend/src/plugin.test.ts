// The plugin in a real Backstage backend: the real catalog backend ingesting a fixture into real
// PostgreSQL, backups to the loopback S3 server, a permission policy by user, real job history.
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import {
  AuditRecord,
  backendConfig,
  createBulkyDatabase,
  DATABASE_PASSWORD,
  policyPermissions,
  recordingAuditor,
  startBackend,
  waitForCatalog,
} from './testing/backend';
import { dbUrl, dropDatabases, psql, S3, testS3 } from './testing/servers';

jest.setTimeout(180_000);

const prefix = `bbplug${process.pid}_`;
const user = (name: string) => mockCredentials.user.header(`user:default/${name}`);
const ADMIN = user('admin');
// The manifest counts kinds as the catalog's search table keys them: lower case.
const EXPECTED_KINDS = { api: 1, component: 2, group: 1, location: 1, system: 1, user: 2 };

let s3: S3;
let server: any;
let backend: Awaited<ReturnType<typeof startBackend>>;
const audit: AuditRecord[] = [];

async function waitForJob(jobId: string, auth = ADMIN) {
  for (;;) {
    const res = await request(server).get(`/api/backup/jobs/${jobId}`).set('Authorization', auth);
    expect(res.status).toBe(200);
    if (res.body.status !== 'running') {
      if (res.body.status === 'failed') console.warn(`job ${jobId} failed: ${JSON.stringify(res.body.error)}`);
      return res.body;
    }
    await new Promise(r => setTimeout(r, 200));
  }
}

/** Audit outcomes are recorded just after the response (or the job) ends: wait for them. */
async function expectAudited(match: Partial<AuditRecord>) {
  const until = Date.now() + 10_000;
  while (!audit.some(r => Object.entries(match).every(([k, v]) => (r as any)[k] === v)) && Date.now() < until) {
    await new Promise(r => setTimeout(r, 50));
  }
  expect(audit).toContainEqual(expect.objectContaining(match));
}

// Every backup through the API is signed; what is read is checked against the key.
const signingKeyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bbplug-key-')), 'signing.pem');

beforeAll(async () => {
  s3 = testS3();
  createBulkyDatabase(prefix);
  const { privateKey } = generateKeyPairSync('ed25519');
  fs.writeFileSync(signingKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const config = backendConfig(prefix, s3);
  backend = await startBackend({ ...config, backup: { ...config.backup, signing: { keyFile: signingKeyFile } } }, [
    policyPermissions,
    recordingAuditor(audit),
    mockServices.httpAuth.factory({ defaultCredentials: mockCredentials.none() }),
    mockServices.scheduler.factory({ skipTaskRunOnStartup: true }),
  ]);
  server = backend.server;
  await waitForCatalog(prefix, 8);
});

afterAll(async () => {
  await backend?.stop();
  dropDatabases(prefix);
});

describe('backups through the API', () => {
  let backupId: string;
  let manifest: any;

  it('backs up the catalog: the job succeeds and the backup is listed with the catalog\'s entity counts', async () => {
    const start = await request(server).post('/api/backup/backups').set('Authorization', ADMIN).send({});
    expect(start.status).toBe(202);
    const job = await waitForJob(start.body.jobId);
    expect(job).toMatchObject({ kind: 'backup', status: 'succeeded', trigger: 'manual', actor: 'user:default/admin' });
    expect(job.progress.rawBytes).toBeGreaterThan(0);
    backupId = job.backupId;
    manifest = job.result;
    expect(backupId).toMatch(/^backstage-catalog-\d{8}_\d{6}$/);
    expect(job.bytes).toBe(manifest.compressed.bytes);

    const list = await request(server).get('/api/backup/backups').set('Authorization', ADMIN);
    expect(list.status).toBe(200);
    const listed = list.body.items.find((b: any) => b.id === backupId);
    expect(listed).toMatchObject({ status: 'complete', entities: EXPECTED_KINDS, trigger: 'manual', signature: 'valid' });
    expect(manifest.signature).toMatchObject({ algorithm: 'ed25519' });
    const one = await request(server).get(`/api/backup/backups/${backupId}`).set('Authorization', ADMIN);
    expect(one.body.id).toBe(backupId);
    await expectAudited({ eventId: 'backup-create', actor: 'user:default/admin', outcome: 'success' });
  });

  it('verifies and drills the backup; the list then shows both marks', async () => {
    const verify = await request(server).post(`/api/backup/backups/${backupId}/verify`).set('Authorization', ADMIN);
    expect(verify.status).toBe(202);
    expect(await waitForJob(verify.body.jobId)).toMatchObject({ kind: 'verify', status: 'succeeded', backupId });
    const drill = await request(server).post(`/api/backup/backups/${backupId}/drill`).set('Authorization', ADMIN);
    expect(drill.status).toBe(202);
    const drilled = await waitForJob(drill.body.jobId);
    expect(drilled).toMatchObject({ kind: 'drill', status: 'succeeded' });
    expect(drilled.result.entities).toEqual(EXPECTED_KINDS);
    const one = await request(server).get(`/api/backup/backups/${backupId}`).set('Authorization', ADMIN);
    expect(one.body).toMatchObject({ verifiedOk: true, drilledOk: true });
    for (const eventId of ['backup-verify', 'backup-drill']) {
      await expectAudited({ eventId, outcome: 'success' });
    }
  });

  it('downloads exactly the stored object', async () => {
    const res = await request(server)
      .get(`/api/backup/backups/${backupId}/download`)
      .set('Authorization', user('viewer'))
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toContain(`${backupId}.sql.gz`);
    expect(res.body.length).toBe(manifest.compressed.bytes);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(manifest.compressed.sha256);
    // And it is a dump the runbook's tools read.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bbdl-')), `${backupId}.sql.gz`);
    fs.writeFileSync(file, res.body);
    expect(execFileSync('sh', ['-c', `gunzip -c '${file}' | tail -c 200`], { encoding: 'utf8' })).toContain(
      'PostgreSQL database dump complete',
    );
    await expectAudited({ eventId: 'backup-download', actor: 'user:default/viewer', outcome: 'success' });
  });

  it('restores a backup for a user with backup.restore, after the id is repeated', async () => {
    const wrong = await request(server)
      .post(`/api/backup/backups/${backupId}/restore`)
      .set('Authorization', ADMIN)
      .send({ confirm: 'backstage-catalog-20000101_000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toContain('repeat the backup id');
    // Damage the live catalog, then restore: the rows come back.
    psql("DELETE FROM final_entities WHERE entity_ref LIKE 'component:%'", dbUrl(`${prefix}catalog`));
    const res = await request(server)
      .post(`/api/backup/backups/${backupId}/restore`)
      .set('Authorization', ADMIN)
      .send({ confirm: backupId });
    expect(res.status).toBe(202);
    const job = await waitForJob(res.body.jobId);
    expect(job).toMatchObject({ kind: 'restore', status: 'succeeded', actor: 'user:default/admin' });
    expect(job.result.safetyBackup).toMatch(/^backstage-catalog-/);
    expect(
      psql("SELECT count(*) FROM final_entities WHERE entity_ref LIKE 'component:%'", dbUrl(`${prefix}catalog`)),
    ).toBe('2');
    await expectAudited({ eventId: 'backup-restore', outcome: 'success' });
  });

  it('gives 409 to a second backup of a database while one runs', async () => {
    const first = await request(server)
      .post('/api/backup/backups')
      .set('Authorization', ADMIN)
      .send({ pluginId: 'bulky', trigger: 'pre-upgrade', labels: { chart: '1.2.3' } });
    expect(first.status).toBe(202);
    const second = await request(server).post('/api/backup/backups').set('Authorization', ADMIN).send({ pluginId: 'bulky' });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain('running');
    const done = await waitForJob(first.body.jobId);
    expect(done).toMatchObject({ status: 'succeeded', result: { trigger: { kind: 'pre-upgrade' }, labels: { chart: '1.2.3' } } });
  });

  it('refuses bad ids and bodies with 400, unknown ones with 404', async () => {
    const bad = [
      '..%2F..%2Fetc%2Fpasswd',
      'backstage-catalog-20261125_020000%00',
      'backstage-catalog-20261125_020000.sql.gz',
      'backstage-..-20261125_020000',
      '%0Abackstage-catalog-20261125_020000',
    ];
    for (const id of bad) {
      const res = await request(server).get(`/api/backup/backups/${id}`).set('Authorization', ADMIN);
      expect([id, res.status]).toEqual([id, 400]);
      const dl = await request(server).get(`/api/backup/backups/${id}/download`).set('Authorization', ADMIN);
      expect([id, dl.status]).toEqual([id, 400]);
    }
    const unknown = await request(server).get('/api/backup/backups/backstage-catalog-20000101_000000').set('Authorization', ADMIN);
    expect(unknown.status).toBe(404);
    const verifyUnknown = await request(server)
      .post('/api/backup/backups/backstage-catalog-20000101_000000/verify')
      .set('Authorization', ADMIN);
    expect(verifyUnknown.status).toBe(404);
    const badJob = await request(server).get('/api/backup/jobs/..%2Fetc').set('Authorization', ADMIN);
    expect(badJob.status).toBe(400);
    const missingJob = await request(server)
      .get('/api/backup/jobs/00000000-0000-4000-8000-000000000000')
      .set('Authorization', ADMIN);
    expect(missingJob.status).toBe(404);
    const cases: Array<[string, unknown]> = [
      ['/api/backup/backups', { pluginId: '../etc' }],
      ['/api/backup/backups', { pluginId: 'nosuchplugin' }],
      ['/api/backup/backups', { labels: { 'bad key': 'x' } }],
      ['/api/backup/backups', { unexpected: true }],
      ['/api/backup/backups', [1, 2]],
      ['/api/backup/backups', { trigger: 'safety' }],
    ];
    for (const [url, body] of cases) {
      const res = await request(server).post(url).set('Authorization', ADMIN).send(body as object);
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expect(res.body.error.message).toBeTruthy();
    }
    const malformed = await request(server)
      .post('/api/backup/backups')
      .set('Authorization', ADMIN)
      .set('Content-Type', 'application/json')
      .send('{"pluginId": ');
    expect(malformed.status).toBe(400);
  });

  it('fails a backup of a database that does not exist with the cause, and no secret anywhere', async () => {
    const start = await request(server).post('/api/backup/backups').set('Authorization', ADMIN).send({ pluginId: 'missing' });
    expect(start.status).toBe(202);
    const job = await waitForJob(start.body.jobId);
    expect(job.status).toBe('failed');
    expect(job.error.message).toContain(`${prefix}missing`);
    const everything = await Promise.all(
      ['/api/backup/jobs', '/api/backup/backups', '/api/backup/health'].map(url =>
        request(server).get(url).set('Authorization', ADMIN),
      ),
    );
    for (const res of everything) expect(JSON.stringify(res.body)).not.toContain(DATABASE_PASSWORD);
    expect(psql(`SELECT count(*) FROM backup_jobs WHERE row_to_json(backup_jobs)::text LIKE '%${DATABASE_PASSWORD}%'`, dbUrl(`${prefix}backup`))).toBe('0');
  });

  it('reports health with the schedules', async () => {
    const res = await request(server).get('/api/backup/health').set('Authorization', user('viewer'));
    expect(res.status).toBe(200);
    expect(res.body.report.status).toBe('WARNING');
    expect(res.body.report.lastBackup.id).toMatch(/^backstage-/);
    expect(res.body.schedules.map((s: any) => s.taskId)).toEqual([
      'backup-scheduled-backup',
      'backup-scheduled-verify',
      'backup-scheduled-drill',
    ]);
  });
});

describe('authorization', () => {
  const ID = 'backstage-catalog-20000101_000000';
  // Each route with a request that passes authorization but stops right after (bad body or
  // unknown id), so the matrix starts no jobs.
  const routes: Array<{ name: string; permission: string; send: (auth?: string) => request.Test }> = [
    { name: 'GET /health', permission: 'backup.read', send: a => withAuth(request(server).get('/api/backup/health'), a) },
    { name: 'GET /backups', permission: 'backup.read', send: a => withAuth(request(server).get('/api/backup/backups'), a) },
    { name: 'GET /backups/:id', permission: 'backup.read', send: a => withAuth(request(server).get(`/api/backup/backups/${ID}`), a) },
    { name: 'GET /backups/:id/download', permission: 'backup.read', send: a => withAuth(request(server).get(`/api/backup/backups/${ID}/download`), a) },
    { name: 'GET /jobs', permission: 'backup.read', send: a => withAuth(request(server).get('/api/backup/jobs'), a) },
    { name: 'GET /jobs/:id', permission: 'backup.read', send: a => withAuth(request(server).get('/api/backup/jobs/00000000-0000-4000-8000-000000000000'), a) },
    { name: 'POST /backups', permission: 'backup.create', send: a => withAuth(request(server).post('/api/backup/backups'), a).send({ unexpected: 1 }) },
    { name: 'POST /backups/:id/verify', permission: 'backup.create', send: a => withAuth(request(server).post(`/api/backup/backups/${ID}/verify`), a).send({ unexpected: 1 }) },
    { name: 'POST /backups/:id/drill', permission: 'backup.create', send: a => withAuth(request(server).post(`/api/backup/backups/${ID}/drill`), a).send({ unexpected: 1 }) },
    { name: 'POST /backups/:id/restore', permission: 'backup.restore', send: a => withAuth(request(server).post(`/api/backup/backups/${ID}/restore`), a).send({ confirm: 'no' }) },
  ];
  const withAuth = (test: request.Test, auth?: string) => (auth ? test.set('Authorization', auth) : test);
  const users = { admin: ['backup.read', 'backup.create', 'backup.restore'], operator: ['backup.read', 'backup.create'], viewer: ['backup.read'], nobody: [] as string[] };

  it('answers 401 to every route without credentials', async () => {
    for (const route of routes) {
      const res = await route.send();
      expect([route.name, res.status]).toEqual([route.name, 401]);
    }
  });

  it('answers 403 exactly where the user lacks the permission', async () => {
    for (const [name, granted] of Object.entries(users)) {
      for (const route of routes) {
        const res = await route.send(user(name));
        const allowed = granted.includes(route.permission);
        expect([name, route.name, res.status === 403]).toEqual([name, route.name, !allowed]);
        if (allowed) expect([name, route.name, [200, 400, 404]]).toEqual([name, route.name, expect.arrayContaining([res.status])]);
      }
    }
  });

  it('lets service credentials read and create but not restore', async () => {
    const service = mockCredentials.service.header();
    for (const route of routes) {
      const res = await route.send(service);
      expect([route.name, res.status === 403]).toEqual([route.name, route.permission === 'backup.restore']);
    }
  });
});
