import type { BackupSummary, HealthResponse, Job, StartJobResponse } from '@backstage-backup/plugin-backup-common';
import type { BackupApi } from '../api';

const NOW = Date.now();
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

export function backup(overrides: Partial<BackupSummary> = {}): BackupSummary {
  const id = overrides.id ?? 'backstage-catalog-20261125_020000';
  return {
    id,
    name: `${id}.sql.gz`,
    status: 'complete',
    createdAt: ago(3600),
    bytes: 5 * 1024 * 1024,
    entities: { Component: 400, User: 50, Group: 10 },
    verifiedAt: null,
    verifiedOk: null,
    drilledAt: null,
    drilledOk: null,
    trigger: 'scheduled',
    labels: {},
    problem: null,
    signature: 'unsigned',
    signatureProblem: null,
    pluginId: 'catalog',
    ...overrides,
  };
}

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    kind: 'backup',
    status: 'running',
    trigger: 'manual',
    actor: 'user:development/guest',
    pluginId: 'catalog',
    backupId: null,
    startedAt: ago(5),
    finishedAt: null,
    durationMs: null,
    progress: { phase: 'upload', rawBytes: 10 * 1024 * 1024, storedBytes: 2 * 1024 * 1024, bytesPerSecond: 2 * 1024 * 1024 },
    bytes: null,
    error: null,
    result: null,
    ...overrides,
  };
}

export function health(overrides: Partial<HealthResponse['report']> = {}): HealthResponse {
  return {
    report: {
      status: 'OK',
      summary: 'last backup: backstage-catalog-20261125_020000 is 1h old (RPO 1d 2h)',
      checks: [
        { name: 'last backup', status: 'OK', message: 'backstage-catalog-20261125_020000 is 1h old (RPO 1d 2h)' },
        { name: 'verify', status: 'OK', message: 'the last verify passed 1h ago' },
        { name: 'drill', status: 'OK', message: 'the last drill passed 2d ago' },
      ],
      checkedAt: ago(0),
      store: 's3://backups/backstage',
      lastBackup: { id: 'backstage-catalog-20261125_020000', createdAt: ago(3600), ageSeconds: 3600, bytes: 5242880, entities: 460 },
      lastVerify: { id: 'backstage-catalog-20261125_020000', at: ago(3500), ok: true, durationMs: 800 },
      lastDrill: { id: 'backstage-catalog-20261125_020000', at: ago(2 * 86400), ok: true, durationMs: 4000 },
      maxAgeSeconds: 26 * 3600,
      ...overrides,
    },
    schedules: [{ taskId: 'backup-scheduled-backup', nextRunAt: new Date(NOW + 7200 * 1000).toISOString() }],
  };
}

/** An error as BackupClient throws it: the backend's words in `body.error.message`. */
export function responseError(status: number, message: string): Error {
  return Object.assign(new Error(`Request failed with ${status}, ${message}`), {
    name: 'ResponseError',
    body: { error: { name: 'Error', message } },
  });
}

/**
 * A stand-in for the backend, one per test state: lists what it is given, and answers getJob
 * from a script of job states (the last one repeats).
 */
export class FakeBackupApi implements BackupApi {
  backups: BackupSummary[] = [];
  healthResponse: HealthResponse = health();
  runningJobs: Job[] = [];
  jobScript: Job[] = [];
  startError?: Error;
  calls: string[] = [];

  constructor(init: Partial<Pick<FakeBackupApi, 'backups' | 'healthResponse' | 'runningJobs' | 'jobScript' | 'startError'>> = {}) {
    Object.assign(this, init);
  }

  async listBackups() {
    this.calls.push('listBackups');
    return { items: this.backups };
  }
  async getBackup(id: string) {
    const found = this.backups.find(b => b.id === id);
    if (!found) throw responseError(404, `no backup ${id}`);
    return found;
  }
  async startBackup(): Promise<StartJobResponse> {
    this.calls.push('startBackup');
    if (this.startError) throw this.startError;
    return { jobId: this.jobScript[0]?.id ?? 'job' };
  }
  async verify(id: string): Promise<StartJobResponse> {
    this.calls.push(`verify ${id}`);
    return { jobId: this.jobScript[0]?.id ?? 'job' };
  }
  async drill(id: string): Promise<StartJobResponse> {
    this.calls.push(`drill ${id}`);
    return { jobId: this.jobScript[0]?.id ?? 'job' };
  }
  async restore(id: string, confirm: string): Promise<StartJobResponse> {
    this.calls.push(`restore ${id} ${confirm}`);
    return { jobId: this.jobScript[0]?.id ?? 'job' };
  }
  async getJob(jobId: string): Promise<Job> {
    this.calls.push('getJob');
    const running = this.runningJobs.find(j => j.id === jobId);
    if (running && this.jobScript.length === 0) return running;
    const next = this.jobScript.length > 1 ? this.jobScript.shift()! : this.jobScript[0];
    if (!next) throw responseError(404, `no job ${jobId}`);
    return next;
  }
  async listJobs() {
    return { items: this.runningJobs };
  }
  async health() {
    this.calls.push('health');
    return this.healthResponse;
  }
  async downloadUrl(id: string) {
    return `http://localhost:7007/api/backup/backups/${id}/download`;
  }
}
