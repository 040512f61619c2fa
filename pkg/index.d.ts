// Types of @backstage-backup/engine. Both engines (native addon, WebAssembly) implement this one
// surface. Every option, result, progress event and error code is declared in
// types.generated.d.ts, generated from the Rust types both engines use (scripts/generate-types.sh;
// a test fails while it is out of date); only the Engine class, implemented in index.js, is
// declared here, in those terms.
import type {
  BackupIdParts,
  BackupOptions,
  BackupSummary,
  DrillOptions,
  DrillReport,
  ErrorCode,
  ErrorReason,
  HealthOptions,
  HealthReport,
  Manifest,
  OpenedBackup,
  ProgressEvent,
  PruneOptions,
  PruneReport,
  RestoreOptions,
  RestoreReport,
  S3CredentialsObject,
  StoreObject,
  VerifyReport,
} from './types.generated';

export * from './types.generated';

/** Every failure of either engine. Messages say what to fix and never contain a password. */
export declare class BackupError extends Error {
  readonly name: 'BackupError';
  readonly code: ErrorCode;
  /** What caused it, where code acts on that (core's `Cause`): e.g. `no-space`, `no-credentials`. */
  readonly reason?: ErrorReason;
}

/** What every long operation takes besides its options (JS values, not data). */
export interface Operation {
  /** Called with progress; an exception thrown by it is ignored. */
  onProgress?: (event: ProgressEvent) => void;
  /** Stops the operation promptly; it rejects with E_ABORTED and leaves nothing partial behind. */
  signal?: AbortSignal;
}

export interface EngineOptions {
  /**
   * A folder, file://PATH or s3://bucket/prefix?region=…&endpoint=…, or the same as an object
   * (the Backstage plugin's `backup.store`); default BACKSTAGE_BACKUP_STORE, else ./backups.
   * Read by core: a wrong store fails each operation with E_INVALID.
   */
  store?: string | StoreObject;
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
  s3Credentials?: S3CredentialsObject;
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
  readonly store: string | StoreObject;
  /** Where the store is, safe to show; throws E_INVALID when the store is wrong. */
  describeStore(): string;
  /** Takes a backup (one consistent snapshot, streamed, manifest written last). */
  backup(options?: BackupOptions & Operation): Promise<Manifest>;
  /** Backups in the store, newest first. */
  list(): Promise<BackupSummary[]>;
  /** Re-reads a backup (`latest` or an id): SHA-256, full gunzip, completion line; records the outcome. */
  verify(selector?: string, options?: Operation): Promise<VerifyReport>;
  /** Restores in one transaction that commits only when every check passed. */
  restore(selector: string, options?: RestoreOptions & Operation): Promise<RestoreReport>;
  /** Restores into a scratch database on the server `databaseUrl` names, compares entity counts, drops it. */
  drill(selector?: string, options?: DrillOptions & Pick<Operation, 'signal'>): Promise<DrillReport>;
  /** A backup id taken apart by core; throws E_INVALID for anything that is not exactly an id. */
  parseBackupId(id: string): BackupIdParts;
  /** Checks prune options without touching the store; throws E_INVALID naming what is wrong. */
  checkPrune(options: PruneOptions): void;
  /** Applies a retention policy (at least one keep rule). */
  prune(options: PruneOptions): Promise<PruneReport>;
  /** The newest backup's age against the RPO, size anomalies, the last verify and drill. */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** Opens a backup's stored `.sql.gz`; `chunks` yields it a Buffer at a time (back-pressure). */
  openRead(selector?: string): Promise<OpenedBackup & { chunks: AsyncIterable<Buffer> }>;
}

/**
 * Which engine `new Engine()` would use here, and why (for a start-up log line): the native
 * addon where its platform package (or a checkout's own build) loads, else the WebAssembly
 * engine, with the reason the native one did not load. Throws E_UNAVAILABLE when neither does.
 */
export declare function engineChoice(requested?: 'native' | 'wasm' | 'auto'): { kind: 'native' | 'wasm'; reason: string };
