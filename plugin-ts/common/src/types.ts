// The engine's results, as the backend hands them on: generated from the Rust types
// (engine-types.generated.ts, by scripts/generate-types.sh), never declared again here.
import type { HealthReport } from './engine-types.generated';

export type * from './engine-types.generated';

export type JobKind = 'backup' | 'verify' | 'drill' | 'restore' | 'prune';
export type JobStatus = 'running' | 'succeeded' | 'failed';

export interface JobProgress {
  /** dump, upload, verify, load, … as the engine reports it. */
  phase: string | null;
  /** Bytes read from the source so far. */
  rawBytes: number;
  /** Bytes written to (or read from) the store so far. */
  storedBytes: number;
  /** Bytes per second over the job so far. */
  bytesPerSecond: number;
}

export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** `manual` (through the API) or `scheduled`. */
  trigger: 'manual' | 'scheduled';
  /** The user entity ref, or the plugin itself for scheduled runs. */
  actor: string;
  /** The plugin whose database it concerns (`all` for prune). */
  pluginId: string;
  /** The backup the job made or worked on. */
  backupId: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  progress: JobProgress;
  /** Bytes stored (backup) or checked (verify) when it finished. */
  bytes: number | null;
  error: { code: string; message: string } | null;
  /** The engine's report (manifest, verify or drill report). */
  result: unknown;
}

export interface ScheduleInfo {
  taskId: string;
  /** ISO time of the next run, when the scheduler knows it. */
  nextRunAt: string | null;
}

export interface HealthResponse {
  report: HealthReport;
  schedules: ScheduleInfo[];
}

export interface StartJobResponse {
  jobId: string;
}
