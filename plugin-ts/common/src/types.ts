/** One backup in the store, as `GET /backups` lists it (newest first). */
export interface BackupSummary {
  /** e.g. `backstage-catalog-20261125_020000`: the only form of id the API accepts. */
  id: string;
  name: string;
  /** `incomplete` is never a usable backup; `legacy` is a runbook-made `.sql.gz`. */
  status: 'complete' | 'incomplete' | 'damaged' | 'legacy';
  createdAt: string;
  bytes: number | null;
  entities: Record<string, number> | null;
  verifiedAt: string | null;
  verifiedOk: boolean | null;
  drilledAt: string | null;
  drilledOk: boolean | null;
  trigger: string | null;
  labels: Record<string, string>;
  problem: string | null;
  /**
   * `valid`: signed by the configured key (`backup.signing`); `invalid`: not, and refused by
   * verify, drill, restore and download (`signatureProblem` says why); `signed`: no key is
   * configured to check it; `unsigned`.
   */
  signature: 'unsigned' | 'signed' | 'valid' | 'invalid';
  signatureProblem: string | null;
}

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

export type HealthStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export interface HealthCheck {
  name: string;
  status: HealthStatus;
  message: string;
}

export interface HealthReport {
  status: HealthStatus;
  /** One line: the worst finding, in words. */
  summary: string;
  checks: HealthCheck[];
  checkedAt: string;
  store: string;
  lastBackup: { id: string; createdAt: string; ageSeconds: number; bytes: number | null; entities: number | null } | null;
  lastVerify: { id: string; at: string; ok: boolean; durationMs: number } | null;
  lastDrill: { id: string; at: string; ok: boolean; durationMs: number } | null;
  /** The RPO the age is judged against. */
  maxAgeSeconds: number;
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
