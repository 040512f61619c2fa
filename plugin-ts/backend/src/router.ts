import type {
  AuditorService,
  HttpAuthService,
  PermissionsService,
  BackstageCredentials,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { BasicPermission } from '@backstage/plugin-permission-common';
import {
  backupCreatePermission,
  backupReadPermission,
  backupRestorePermission,
} from '@backstage-backup/plugin-backup-common';
import express from 'express';
import Router from 'express-promise-router';
import { requirePermission } from './authorize';
import { z } from 'zod';
import type { JobStore } from './jobs/JobStore';
import type { StartedJob } from './jobs/JobRunner';
import { BackupService } from './service';
import type { TaskInfo } from './tasks';

export interface RouterDeps {
  service: BackupService;
  jobs: JobStore;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  tasks: TaskInfo;
  /** Without the permission framework every user would be allowed everything: restore stays off. */
  permissionFrameworkEnabled: boolean;
}

const startBackupBody = z
  .object({
    pluginId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/).max(64).optional(),
    labels: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/), z.string().max(256)).optional(),
    /** `pre-upgrade` marks the backup a rollback looks for (the CLI's `--trigger pre-upgrade`). */
    trigger: z.enum(['manual', 'pre-upgrade']).optional(),
  })
  .strict();
const restoreBody = z.object({ confirm: z.string() }).strict();
const emptyBody = z.object({}).strict();
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InputError(`invalid request body: ${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

/** Who acted, for job history and audit: the user's entity ref or the calling service. */
export function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  if (principal.type === 'user') return principal.userEntityRef!;
  if (principal.type === 'service') return principal.subject ?? 'service';
  return 'unknown';
}

export async function createRouter(deps: RouterDeps): Promise<express.Router> {
  const { service, jobs, httpAuth, permissions, auditor, tasks, permissionFrameworkEnabled } = deps;
  const router = Router();
  router.use(express.json({ limit: '16kb' }));

  async function authorize(req: express.Request, permission: BasicPermission) {
    const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
    await requirePermission(permissions, credentials, permission);
    return credentials;
  }

  /** Audits a job: the request now, the outcome when the job ends. */
  async function auditJob(
    req: express.Request,
    eventId: string,
    meta: Record<string, string>,
    start: () => Promise<StartedJob>,
    severityLevel: 'low' | 'medium' | 'high' = 'medium',
  ) {
    const event = await auditor.createEvent({ eventId, request: req, severityLevel, meta });
    let started: StartedJob;
    try {
      started = await start();
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
    started.done.then(job =>
      job.status === 'succeeded'
        ? event.success({ meta: { jobId: job.id, backupId: job.backupId ?? '' } })
        : event.fail({ meta: { jobId: job.id }, error: new Error(`${job.error?.code}: ${job.error?.message}`) }),
    );
    return started;
  }

  router.get('/health', async (req, res) => {
    await authorize(req, backupReadPermission);
    res.json({ report: await service.health(), schedules: await tasks.schedules() });
  });

  router.get('/backups', async (req, res) => {
    await authorize(req, backupReadPermission);
    res.json({ items: await service.list() });
  });

  router.get('/backups/:id', async (req, res) => {
    await authorize(req, backupReadPermission);
    res.json(await service.get(req.params.id));
  });

  router.post('/backups', async (req, res) => {
    const credentials = await authorize(req, backupCreatePermission);
    const body = parse(startBackupBody, req.body);
    const pluginIds = await service.pluginIds();
    const pluginId = body.pluginId ?? pluginIds[0];
    if (!pluginIds.includes(pluginId)) {
      throw new InputError(`'${pluginId}' is not a database this plugin backs up (backup.databases)`);
    }
    const started = await auditJob(req, 'backup-create', { pluginId }, () =>
      service.backup(pluginId, { trigger: 'manual', actor: actorOf(credentials) }, body.labels, body.trigger),
    );
    res.status(202).json({ jobId: started.jobId });
  });

  // Verify and drill: checks of one backup, started the same way.
  for (const check of ['verify', 'drill'] as const) {
    router.post(`/backups/:id/${check}`, async (req, res) => {
      const credentials = await authorize(req, backupCreatePermission);
      parse(emptyBody, req.body);
      const id = req.params.id;
      service.pluginOf(id);
      const started = await auditJob(req, `backup-${check}`, { backupId: id }, () =>
        service[check](id, { trigger: 'manual', actor: actorOf(credentials) }),
      );
      res.status(202).json({ jobId: started.jobId });
    });
  }

  router.post('/backups/:id/restore', async (req, res) => {
    const credentials = await authorize(req, backupRestorePermission);
    if (!permissionFrameworkEnabled) {
      throw new NotAllowedError(
        'restore through the API is off while the permission framework is: set permission.enabled: true and grant ' +
          'backup.restore in your policy to the few who may restore (or restore with the backstage-backup CLI)',
      );
    }
    const id = req.params.id;
    service.pluginOf(id);
    const body = parse(restoreBody, req.body);
    if (body.confirm !== id) {
      throw new InputError(`to restore, repeat the backup id as confirm: {"confirm": "${id}"}`);
    }
    const started = await auditJob(
      req,
      'backup-restore',
      { backupId: id },
      () => service.restore(id, { trigger: 'manual', actor: actorOf(credentials) }),
      'high',
    );
    res.status(202).json({ jobId: started.jobId });
  });

  router.get('/backups/:id/download', async (req, res) => {
    await authorize(req, backupReadPermission);
    const id = req.params.id;
    service.pluginOf(id);
    const event = await auditor.createEvent({ eventId: 'backup-download', request: req, meta: { backupId: id } });
    let opened;
    try {
      opened = await service.openRead(id);
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/gzip');
    res.setHeader('Content-Length', String(opened.bytes));
    res.setHeader('Content-Disposition', `attachment; filename="${opened.fileName}"`);
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    try {
      for await (const chunk of opened.chunks) {
        if (closed) break;
        if (!res.write(chunk)) await new Promise(resolve => res.once('drain', resolve).once('close', resolve));
      }
      if (closed) throw new Error('the client went away before the download finished');
      res.end();
      await event.success();
    } catch (error) {
      await event.fail({ error: error as Error });
      // Headers are sent: cutting the connection is the only way to say the body is incomplete.
      res.destroy(error as Error);
    }
  });

  router.get('/jobs', async (req, res) => {
    await authorize(req, backupReadPermission);
    res.json({ items: await jobs.list() });
  });

  router.get('/jobs/:jobId', async (req, res) => {
    await authorize(req, backupReadPermission);
    if (!JOB_ID.test(req.params.jobId)) throw new InputError('job ids are UUIDs, as POST returned them');
    res.json(await jobs.get(req.params.jobId));
  });

  return router;
}
