/** Error codes are stable: E_INVALID, E_NOT_FOUND, E_EXISTS, E_INTEGRITY, E_LOCKED, E_PG_DUMP, E_STORE, E_ABORTED, E_INTERNAL, E_UNAVAILABLE. */
export declare class BackupError extends Error {
  code: string;
}

export interface ProgressEvent {
  phase?: string;
  raw?: number;
  stored?: number;
  total?: number | null;
}

export interface DatabaseOptions {
  /** postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig, DATABASE_URL, PG*. */
  databaseUrl?: string;
  /** Backstage app-config files to find the database in. */
  appConfig?: string[];
  /** With appConfig: which plugin's database (default catalog). */
  plugin?: string;
}

export interface Operation {
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface BackupOptions extends DatabaseOptions, Operation {
  trigger?: 'scheduled' | 'manual' | 'pre-upgrade' | 'safety';
  by?: string;
  labels?: Record<string, string>;
  level?: number;
  threads?: number;
}

export interface RestoreOptions extends DatabaseOptions, Operation {
  clean?: boolean;
  safetyBackup?: boolean;
}

export interface PruneOptions {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** e.g. '30d' */
  keepWithin?: string;
  dryRun?: boolean;
  grace?: string;
}

export interface HealthOptions {
  maxAge?: string;
  verifyMaxAge?: string;
  drillMaxAge?: string;
}

export interface BackupSummary {
  id: string;
  name: string;
  status: 'complete' | 'incomplete' | 'legacy';
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
}

export declare class Engine {
  constructor(options?: { store?: string; compressionLevel?: number });
  readonly kind: 'native' | 'wasm';
  readonly store: string;
  /** Resolves to the manifest (camelCase). */
  backup(options?: BackupOptions): Promise<any>;
  /** Newest first. */
  list(): Promise<BackupSummary[]>;
  verify(selector?: string, options?: Operation): Promise<any>;
  restore(selector: string, options?: RestoreOptions): Promise<any>;
  drill(selector?: string, options?: DatabaseOptions & { signal?: AbortSignal }): Promise<any>;
  prune(options: PruneOptions): Promise<any>;
  health(options?: HealthOptions): Promise<any>;
}
