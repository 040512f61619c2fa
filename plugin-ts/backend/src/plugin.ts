import {
  coreServices,
  createBackendPlugin,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { actionsRegistryServiceRef, metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { backupPermissions } from '@backstage-backup/plugin-backup-common';
import { registerActions } from './actions';
import { readBackupSettings } from './config';
import { createEngine, engineChoice } from './engine';
import { JobRunner } from './jobs/JobRunner';
import { JobStore } from './jobs/JobStore';
import { createBackupMetrics } from './metrics';
import { createRouter } from './router';
import { BackupService } from './service';
import { scheduleTasks } from './tasks';

/**
 * The backup plugin: scheduled backups, verification, restore drills and pruning of the catalog
 * database, and the REST API under /api/backup.
 */
export const backupPlugin = createBackendPlugin({
  pluginId: 'backup',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        actionsRegistry: actionsRegistryServiceRef,
        metrics: metricsServiceRef,
      },
      async init(deps) {
        const { config, logger, database, scheduler, httpRouter, httpAuth, permissions, auditor, lifecycle } = deps;
        const settings = readBackupSettings(config);
        const pluginDb = await database.getClient();
        if (!database.migrations?.skip) {
          await pluginDb.migrate.latest({
            directory: resolvePackagePath('@backstage-backup/plugin-backup-backend', 'migrations'),
            tableName: 'backup_knex_migrations',
          });
        }
        const jobs = new JobStore(pluginDb);
        const metrics = createBackupMetrics(deps.metrics);
        const runner = new JobRunner(jobs, logger, job => metrics.record(job));
        await runner.startUp();
        lifecycle.addShutdownHook(() => runner.shutdown());

        const engine = createEngine(settings);
        const service = new BackupService(engine, settings, runner, pluginDb);
        deps.permissionsRegistry.addPermissions(backupPermissions);
        registerActions(deps.actionsRegistry, service, permissions);
        const tasks = await scheduleTasks({ scheduler, service, settings, logger, auditor, pluginDb });
        httpRouter.use(await createRouter({
            service,
            jobs,
            httpAuth,
            permissions,
            auditor,
            tasks,
            permissionFrameworkEnabled: settings.permissionFrameworkEnabled,
          }));

        const what = settings.databases === 'all' ? 'every plugin database' : `the ${settings.databases.join(', ')} database(s)`;
        logger.info(
          settings.isDefault
            ? `no backup: config; backing up ${what} daily into ${engine.describeStore()} (engine ${engine.kind}); set backup.store to change it`
            : `backing up ${what} into ${engine.describeStore()} (engine ${engine.kind})`,
        );
        logger.info(`backup engine: ${engine.kind}, because ${engineChoice().reason}${settings.signing?.key || settings.signing?.keyFile ? '; backups are signed or checked with backup.signing' : '; backups are unsigned (see backup.signing)'}`);
      },
    });
  },
});
