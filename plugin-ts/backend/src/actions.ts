import type { PermissionsService, BackstageCredentials } from '@backstage/backend-plugin-api';
import type { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { BasicPermission } from '@backstage/plugin-permission-common';
import { backupCreatePermission, backupReadPermission } from '@backstage-backup/plugin-backup-common';
import { requirePermission } from './authorize';
import { actorOf } from './router';
import { BackupService } from './service';

/**
 * backup:create, backup:list and backup:health for MCP and AI clients of Backstage, guarded by
 * the same permissions as the REST API.
 */
export function registerActions(
  actionsRegistry: ActionsRegistryService,
  service: BackupService,
  permissions: PermissionsService,
) {
  const authorize = (credentials: BackstageCredentials, permission: BasicPermission) =>
    requirePermission(permissions, credentials, permission);

  actionsRegistry.register({
    name: 'create',
    title: 'Back up a Backstage database',
    description:
      'Starts a backup of the catalog database (or another plugin database this plugin backs up) and returns its job id; ' +
      'GET /api/backup/jobs/{jobId} follows it.',
    visibilityPermission: backupCreatePermission,
    attributes: { destructive: false, idempotent: false, readOnly: false },
    schema: {
      input: z => z.object({ pluginId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/).optional() }),
      output: z => z.object({ jobId: z.string() }),
    },
    action: async ({ input, credentials }) => {
      await authorize(credentials, backupCreatePermission);
      const ids = await service.pluginIds();
      const pluginId = input.pluginId ?? ids[0];
      if (!ids.includes(pluginId)) throw new Error(`'${pluginId}' is not a database this plugin backs up`);
      const started = await service.backup(pluginId, { trigger: 'manual', actor: actorOf(credentials) });
      return { output: { jobId: started.jobId } };
    },
  });

  actionsRegistry.register({
    name: 'list',
    title: 'List Backstage backups',
    description: 'Lists the backups in the store, newest first, with status, size, entity counts and check marks.',
    visibilityPermission: backupReadPermission,
    attributes: { readOnly: true, idempotent: true, destructive: false },
    schema: {
      input: z => z.object({}),
      output: z =>
        z.object({
          items: z.array(
            z.object({
              id: z.string(),
              status: z.string(),
              createdAt: z.string(),
              bytes: z.number().nullable(),
              entities: z.record(z.string(), z.number()).nullable(),
              verifiedOk: z.boolean().nullable(),
              drilledOk: z.boolean().nullable(),
            }),
          ),
        }),
    },
    action: async ({ credentials }) => {
      await authorize(credentials, backupReadPermission);
      const items = (await service.list()).map(b => ({
        id: b.id,
        status: b.status,
        createdAt: b.createdAt,
        bytes: b.bytes,
        entities: b.entities,
        verifiedOk: b.verifiedOk,
        drilledOk: b.drilledOk,
      }));
      return { output: { items } };
    },
  });

  actionsRegistry.register({
    name: 'health',
    title: 'Backup health',
    description: 'OK, WARNING, CRITICAL or UNKNOWN, with the reason: the age of the last good backup against the RPO, size anomalies, last verify and drill.',
    visibilityPermission: backupReadPermission,
    attributes: { readOnly: true, idempotent: true, destructive: false },
    schema: {
      input: z => z.object({}),
      output: z =>
        z.object({
          status: z.string(),
          summary: z.string(),
          checks: z.array(z.object({ name: z.string(), status: z.string(), message: z.string() })),
        }),
    },
    action: async ({ credentials }) => {
      await authorize(credentials, backupReadPermission);
      const report = await service.health();
      return { output: { status: report.status, summary: report.summary, checks: report.checks } };
    },
  });
}
