import { ConflictError, NotFoundError } from '@backstage/errors';
import type { Job, JobKind, JobStatus } from '@backstage-backup/plugin-backup-common';
import type { Knex } from 'knex';

const TABLE = 'backup_jobs';

export interface NewJob {
  id: string;
  kind: JobKind;
  trigger: 'manual' | 'scheduled';
  actor: string;
  pluginId: string;
  backupId: string | null;
  /** Running jobs with the same key exclude each other (e.g. `db:catalog`). */
  lockKey: string | null;
  runnerId: string;
}

export interface JobUpdate {
  phase?: string | null;
  rawBytes?: number;
  storedBytes?: number;
  backupId?: string | null;
}

export interface JobOutcome {
  status: Exclude<JobStatus, 'running'>;
  bytes: number | null;
  backupId: string | null;
  error: { code: string; message: string } | null;
  result: unknown;
}

type Row = Record<string, any>;

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '');
}

const iso = (value: unknown): string | null =>
  value === null || value === undefined ? null : new Date(value as string).toISOString();
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** Job history in the plugin's own database. */
export class JobStore {
  constructor(private readonly db: Knex) {}

  /** Inserts a running job; ConflictError when a job with the same lock key still runs. */
  async insert(job: NewJob, now = new Date()): Promise<void> {
    try {
      await this.db(TABLE).insert({
        id: job.id,
        kind: job.kind,
        status: 'running',
        trigger: job.trigger,
        actor: job.actor,
        plugin_id: job.pluginId,
        backup_id: job.backupId,
        lock_key: job.lockKey,
        runner_id: job.runnerId,
        started_at: now,
        heartbeat_at: now,
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const running = await this.db(TABLE)
        .where({ lock_key: job.lockKey, status: 'running' })
        .first('id', 'kind');
      throw new ConflictError(
        `a ${running?.kind ?? 'job'} of the ${job.pluginId} database is running (job ${running?.id ?? 'unknown'}); ` +
          'wait for it to finish and try again',
      );
    }
  }

  async progress(id: string, update: JobUpdate, now = new Date()): Promise<void> {
    const fields: Row = { heartbeat_at: now };
    if (update.phase !== undefined) fields.phase = update.phase;
    if (update.rawBytes !== undefined) fields.raw_bytes = update.rawBytes;
    if (update.storedBytes !== undefined) fields.stored_bytes = update.storedBytes;
    if (update.backupId !== undefined) fields.backup_id = update.backupId;
    await this.db(TABLE).where({ id, status: 'running' }).update(fields);
  }

  async finish(id: string, outcome: JobOutcome, now = new Date()): Promise<void> {
    const row = await this.db(TABLE).where({ id }).first('started_at');
    await this.db(TABLE)
      .where({ id })
      .update({
        status: outcome.status,
        lock_key: null,
        finished_at: now,
        heartbeat_at: now,
        duration_ms: row ? now.getTime() - new Date(row.started_at).getTime() : null,
        bytes: outcome.bytes,
        backup_id: outcome.backupId,
        error_code: outcome.error?.code ?? null,
        error_message: outcome.error?.message ?? null,
        result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
      });
  }

  /** Keeps this runner's jobs alive in the eyes of other replicas. */
  async heartbeat(runnerId: string, now = new Date()): Promise<void> {
    await this.db(TABLE).where({ runner_id: runnerId, status: 'running' }).update({ heartbeat_at: now });
  }

  /**
   * Marks failed the running jobs whose runner stopped beating before `staleBefore`: a backend
   * killed mid-job (or restarted) never finishes them itself. Returns their ids.
   */
  async failStale(staleBefore: Date, now = new Date()): Promise<string[]> {
    const stale = await this.db(TABLE)
      .where('status', 'running')
      .andWhere('heartbeat_at', '<', staleBefore)
      .select('id', 'started_at');
    for (const row of stale) {
      await this.db(TABLE)
        .where({ id: row.id, status: 'running' })
        .update({
          status: 'failed',
          lock_key: null,
          finished_at: now,
          duration_ms: now.getTime() - new Date(row.started_at).getTime(),
          error_code: 'E_ABORTED',
          error_message:
            'the backend stopped while this job ran (restart or crash); nothing it wrote is listed as complete',
        });
    }
    return stale.map(r => r.id);
  }

  async get(id: string): Promise<Job> {
    const row = await this.db(TABLE).where({ id }).first();
    if (!row) throw new NotFoundError(`no job ${id}`);
    return toJob(row);
  }

  async list(limit = 50): Promise<Job[]> {
    const rows = await this.db(TABLE).orderBy('started_at', 'desc').limit(limit);
    return rows.map(toJob);
  }

  /** The newest finished job of a kind that succeeded, for metrics and the health header. */
  async lastSucceeded(kind: JobKind, pluginId: string): Promise<Job | undefined> {
    const row = await this.db(TABLE)
      .where({ kind, plugin_id: pluginId, status: 'succeeded' })
      .orderBy('finished_at', 'desc')
      .first();
    return row ? toJob(row) : undefined;
  }
}

function toJob(row: Row): Job {
  const startedAt = iso(row.started_at)!;
  const finishedAt = iso(row.finished_at);
  const rawBytes = Number(row.raw_bytes ?? 0);
  const storedBytes = Number(row.stored_bytes ?? 0);
  const elapsed = ((finishedAt ? Date.parse(finishedAt) : Date.now()) - Date.parse(startedAt)) / 1000;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    trigger: row.trigger,
    actor: row.actor,
    pluginId: row.plugin_id,
    backupId: row.backup_id ?? null,
    startedAt,
    finishedAt,
    durationMs: num(row.duration_ms),
    progress: {
      phase: row.phase ?? null,
      rawBytes,
      storedBytes,
      bytesPerSecond: elapsed > 0 ? Math.round(rawBytes / elapsed) : 0,
    },
    bytes: num(row.bytes),
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    result: row.result ? JSON.parse(row.result) : null,
  };
}
