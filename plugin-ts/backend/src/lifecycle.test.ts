// The plugin across restarts, on a schedule, without the permission framework, and through the
// actions registry: each with its own real backend, databases and store prefix.
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { actionsRegistryServiceMock } from '@backstage/backend-test-utils/alpha';
import request from 'supertest';
import { backendConfig, createBulkyDatabase, policyPermissions, startBackend, waitForCatalog } from './testing/backend';
import { dbUrl, dropDatabases, psql, testS3 } from './testing/servers';

jest.setTimeout(240_000);

const ADMIN = mockCredentials.user.header('user:default/admin');
const prefixes: string[] = [];
function newPrefix(name: string) {
  const prefix = `bblife${process.pid}${name}_`;
  prefixes.push(prefix);
  return prefix;
}

afterAll(() => {
  for (const prefix of prefixes) dropDatabases(prefix);
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

describe('restarts', () => {
  it('a backend stopped mid-backup marks the job failed and lists nothing as complete', async () => {
    const prefix = newPrefix('stop');
    createBulkyDatabase(prefix, 2_500_000);
    const config = backendConfig(prefix, testS3());
    const first = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    const start = await request(first.server).post('/api/backup/backups').set('Authorization', ADMIN).send({ pluginId: 'bulky' });
    expect(start.status).toBe(202);
    const jobId = start.body.jobId;
    // Stop once the dump is flowing: the shutdown hook aborts the job.
    await waitFor('the backup to be under way', async () => {
      const job = await request(first.server).get(`/api/backup/jobs/${jobId}`).set('Authorization', ADMIN);
      return job.body.progress.rawBytes > 0 ? true : undefined;
    });
    await first.stop();

    const second = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    try {
      const job = await request(second.server).get(`/api/backup/jobs/${jobId}`).set('Authorization', ADMIN);
      expect(job.body).toMatchObject({ status: 'failed', error: { code: 'E_ABORTED' } });
      const list = await request(second.server).get('/api/backup/backups').set('Authorization', ADMIN);
      expect(list.body.items.filter((b: any) => b.id.startsWith('backstage-bulky-'))).toEqual([]);
      // And the lock is free again: a new backup of the same database runs.
      const again = await request(second.server).post('/api/backup/backups').set('Authorization', ADMIN).send({});
      expect(again.status).toBe(202);
    } finally {
      await second.stop();
    }
  });

  it('a job left running by a backend that died is marked failed at start-up', async () => {
    const prefix = newPrefix('dead');
    const config = backendConfig(prefix, testS3());
    const first = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    await first.stop();
    // What a SIGKILLed backend leaves: a running row nobody beats for.
    const jobId = '11111111-2222-4333-8444-555555555555';
    psql(
      'INSERT INTO backup_jobs (id, kind, status, trigger, actor, plugin_id, lock_key, runner_id, started_at, heartbeat_at) ' +
        `VALUES ('${jobId}', 'backup', 'running', 'manual', 'user:default/admin', 'catalog', 'db:catalog', 'dead-runner', now() - interval '10 minutes', now() - interval '10 minutes')`,
      dbUrl(`${prefix}backup`),
    );
    const second = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    try {
      const job = await request(second.server).get(`/api/backup/jobs/${jobId}`).set('Authorization', ADMIN);
      expect(job.body).toMatchObject({ status: 'failed', error: { code: 'E_ABORTED' } });
      expect(job.body.error.message).toContain('restart or crash');
      const again = await request(second.server).post('/api/backup/backups').set('Authorization', ADMIN).send({});
      expect(again.status).toBe(202);
    } finally {
      await second.stop();
    }
  });
});

describe('scheduled tasks', () => {
  it('back up, prune, verify and drill as the plugin itself, and are recorded as scheduled', async () => {
    const prefix = newPrefix('sched');
    const config = backendConfig(prefix, testS3(), {});
    (config.backup as any).databases = ['catalog'];
    // Both starts back up within a day: with the default keepDaily the second start's prune
    // may delete the first backup just before its scheduled verify picks it up (the check then
    // fails with E_NOT_FOUND and is retried on the newest; once it reads, the engine holds the
    // backup against prune). This test is about the schedule: keep every backup.
    (config.backup as any).retention = { keepLast: 10 };
    // The catalog must hold entities before the scheduled backup runs: ingest first, then
    // start the backend whose mock scheduler runs every task at start-up.
    const ingest = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    await waitForCatalog(prefix, 8);
    await ingest.stop();
    // Every start runs every task; verify and drill find nothing on the first (no backup yet),
    // so the second start shows them at work on the first start's backup.
    const seen: any[] = [];
    for (const kinds of [['backup', 'prune'], ['verify', 'drill']]) {
      const backend = await startBackend(config, [
        policyPermissions,
        mockServices.scheduler.factory({ includeInitialDelayedTasksOnStartup: true }),
      ]);
      try {
        let last: unknown;
        const finished = await waitFor(`scheduled ${kinds.join(' and ')}`, async () => {
          const res = await request(backend.server).get('/api/backup/jobs').set('Authorization', ADMIN);
          last = res.body.items;
          const done = res.body.items.filter((j: any) => j.status !== 'running' && kinds.includes(j.kind));
          return kinds.every(k => done.some((j: any) => j.kind === k)) ? done : undefined;
        }).catch(err => {
          throw new Error(`${err.message}; jobs: ${JSON.stringify(last)}`);
        });
        seen.push(...finished);
      } finally {
        await backend.stop();
      }
    }
    for (const job of seen) {
      expect(job).toMatchObject({ status: 'succeeded', trigger: 'scheduled', actor: 'plugin:backup' });
    }
    // The second start's own backup may finish before its verify lists the store, so each
    // check is matched to whichever backup it worked on.
    const backend = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    try {
      for (const [kind, mark] of [['verify', 'verifiedOk'], ['drill', 'drilledOk']]) {
        const id = seen.find(j => j.kind === kind).backupId;
        const one = await request(backend.server).get(`/api/backup/backups/${id}`).set('Authorization', ADMIN);
        expect(one.body).toMatchObject({ trigger: 'scheduled', [mark]: true });
        expect(one.body.entities.component).toBe(2);
      }
    } finally {
      await backend.stop();
    }
  });
});

describe('without the permission framework', () => {
  it('still refuses restore through the API, with the way to turn it on', async () => {
    const prefix = newPrefix('noperm');
    const config = backendConfig(prefix, testS3(), { permission: { enabled: false } });
    // Backstage's own permissions service: with the framework off it allows everything.
    const backend = await startBackend(config, [mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    try {
      const restore = await request(backend.server)
        .post('/api/backup/backups/backstage-catalog-20000101_000000/restore')
        .set('Authorization', ADMIN)
        .send({ confirm: 'backstage-catalog-20000101_000000' });
      expect(restore.status).toBe(403);
      expect(restore.body.error.message).toContain('permission.enabled: true');
      const list = await request(backend.server).get('/api/backup/backups').set('Authorization', ADMIN);
      expect(list.status).toBe(200);
    } finally {
      await backend.stop();
    }
  });
});

describe('backup.store.credentials', () => {
  it('are used instead of the AWS chain, and never shown', async () => {
    const prefix = newPrefix('creds');
    const s3 = testS3();
    const config = backendConfig(prefix, s3);
    const secret = 'configured-but-wrong-secret';
    // The process environment holds the right credentials; the configured wrong ones must win.
    (config.backup as any).store.credentials = { accessKeyId: s3.accessKey, secretAccessKey: secret };
    const backend = await startBackend(config, [policyPermissions, mockServices.scheduler.factory({ skipTaskRunOnStartup: true })]);
    try {
      const list = await request(backend.server).get('/api/backup/backups').set('Authorization', ADMIN);
      expect(list.status).toBe(503);
      const start = await request(backend.server).post('/api/backup/backups').set('Authorization', ADMIN).send({});
      const job = await waitFor('the backup to fail', async () => {
        const res = await request(backend.server).get(`/api/backup/jobs/${start.body.jobId}`).set('Authorization', ADMIN);
        return res.body.status === 'running' ? undefined : res.body;
      });
      expect(job).toMatchObject({ status: 'failed', error: { code: 'E_STORE' } });
      for (const body of [list.body, job]) expect(JSON.stringify(body)).not.toContain(secret);
    } finally {
      await backend.stop();
    }
  });
});

describe('actions', () => {
  it('offers create, list and health, guarded by the backup permissions', async () => {
    const prefix = newPrefix('act');
    const registry = actionsRegistryServiceMock();
    const backend = await startBackend(backendConfig(prefix, testS3()), [
      policyPermissions,
      mockServices.scheduler.factory({ skipTaskRunOnStartup: true }),
      createServiceFactory({ service: actionsRegistryServiceRef, deps: {}, factory: () => registry }),
    ]);
    try {
      const { actions } = await registry.list();
      expect(actions.map(a => a.name)).toEqual(expect.arrayContaining(['create', 'health', 'list']));
      const viewer = mockCredentials.user('user:default/viewer');
      await expect(registry.invoke({ id: 'test:create', input: {}, credentials: viewer })).rejects.toThrow('backup.create');
      const nobody = mockCredentials.user('user:default/nobody');
      await expect(registry.invoke({ id: 'test:list', input: {}, credentials: nobody })).rejects.toThrow('backup.read');
      const created = await registry.invoke({ id: 'test:create', input: {}, credentials: mockCredentials.user('user:default/operator') });
      const jobId = (created.output as any).jobId;
      const job = await waitFor('the action\'s backup', async () => {
        const res = await request(backend.server).get(`/api/backup/jobs/${jobId}`).set('Authorization', ADMIN);
        return res.body.status === 'running' ? undefined : res.body;
      });
      expect(job).toMatchObject({ status: 'succeeded', actor: 'user:default/operator' });
      const listed = await registry.invoke({ id: 'test:list', input: {}, credentials: viewer });
      expect((listed.output as any).items[0].id).toBe(job.backupId);
      const health = await registry.invoke({ id: 'test:health', input: {}, credentials: viewer });
      expect(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']).toContain((health.output as any).status);
    } finally {
      await backend.stop();
    }
  });
});

