import { ResponseError } from '@backstage/errors';
import type {
  BackupSummary,
  HealthResponse,
  Job,
  StartJobResponse,
} from './types';

/** Where the backend lives and how to call it: Backstage's discoveryApi and fetchApi fit. */
export interface BackupClientOptions {
  discoveryApi: { getBaseUrl(pluginId: string): Promise<string> };
  fetchApi: { fetch: typeof fetch };
}

/** A failed call: the backend's own words in `message`, the HTTP status in `status`. */
export class BackupApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly cause: ResponseError,
  ) {
    super(message);
    this.name = 'BackupApiError';
  }
}

/** Backup ids are names like `backstage-catalog-20261125_020000`; nothing else is sent. */
export const BACKUP_ID_PATTERN = /^backstage-[a-z0-9]+(?:-[a-z0-9]+)*-\d{8}_\d{6}$/;

/** A typed client of the backup backend's REST API (`/api/backup`). */
export class BackupClient {
  constructor(private readonly options: BackupClientOptions) {}

  async listBackups(): Promise<{ items: BackupSummary[] }> {
    return this.request('GET', '/backups');
  }

  async getBackup(id: string): Promise<BackupSummary> {
    return this.request('GET', `/backups/${checkId(id)}`);
  }

  /** Starts a backup now; the backend answers 409 while one runs. */
  async startBackup(
    options: { pluginId?: string; labels?: Record<string, string>; trigger?: 'manual' | 'pre-upgrade' } = {},
  ): Promise<StartJobResponse> {
    return this.request('POST', '/backups', options);
  }

  async verify(id: string): Promise<StartJobResponse> {
    return this.request('POST', `/backups/${checkId(id)}/verify`, {});
  }

  async drill(id: string): Promise<StartJobResponse> {
    return this.request('POST', `/backups/${checkId(id)}/drill`, {});
  }

  /** Restores over the live database; `confirm` must repeat the id. */
  async restore(id: string, confirm: string): Promise<StartJobResponse> {
    return this.request('POST', `/backups/${checkId(id)}/restore`, { confirm });
  }

  async getJob(jobId: string): Promise<Job> {
    return this.request('GET', `/jobs/${encodeURIComponent(jobId)}`);
  }

  async listJobs(): Promise<{ items: Job[] }> {
    return this.request('GET', '/jobs');
  }

  async health(): Promise<HealthResponse> {
    return this.request('GET', '/health');
  }

  /** The download address of a backup's `.sql.gz` (fetch it with fetchApi for credentials). */
  async downloadUrl(id: string): Promise<string> {
    const base = await this.options.discoveryApi.getBaseUrl('backup');
    return `${base}/backups/${checkId(id)}/download`;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const base = await this.options.discoveryApi.getBaseUrl('backup');
    const response = await this.options.fetchApi.fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const error = await ResponseError.fromResponse(response);
      throw new BackupApiError(error.body?.error?.message || error.message, response.status, error);
    }
    return (await response.json()) as T;
  }
}

function checkId(id: string): string {
  if (!BACKUP_ID_PATTERN.test(id)) {
    throw new TypeError(`'${id}' is not a backup id (like backstage-catalog-20261125_020000)`);
  }
  return id;
}
