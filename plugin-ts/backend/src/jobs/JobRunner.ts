import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Job } from '@backstage-backup/plugin-backup-common';
import { randomUUID } from 'node:crypto';
import type { EngineProgress } from '../engine';
import { engineErrorCode } from '../engine';
import { JobStore, NewJob } from './JobStore';

/** What a job reports when its work resolved; `ok: false` is a failed check, not a crash. */
export interface WorkOutcome {
  ok: boolean;
  bytes: number | null;
  backupId: string | null;
  problem?: string;
}

export interface JobSpec extends Omit<NewJob, 'id' | 'runnerId'> {
  work(context: { signal: AbortSignal; onProgress: (event: EngineProgress) => void }): Promise<unknown>;
  outcome(result: any): WorkOutcome;
}

export interface StartedJob {
  jobId: string;
  /** Settles (never rejects) when the job has finished and its row says so. */
  done: Promise<Job>;
}

const PROGRESS_FLUSH_MS = 1_000;
const HEARTBEAT_MS = 10_000;
/** A running job whose runner has not beaten for this long belongs to a dead backend. */
const STALE_AFTER_MS = 60_000;

/** Runs jobs in the background, records them in the JobStore and stops them on shutdown. */
export class JobRunner {
  readonly runnerId = randomUUID();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<Job> }>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    private readonly store: JobStore,
    private readonly logger: LoggerService,
    private readonly onFinished: (job: Job) => void | Promise<void> = () => {},
  ) {}

  /** Fails the jobs a dead backend left running, then keeps this runner's jobs alive. */
  async startUp(): Promise<void> {
    await this.failStale();
    this.timers.push(
      setInterval(() => this.store.heartbeat(this.runnerId).catch(e => this.warn('heartbeat', e)), HEARTBEAT_MS),
      setInterval(() => this.failStale().catch(e => this.warn('stale-job sweep', e)), STALE_AFTER_MS / 2),
    );
    for (const timer of this.timers) timer.unref();
  }

  private async failStale() {
    const failed = await this.store.failStale(new Date(Date.now() - STALE_AFTER_MS));
    for (const id of failed) {
      this.logger.warn(`job ${id} was cut off by a backend restart or crash; marked failed`);
    }
  }

  private warn(what: string, err: unknown) {
    this.logger.warn(`backup jobs: ${what} failed: ${(err as Error).message}`);
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /** Records the job (ConflictError while a job with its lock key runs) and starts it. */
  async start(spec: JobSpec): Promise<StartedJob> {
    if (this.stopping) throw new Error('the backup plugin is shutting down');
    const jobId = randomUUID();
    await this.store.insert({
      id: jobId,
      kind: spec.kind,
      trigger: spec.trigger,
      actor: spec.actor,
      pluginId: spec.pluginId,
      backupId: spec.backupId,
      lockKey: spec.lockKey,
      runnerId: this.runnerId,
    });
    const controller = new AbortController();
    const done = this.run(jobId, spec, controller.signal);
    this.running.set(jobId, { controller, done });
    done.finally(() => this.running.delete(jobId));
    return { jobId, done };
  }

  private async run(jobId: string, spec: JobSpec, signal: AbortSignal): Promise<Job> {
    const started = Date.now();
    let latest: { phase?: string; rawBytes?: number; storedBytes?: number } = {};
    let dirty = false;
    // Writes go one after another, so an older state never overwrites a newer one.
    let writes = Promise.resolve();
    const flush = () => {
      writes = writes.then(async () => {
        if (!dirty) return;
        dirty = false;
        await this.store.progress(jobId, latest).catch(e => this.warn('progress update', e));
      });
      return writes;
    };
    const flusher = setInterval(flush, PROGRESS_FLUSH_MS);
    flusher.unref();
    const onProgress = (event: EngineProgress) => {
      const newPhase = event.phase !== undefined && event.phase !== latest.phase;
      if (event.phase) latest = { ...latest, phase: event.phase };
      if (typeof event.raw === 'number') latest = { ...latest, rawBytes: event.raw };
      if (typeof event.stored === 'number') latest = { ...latest, storedBytes: event.stored };
      dirty = true;
      // A new phase shows at once (a short backup would otherwise show none); bytes once a second.
      if (newPhase) flush();
    };
    let outcome;
    try {
      const result = await spec.work({ signal, onProgress });
      const work = spec.outcome(result);
      outcome = {
        status: work.ok ? ('succeeded' as const) : ('failed' as const),
        bytes: work.bytes,
        backupId: work.backupId ?? spec.backupId,
        error: work.ok ? null : { code: 'E_INTEGRITY', message: work.problem ?? 'the check failed' },
        result,
      };
    } catch (err) {
      const error = err as Error;
      outcome = {
        status: 'failed' as const,
        bytes: null,
        backupId: spec.backupId,
        error: { code: engineErrorCode(error), message: error.message },
        result: undefined,
      };
    } finally {
      clearInterval(flusher);
    }
    await flush();
    try {
      await this.store.finish(jobId, outcome);
    } catch (err) {
      this.warn(`recording the end of job ${jobId}`, err);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const line = `${spec.kind} of ${spec.pluginId} (${spec.trigger}, by ${spec.actor}) ${outcome.status} in ${seconds}s`;
    if (outcome.status === 'succeeded') {
      this.logger.info(`${line}${outcome.backupId ? `: ${outcome.backupId}` : ''}${outcome.bytes !== null ? `, ${outcome.bytes} bytes` : ''}`, { jobId });
    } else {
      this.logger.error(`${line}: ${outcome.error?.code} ${outcome.error?.message}`, { jobId });
    }
    const job = await this.store.get(jobId);
    try {
      await this.onFinished(job);
    } catch (err) {
      this.warn('job hook', err);
    }
    return job;
  }

  /** Stops every running job (the engine removes what it had written) and waits for them. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const jobs = [...this.running.values()];
    for (const job of jobs) job.controller.abort();
    await Promise.all(jobs.map(job => job.done));
  }
}
