import { NotFoundError } from '@backstage/errors';
import type { BackupSummary, HealthReport } from '@backstage-backup/plugin-backup-common';
import type { Knex } from 'knex';
import type { BackupSettings } from './config';
import { Engine, toHttpError } from './engine';
import { JobRunner, JobSpec, StartedJob } from './jobs/JobRunner';

export interface Who {
  trigger: 'manual' | 'scheduled';
  actor: string;
}

/** The plugin's operations, shared by the REST API, the scheduled tasks and the actions. */
export class BackupService {
  constructor(
    private readonly engine: Engine,
    private readonly settings: BackupSettings,
    private readonly runner: JobRunner,
    private readonly pluginDb: Knex,
  ) {}

  /** Options that point the engine at one plugin's database, derived as Backstage derives it. */
  private database(pluginId: string) {
    return { appConfigJson: this.settings.databaseConfigJson, plugin: pluginId };
  }

  /** The plugin databases this installation backs up. */
  async pluginIds(): Promise<string[]> {
    if (this.settings.databases !== 'all') return this.settings.databases;
    const config = JSON.parse(this.settings.databaseConfigJson).backend.database ?? {};
    const prefix: string = config.prefix ?? 'backstage_plugin_';
    if ((config.pluginDivisionMode ?? 'database') !== 'database' || this.pluginDb.client.config.client !== 'pg') {
      return ['catalog'];
    }
    const rows = await this.pluginDb.raw('SELECT datname FROM pg_database WHERE starts_with(datname, ?) ORDER BY datname', [prefix]);
    const ids = rows.rows
      .map((r: { datname: string }) => r.datname.slice(prefix.length))
      .filter((id: string) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(id));
    return ids.length > 0 ? ids : ['catalog'];
  }

  async list(): Promise<BackupSummary[]> {
    try {
      return (await this.engine.list()) as BackupSummary[];
    } catch (err) {
      throw toHttpError(err);
    }
  }

  /** The plugin a backup id names, parsed by the engine (core's grammar); anything else is a 400. */
  pluginOf(id: string): string {
    try {
      return this.engine.parseBackupId(id).pluginId;
    } catch (err) {
      throw toHttpError(err);
    }
  }

  async get(id: string): Promise<BackupSummary> {
    this.pluginOf(id);
    const found = (await this.list()).find(b => b.id === id);
    if (!found) throw new NotFoundError(`no backup ${id}; GET /api/backup/backups lists them`);
    return found;
  }

  async health(): Promise<HealthReport> {
    try {
      return (await this.engine.health(this.settings.health)) as HealthReport;
    } catch (err) {
      throw toHttpError(err);
    }
  }

  backup(
    pluginId: string,
    who: Who,
    labels: Record<string, string> = {},
    manifestTrigger: 'manual' | 'pre-upgrade' = 'manual',
  ): Promise<StartedJob> {
    return this.runner.start({
      kind: 'backup',
      ...who,
      pluginId,
      backupId: null,
      lockKey: `db:${pluginId}`,
      work: ({ signal, onProgress }) =>
        this.engine.backup({
          ...this.database(pluginId),
          trigger: who.trigger === 'scheduled' ? 'scheduled' : manifestTrigger,
          by: who.actor,
          labels,
          signal,
          onProgress,
        }),
      outcome: manifest => ({ ok: true, bytes: manifest.compressed.bytes, backupId: manifest.id }),
    });
  }

  /** Re-reads the stored backup: SHA-256 against manifest and sidecar, full gunzip, completion line. */
  verify(id: string, who: Who): Promise<StartedJob> {
    return this.check('verify', id, who, `verify:${id}`, ({ signal, onProgress }) =>
      this.engine.verify(id, { signal, onProgress }),
    );
  }

  /** Restores into a scratch database, compares entity counts with the manifest, drops it. */
  drill(id: string, who: Who): Promise<StartedJob> {
    const pluginId = this.pluginOf(id);
    return this.check('drill', id, who, `drill:${pluginId}`, ({ signal }) =>
      this.engine.drill(id, { ...this.database(pluginId), signal }),
    );
  }

  private async check(kind: 'verify' | 'drill', id: string, who: Who, lockKey: string, work: JobSpec['work']) {
    const pluginId = this.pluginOf(id);
    await this.get(id);
    return this.runner.start({
      kind,
      ...who,
      pluginId,
      backupId: id,
      lockKey,
      work,
      // A failed check resolves with ok: false and its problems; the job fails with them.
      outcome: report => ({
        ok: report.ok,
        bytes: report.check?.compressed?.bytes ?? null,
        backupId: id,
        problem: report.problems?.join('; '),
      }),
    });
  }

  /** Replaces the plugin's live database with the backup, after a safety backup, in one transaction. */
  async restore(id: string, who: Who): Promise<StartedJob> {
    const pluginId = this.pluginOf(id);
    await this.get(id);
    return this.runner.start({
      kind: 'restore',
      ...who,
      pluginId,
      backupId: id,
      lockKey: `db:${pluginId}`,
      work: ({ signal, onProgress }) =>
        this.engine.restore(id, { ...this.database(pluginId), clean: true, safetyBackup: true, signal, onProgress }),
      outcome: report => ({ ok: true, bytes: report.bytes ?? null, backupId: id }),
    });
  }

  prune(who: Who): Promise<StartedJob> {
    return this.runner.start({
      kind: 'prune',
      ...who,
      pluginId: 'all',
      backupId: null,
      lockKey: 'prune',
      work: () => this.engine.prune(this.settings.retention),
      outcome: () => ({ ok: true, bytes: null, backupId: null }),
    });
  }

  /** The newest usable backup of each plugin: what scheduled verifies and drills check. */
  async newestPerPlugin(): Promise<BackupSummary[]> {
    const ids = await this.pluginIds();
    const newest = new Map<string, BackupSummary>();
    for (const backup of await this.list()) {
      if (backup.status !== 'complete') continue;
      const plugin = backup.pluginId;
      if (ids.includes(plugin) && !newest.has(plugin)) newest.set(plugin, backup);
    }
    return [...newest.values()];
  }

  openRead(id: string) {
    this.pluginOf(id);
    return this.engine.openRead(id).catch((err: unknown) => {
      throw toHttpError(err);
    });
  }
}
