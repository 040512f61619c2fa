// Types of @backstage-backup/engine. Both engines (native addon, WebAssembly) implement this one
// surface; results are the CLI's `--json` shapes with camelCase names (label names and entity
// kinds are data and keep their spelling).

/** A stable failure class; the CLI maps the same classes to exit codes. */
export type ErrorCode =
  /** Bad input: an option, URL, id, duration or label that cannot be used as given. */
  | 'E_INVALID'
  /** The backup, object or database does not exist. */
  | 'E_NOT_FOUND'
  /** The target holds something the operation refuses to overwrite (restore without `clean`). */
  | 'E_EXISTS'
  /** A backup is damaged or unfinished: hash mismatch, truncated, not gzip, no completion line. */
  | 'E_INTEGRITY'
  /** Another backup, restore or prune of the same database or store is running. */
  | 'E_LOCKED'
  /** pg_dump, psql or the database failed or could not be reached. */
  | 'E_PG_DUMP'
  /** The backup store failed or could not be reached. */
  | 'E_STORE'
  /** The AbortSignal fired; what was written was removed. */
  | 'E_ABORTED'
  /** A bug or an unexpected condition. */
  | 'E_INTERNAL'
  /** The engine, or this feature in this engine, is not available (see `Engine.kind`). */
  | 'E_UNAVAILABLE';

/** Every failure of either engine. Messages say what to fix and never contain a password. */
export declare class BackupError extends Error {
  readonly name: 'BackupError';
  readonly code: ErrorCode;
}

/** `{phase}` when a stage starts, `{raw, stored, total}` about once per MiB. */
export interface ProgressEvent {
  phase?: 'connecting' | 'dumping' | 'uploading' | 'finalizing' | 'reading' | 'verifying' | 'restoring' | 'committing' | 'comparing' | 'cleaning' | 'done';
  /** Plain SQL bytes so far. */
  raw?: number;
  /** Compressed (stored) bytes so far. */
  stored?: number;
  /** The stored object's size, when known (verify, restore). */
  total?: number | null;
}

export interface DatabaseOptions {
  /** postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig, DATABASE_URL, PG*. */
  databaseUrl?: string;
  /** Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`, `$file`). */
  appConfig?: string[];
  /** Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`): the database is derived from it as Backstage does. */
  appConfigJson?: string;
  /** With appConfig or appConfigJson: which plugin's database (default catalog). */
  plugin?: string;
}

export interface Operation {
  /** Called with progress; an exception thrown by it is ignored. */
  onProgress?: (event: ProgressEvent) => void;
  /** Stops the operation promptly; it rejects with E_ABORTED and leaves nothing partial behind. */
  signal?: AbortSignal;
}

export interface BackupOptions extends DatabaseOptions, Operation {
  trigger?: 'scheduled' | 'manual' | 'pre-upgrade' | 'safety';
  /** Who asked for it (a user entity ref), recorded in the manifest. */
  by?: string;
  /** Keys: 1-63 letters, digits, '-', '_', '.', '/'; values: one line, at most 256 characters. */
  labels?: Record<string, string>;
  /** gzip level 1-9; default the engine's `compressionLevel`. */
  level?: number;
  /** Compression threads, 0 = one per core (at most 4 in the WebAssembly engine, which compresses on worker threads). Either way the output is one standard gzip stream. */
  threads?: number;
}

export interface RestoreOptions extends DatabaseOptions, Operation {
  /** Replace a target that holds tables (inside the restore's one transaction). */
  clean?: boolean;
  /** Before `clean` replaces anything, back the target up into the store (default true). */
  safetyBackup?: boolean;
}

export interface PruneOptions {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  /** e.g. '30d' */
  keepWithin?: string;
  /** Print every decision, delete nothing. */
  dryRun?: boolean;
  /** Leftovers of unfinished backups younger than this are kept (default '1d'). */
  grace?: string;
}

export interface HealthOptions {
  /** The RPO: the newest complete backup must be younger (default '26h'). */
  maxAge?: string;
  /** Some backup must have passed verify within this (default '8d'). */
  verifyMaxAge?: string;
  /** Some backup must have passed a drill within this (default '35d'). */
  drillMaxAge?: string;
  /** Warn when the newest backup is smaller than this fraction of the recent median (default 0.5). */
  sizeDrop?: number;
  /** Warn when the newest backup is larger than this multiple of the recent median (default 2). */
  sizeGrowth?: number;
}

export interface Digest {
  bytes: number;
  sha256: string;
}

/** Manifest v1 (`backstage-backup/v1`), camelCased; unknown fields of newer minor versions are kept. */
export interface Manifest {
  format: string;
  /** e.g. backstage-catalog-20261125_020000 */
  id: string;
  /** The data object, e.g. backstage-catalog-20261125_020000.sql.gz */
  name: string;
  database: {
    name: string;
    pluginId: string;
    host?: string;
    schema?: string;
    serverVersion?: string;
    pgDumpVersion?: string;
    latestMigration?: string;
    [extra: string]: unknown;
  };
  createdAt: string;
  finishedAt: string;
  toolVersion: string;
  compression: { algorithm: 'gzip'; level: number; [extra: string]: unknown };
  raw: Digest;
  compressed: Digest;
  /** Catalog entities by lowercase kind, counted in the dump's own snapshot. */
  entities?: Record<string, number>;
  trigger: { kind: 'scheduled' | 'manual' | 'pre-upgrade' | 'safety'; by?: string };
  labels?: Record<string, string>;
  /** Present when the backup was signed: Ed25519 over every other field. */
  signature?: { algorithm: 'ed25519'; keyId: string; value: string };
  [extra: string]: unknown;
}

export interface BackupSummary {
  id: string;
  name: string;
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
   * `valid`: signed by the configured key; `invalid`: it is not (the backup is refused, see
   * `signatureProblem`); `signed`: signed, and no key is configured to check it; `unsigned`.
   */
  signature: 'unsigned' | 'signed' | 'valid' | 'invalid';
  signatureProblem: string | null;
}

export interface VerifyReport {
  id: string;
  name: string;
  status: BackupSummary['status'];
  ok: boolean;
  problems: string[];
  check: { raw: Digest; compressed: Digest; completionLine: boolean } | null;
  durationMs: number;
  verifiedAt: string;
}

export interface RestoreReport {
  id: string;
  database: string;
  host: string;
  createdDatabase: boolean;
  /** Id of the safety backup taken before `clean` replaced the target. */
  safetyBackup: string | null;
  /** The RTO achieved. */
  durationMs: number;
  restoredAt: string;
  bytes: number;
  entities: Record<string, number> | null;
  expectedEntities: Record<string, number> | null;
}

export interface DrillReport {
  id: string;
  ok: boolean;
  problems: string[];
  scratchDatabase: string;
  host: string;
  restoreMs: number;
  durationMs: number;
  drilledAt: string;
  expectedEntities: Record<string, number> | null;
  entities: Record<string, number> | null;
}

export interface PruneReport {
  dryRun: boolean;
  decisions: { id: string; group: string; takenAt: string; keep: boolean; reasons: string[] }[];
  deleted: string[];
  freedBytes: number;
  /** Runbook-made (legacy) backups: never pruned. */
  untouched: string[];
  leftovers: { abortedUploads: string[]; removedBackups: string[] };
}

export type HealthStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export interface HealthReport {
  status: HealthStatus;
  summary: string;
  checks: { name: string; status: HealthStatus; message: string }[];
  checkedAt: string;
  store: string;
  lastBackup: { id: string; createdAt: string; ageSeconds: number; bytes: number | null; entities: number | null } | null;
  lastVerify: { id: string; at: string; ok: boolean; durationMs: number } | null;
  lastDrill: { id: string; at: string; ok: boolean; durationMs: number } | null;
  maxAgeSeconds: number;
}

export interface EngineOptions {
  /** A folder, file://PATH or s3://bucket/prefix?region=…&endpoint=…; default BACKSTAGE_BACKUP_STORE, else ./backups. */
  store?: string;
  /** gzip level 1-9 (default 6). */
  compressionLevel?: number;
  /**
   * Which engine: default BACKSTAGE_BACKUP_ENGINE, else the native addon where it loads, else
   * WebAssembly. Asking for one that cannot load throws E_UNAVAILABLE.
   */
  engine?: 'native' | 'wasm' | 'auto';
  /**
   * S3 credentials to use instead of the standard AWS chain (environment, profile, web identity,
   * instance role), e.g. from Backstage's config. Never logged or echoed in errors.
   */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Signed backups: an Ed25519 key in PEM form, as text (`key`) or a file (`keyFile`). A private
   * key signs every backup and checks what is read; a public key only checks. With a key,
   * verify, restore, drill and openRead refuse a backup it did not sign (E_INTEGRITY), and an
   * unsigned one unless `allowUnsigned`. Never logged or echoed in errors.
   */
  signing?: { key?: string; keyFile?: string; allowUnsigned?: boolean };
}

/**
 * backstage-backup's operations. Every method settles off the event loop's critical path and
 * rejects with a BackupError.
 *
 * ```js
 * const { Engine } = require('@backstage-backup/engine');
 * const engine = new Engine({ store: './backups' });
 * const manifest = await engine.backup({ databaseUrl: 'postgresql://postgres@127.0.0.1/backstage_plugin_catalog' });
 * ```
 */
export declare class Engine {
  /** Throws E_INVALID for a bad compressionLevel or engine name, E_UNAVAILABLE when no engine loads. */
  constructor(options?: EngineOptions);
  /** The engine in use: the native addon or the WebAssembly fallback. */
  readonly kind: 'native' | 'wasm';
  readonly store: string;
  /** Takes a backup (one consistent snapshot, streamed, manifest written last). */
  backup(options?: BackupOptions): Promise<Manifest>;
  /** Backups in the store, newest first. */
  list(): Promise<BackupSummary[]>;
  /** Re-reads a backup (`latest` or an id): SHA-256, full gunzip, completion line; records the outcome. */
  verify(selector?: string, options?: Operation): Promise<VerifyReport>;
  /** Restores in one transaction that commits only when every check passed. */
  restore(selector: string, options?: RestoreOptions): Promise<RestoreReport>;
  /** Restores into a scratch database on the server `databaseUrl` names, compares entity counts, drops it. */
  drill(selector?: string, options?: DatabaseOptions & { signal?: AbortSignal }): Promise<DrillReport>;
  /** Applies a retention policy (at least one keep rule). */
  prune(options: PruneOptions): Promise<PruneReport>;
  /** The newest backup's age against the RPO, size anomalies, the last verify and drill. */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** Opens a backup's stored `.sql.gz`; `chunks` yields it a Buffer at a time (back-pressure). */
  openRead(selector?: string): Promise<{
    id: string;
    fileName: string;
    bytes: number;
    summary: BackupSummary;
    chunks: AsyncIterable<Buffer>;
  }>;
}

/**
 * Which engine `new Engine()` would use here, and why (for a start-up log line): the native
 * addon where its platform package (or a checkout's own build) loads, else the WebAssembly
 * engine, with the reason the native one did not load. Throws E_UNAVAILABLE when neither does.
 */
export declare function engineChoice(requested?: 'native' | 'wasm' | 'auto'): { kind: 'native' | 'wasm'; reason: string };
