import type {
  AuditorService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { ScheduleInfo } from '@backstage-backup/plugin-backup-common';
import type { Knex } from 'knex';
import type { BackupSettings } from './config';
import type { StartedJob } from './jobs/JobRunner';
import { BackupService, Who } from './service';

export const TASK_IDS = {
  backup: 'backup-scheduled-backup',
  verify: 'backup-scheduled-verify',
  drill: 'backup-scheduled-drill',
} as const;

/** Scheduled runs act as the plugin itself. */
export const SERVICE_ACTOR = 'plugin:backup';
const SCHEDULED: Who = { trigger: 'scheduled', actor: SERVICE_ACTOR };

export interface TaskInfo {
  schedules(): Promise<ScheduleInfo[]>;
}

export interface TaskDeps {
  scheduler: SchedulerService;
  service: BackupService;
  settings: BackupSettings;
  logger: LoggerService;
  auditor: AuditorService;
  pluginDb: Knex;
}

/**
 * Runs one scheduled job to its end; a job already running (a manual one) is not an error.
 * Resolves to false when the job's backup was gone: pruned after it was picked.
 */
async function runScheduled(
  deps: TaskDeps,
  eventId: string,
  meta: Record<string, string>,
  start: () => Promise<StartedJob>,
): Promise<boolean> {
  const event = await deps.auditor.createEvent({ eventId, meta: { ...meta, trigger: 'scheduled' } });
  let started: StartedJob;
  try {
    started = await start();
  } catch (error) {
    if (error instanceof ConflictError || error instanceof NotFoundError) {
      deps.logger.info(`scheduled ${eventId} skipped: ${error.message}`);
      await event.success({ meta: { skipped: error.message } });
      return !(error instanceof NotFoundError);
    }
    await event.fail({ error: error as Error });
    throw error;
  }
  const job = await started.done;
  if (job.status === 'succeeded') await event.success({ meta: { jobId: job.id, backupId: job.backupId ?? '' } });
  else await event.fail({ meta: { jobId: job.id }, error: new Error(`${job.error?.code}: ${job.error?.message}`) });
  return job.error?.code !== 'E_NOT_FOUND';
}

export async function scheduleTasks(deps: TaskDeps): Promise<TaskInfo> {
  const { scheduler, service, settings } = deps;

  await scheduler.scheduleTask({
    id: TASK_IDS.backup,
    scope: 'global',
    ...settings.schedule,
    fn: async () => {
      for (const pluginId of await service.pluginIds()) {
        await runScheduled(deps, 'backup-create', { pluginId }, () => service.backup(pluginId, SCHEDULED));
      }
      await runScheduled(deps, 'backup-prune', {}, () => service.prune(SCHEDULED));
    },
  });

  // Verify daily and drill weekly (by default) the newest backup of each database.
  const checks = [
    { check: 'verify', id: TASK_IDS.verify, schedule: settings.verifySchedule },
    { check: 'drill', id: TASK_IDS.drill, schedule: settings.drillSchedule },
  ] as const;
  for (const { check, id, schedule } of checks) {
    await scheduler.scheduleTask({
      id,
      scope: 'global',
      ...schedule,
      fn: async () => {
        // A prune may delete the backup picked here before the check holds it (the engine
        // holds backups against prune only once it reads them): pick the newest again, once.
        let picked = await service.newestPerPlugin();
        for (let attempt = 1; attempt <= 2 && picked.length > 0; attempt++) {
          const gone: string[] = [];
          for (const backup of picked) {
            const found = await runScheduled(deps, `backup-${check}`, { backupId: backup.id }, () =>
              service[check](backup.id, SCHEDULED),
            );
            if (!found) gone.push(backup.pluginId);
          }
          picked = (await service.newestPerPlugin()).filter(b => gone.includes(b.pluginId));
        }
      },
    });
  }

  return {
    async schedules() {
      const ids = Object.values(TASK_IDS);
      // Global tasks keep their next run in the scheduler's table in this plugin's database;
      // it is the scheduler's own table, so a missing or changed one just means "unknown".
      try {
        const rows = await deps.pluginDb('backstage_backend_tasks__tasks')
          .whereIn('id', ids)
          .select('id', 'next_run_start_at');
        const next = new Map(rows.map(r => [r.id, r.next_run_start_at]));
        return ids.map(taskId => ({
          taskId,
          nextRunAt: next.get(taskId) ? new Date(next.get(taskId)).toISOString() : null,
        }));
      } catch {
        return ids.map(taskId => ({ taskId, nextRunAt: null }));
      }
    },
  };
}
