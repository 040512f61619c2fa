// Generated from backstage-backup-core's Rust types by scripts/generate-types.sh: do not
// edit. Field names are camelCase, as both Node engines return them; keys of label and
// entity maps are data and keep their spelling.

/** A stable failure class (core's `ErrorKind`); the CLI maps the same classes to exit codes. `E_UNAVAILABLE`: the engine, or a feature of it, is not available here. */
export type ErrorCode = "E_INVALID" | "E_NOT_FOUND" | "E_EXISTS" | "E_INTEGRITY" | "E_LOCKED" | "E_PG_DUMP" | "E_STORE" | "E_ABORTED" | "E_INTERNAL" | "E_UNAVAILABLE";

/**
 * Why an operation failed, where code acts on the reason and not only on the [`ErrorKind`].
 * Not a public code: front ends still report the kind's code; the cause decides what this
 * tool does (retry, which advice to give). The engines pass it on as `BackupError.reason`
 * (`deadlock`, `no-space`, …) for callers that act on it.
 */
export type ErrorReason = "deadlock" | "no-space" | "no-database-given" | "no-credentials";

/**
 * S3 credentials as the engines take them.
 */
export type S3CredentialsObject = { accessKeyId: string, secretAccessKey: string, sessionToken?: string, };

/**
 * The store as an object (the Backstage plugin's `backup.store`); the S3 settings are the
 * s3:// URL's parameters, said as fields.
 */
export type StoreObject = { 
/**
 * A folder, file://PATH or s3://bucket/prefix (parameters allowed).
 */
url: string, region?: string, endpoint?: string, forcePathStyle?: boolean, sse?: string, kmsKeyId?: string, 
/**
 * S3 credentials instead of the standard AWS chain. Never logged or echoed in errors.
 */
credentials?: S3CredentialsObject, };

/**
 * Which database an engine's operation means (JSON, camelCase): Backstage's configuration
 * already read (`appConfigJson`), else `databaseUrl`, app-config files, `DATABASE_URL`, the
 * `PG*` variables. Other fields of the request are the operation's own.
 */
export type DatabaseOptions = { 
/**
 * postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig,
 * DATABASE_URL, PG*.
 */
databaseUrl?: string, 
/**
 * Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`,
 * `$file`).
 */
appConfig?: Array<string>, 
/**
 * Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`):
 * the database is derived from it as Backstage does.
 */
appConfigJson?: string, 
/**
 * With appConfig or appConfigJson: which plugin's database (default `catalog`).
 */
plugin?: string, };

/**
 * A backup as the engines ask for it (JSON, camelCase), each value checked by `options`; the
 * database is the call's other part (`engine_options::BackupCallOptions`).
 */
export type BackupRequest = { 
/**
 * gzip level 1-9; default the engine's `compressionLevel`.
 */
level?: number, 
/**
 * Why it is taken (default `manual`).
 */
trigger?: TriggerKind, 
/**
 * Who asked for it (a user entity ref), recorded in the manifest.
 */
by?: string, 
/**
 * Keys: 1-63 letters, digits, '-', '_', '.', '/'; values: one line, at most 256 characters.
 */
labels?: { [key in string]: string }, 
/**
 * The plugin id the backup is named after (default: the database's plugin).
 */
pluginId?: string, 
/**
 * Compression threads, 0 = one per core (at most 4 in the WebAssembly engine, which
 * compresses on worker threads). Either way the output is one standard gzip stream.
 */
threads?: number, };

/**
 * `engine.backup(options)`.
 */
export type BackupOptions = { 
/**
 * postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig,
 * DATABASE_URL, PG*.
 */
databaseUrl?: string, 
/**
 * Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`,
 * `$file`).
 */
appConfig?: Array<string>, 
/**
 * Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`):
 * the database is derived from it as Backstage does.
 */
appConfigJson?: string, 
/**
 * With appConfig or appConfigJson: which plugin's database (default `catalog`).
 */
plugin?: string, 
/**
 * gzip level 1-9; default the engine's `compressionLevel`.
 */
level?: number, 
/**
 * Why it is taken (default `manual`).
 */
trigger?: TriggerKind, 
/**
 * Who asked for it (a user entity ref), recorded in the manifest.
 */
by?: string, 
/**
 * Keys: 1-63 letters, digits, '-', '_', '.', '/'; values: one line, at most 256 characters.
 */
labels?: { [key in string]: string }, 
/**
 * The plugin id the backup is named after (default: the database's plugin).
 */
pluginId?: string, 
/**
 * Compression threads, 0 = one per core (at most 4 in the WebAssembly engine, which
 * compresses on worker threads). Either way the output is one standard gzip stream.
 */
threads?: number, };

/**
 * `engine.restore(selector, options)`.
 */
export type RestoreOptions = { 
/**
 * Replace a target that holds tables (inside the restore's one transaction).
 */
clean?: boolean, 
/**
 * Before `clean` replaces anything, back the target up into the store (default true).
 */
safetyBackup?: boolean, 
/**
 * postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig,
 * DATABASE_URL, PG*.
 */
databaseUrl?: string, 
/**
 * Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`,
 * `$file`).
 */
appConfig?: Array<string>, 
/**
 * Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`):
 * the database is derived from it as Backstage does.
 */
appConfigJson?: string, 
/**
 * With appConfig or appConfigJson: which plugin's database (default `catalog`).
 */
plugin?: string, };

/**
 * `engine.drill(selector, options)`: `databaseUrl` (or app-config) names the server the
 * scratch database is made on.
 */
export type DrillOptions = { 
/**
 * postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig,
 * DATABASE_URL, PG*.
 */
databaseUrl?: string, 
/**
 * Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`,
 * `$file`).
 */
appConfig?: Array<string>, 
/**
 * Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`):
 * the database is derived from it as Backstage does.
 */
appConfigJson?: string, 
/**
 * With appConfig or appConfigJson: which plugin's database (default `catalog`).
 */
plugin?: string, };

/**
 * What to keep; one struct serves the library, CLI flags and config files. A backup is kept
 * if any rule keeps it. `Some(0)` is a rule that keeps nothing; `None` is no rule.
 * JSON (the engines' prune options, the plugin's `backup.retention`) is camelCase.
 */
export type RetentionPolicy = { 
/**
 * Keep the N newest backups.
 */
keepLast?: number, 
/**
 * Keep the newest backup of each of the N newest UTC days that have one.
 */
keepDaily?: number, 
/**
 * Keep the newest backup of each of the N newest ISO weeks that have one.
 */
keepWeekly?: number, 
/**
 * Keep the newest backup of each of the N newest UTC months that have one.
 */
keepMonthly?: number, 
/**
 * Keep every backup younger than this (e.g. 30d, 2w, 36h).
 */
keepWithin?: string, };

/**
 * A prune as the engines ask for it (JSON, camelCase): the retention policy's own fields
 * (core's `RetentionPolicy`, declared once), `dryRun` and `grace`. One parser for napi and wasm.
 */
export type PruneOptions = { 
/**
 * Report every decision, delete nothing.
 */
dryRun?: boolean, 
/**
 * Unfinished backups younger than this are left alone (default `1d`).
 */
grace?: string, 
/**
 * Keep the N newest backups.
 */
keepLast?: number, 
/**
 * Keep the newest backup of each of the N newest UTC days that have one.
 */
keepDaily?: number, 
/**
 * Keep the newest backup of each of the N newest ISO weeks that have one.
 */
keepWeekly?: number, 
/**
 * Keep the newest backup of each of the N newest UTC months that have one.
 */
keepMonthly?: number, 
/**
 * Keep every backup younger than this (e.g. 30d, 2w, 36h).
 */
keepWithin?: string, };

/**
 * Health's options as every front end takes them (the CLI's flags, the engines' `health({…})`),
 * parsed and checked once here: durations such as `26h`, ratios as positive numbers.
 */
export type HealthOptions = { 
/**
 * The RPO: the newest complete backup must be younger (default `26h`).
 */
maxAge?: string, 
/**
 * Some backup must have passed verify within this (default `8d`).
 */
verifyMaxAge?: string, 
/**
 * Some backup must have passed a drill within this (default `35d`).
 */
drillMaxAge?: string, 
/**
 * Warn when the newest backup is smaller than this fraction of the recent median
 * (default 0.5).
 */
sizeDrop?: number, 
/**
 * Warn when the newest backup is larger than this multiple of the recent median
 * (default 2).
 */
sizeGrowth?: number, };

/**
 * The stage an operation is in.
 */
export type Phase = "connecting" | "dumping" | "uploading" | "finalizing" | "reading" | "verifying" | "restoring" | "committing" | "comparing" | "cleaning" | "done";

/**
 * Bytes moved so far: the dump side (`raw`) and the stored, compressed side (`stored`).
 * `total` is the stored object's size when known (verify, restore).
 */
export type Bytes = { raw: number, stored: number, total: number | null, };

/**
 * A progress event as the engines hand it to JavaScript: `{phase}` when a stage starts,
 * `{raw, stored, total}` about once per MiB.
 */
export type ProgressEvent = { phase: Phase, } | Bytes;

export type Digest = { bytes: number, sha256: string, };

export type DatabaseInfo = { 
/**
 * Database name, e.g. `backstage_plugin_catalog`.
 */
name: string, 
/**
 * Backstage plugin id the database belongs to, e.g. `catalog`.
 */
pluginId: string, 
/**
 * Host and port only; never credentials.
 */
host?: string | null, schema?: string | null, serverVersion?: string | null, pgDumpVersion?: string | null, 
/**
 * Name of the newest applied knex migration: what schema version a restore brings back.
 */
latestMigration?: string | null, };

export type Compression = { algorithm: string, level: number, };

export type TriggerKind = "scheduled" | "manual" | "pre-upgrade" | "safety";

/**
 * Why a backup was taken.
 */
export type Trigger = { kind: TriggerKind, 
/**
 * Who asked for it (a user entity ref or a login), for manual backups.
 */
by?: string | null, };

/**
 * The `signature` member of a manifest.
 */
export type ManifestSignature = { algorithm: string, 
/**
 * First 8 bytes of the SHA-256 of the public key, in hex: which key signed, for messages.
 */
keyId: string, 
/**
 * The 64-byte Ed25519 signature, in hex.
 */
value: string, };

export type Manifest = { format: string, id: string, 
/**
 * The data object's name, relative to the store prefix.
 */
name: string, database: DatabaseInfo, createdAt: string, finishedAt: string, toolVersion: string, compression: Compression, raw: Digest, compressed: Digest, 
/**
 * Catalog entities by lowercase kind, read in the dump's own snapshot.
 */
entities?: { [key in string]: number } | null, trigger: Trigger, labels?: { [key in string]: string }, 
/**
 * Ed25519 signature over every other field (`signing`): present when the writer held a key.
 */
signature?: ManifestSignature | null, };

export type BackupStatus = "complete" | "incomplete" | "damaged" | "legacy";

/**
 * A backup's signature as `list` reports it, without the detail `SignatureState` carries.
 */
export type SignatureStatus = "unsigned" | "signed" | "valid" | "invalid";

/**
 * One backup as `list` shows it (the fields keep this order in `list --json`).
 */
export type BackupSummary = { 
/**
 * `valid`: signed by the configured key; `invalid`: it is not (the backup is refused, see
 * `signature_problem`); `signed`: signed, and no key is configured to check it; `unsigned`.
 */
signature: SignatureStatus, signatureProblem: string | null, id: string, 
/**
 * The data object's key, e.g. `backstage-catalog-20261125_020000.sql.gz`.
 */
name: string, status: BackupStatus, createdAt: string, bytes: number | null, 
/**
 * Catalog entities by lowercase kind, from the manifest.
 */
entities: { [key in string]: number } | null, verifiedAt: string | null, verifiedOk: boolean | null, drilledAt: string | null, drilledOk: boolean | null, trigger: TriggerKind | null, labels: { [key in string]: string }, 
/**
 * Why an incomplete or damaged backup is not usable.
 */
problem: string | null, 
/**
 * Which Backstage plugin's database, e.g. `catalog` (from the id, parsed once here).
 */
pluginId: string, };

/**
 * A backup id taken apart (`engine.parseBackupId`): the Backstage plugin parses ids with core.
 */
export type BackupIdParts = { id: string, 
/**
 * Which Backstage plugin's database, e.g. `catalog`.
 */
pluginId: string, takenAt: string, };

/**
 * A backup opened for reading its stored `.sql.gz` (`engine.openRead`; the JS side adds the
 * chunks).
 */
export type OpenedBackup = { id: string, 
/**
 * The data object's file name, e.g. `backstage-catalog-20261125_020000.sql.gz`.
 */
fileName: string, 
/**
 * Its stored (compressed) size.
 */
bytes: number, summary: BackupSummary, };

/**
 * What verification found in a stream.
 */
export type StreamCheck = { raw: Digest, compressed: Digest, completionLine: boolean, };

export type VerifyReport = { id: string, name: string, status: BackupStatus, ok: boolean, problems: Array<string>, check: StreamCheck | null, durationMs: number, verifiedAt: string, };

export type RestoreReport = { id: string, database: string, host: string, 
/**
 * The target database did not exist and was created.
 */
createdDatabase: boolean, 
/**
 * Id of the safety backup taken before a `clean` restore.
 */
safetyBackup: string | null, 
/**
 * Wall time from start to commit: the recovery time actually achieved.
 */
durationMs: number, restoredAt: string, bytes: number, 
/**
 * Catalog entities found in the target after the restore.
 */
entities: { [key in string]: number } | null, 
/**
 * What the manifest says the backup holds.
 */
expectedEntities: { [key in string]: number } | null, };

export type DrillReport = { id: string, ok: boolean, problems: Array<string>, scratchDatabase: string, host: string, 
/**
 * Time to restore into the scratch database: the recovery time this backup gives.
 */
restoreMs: number, durationMs: number, drilledAt: string, expectedEntities: { [key in string]: number } | null, entities: { [key in string]: number } | null, };

/**
 * What prune does with one backup, and why.
 */
export type Decision = { id: string, group: string, takenAt: string, keep: boolean, 
/**
 * Every rule that keeps the backup, e.g. `["last 3", "daily 2026-11-25"]`; empty when
 * it is deleted.
 */
reasons: Array<string>, };

export type Leftovers = { 
/**
 * Keys whose unfinished uploads were discarded.
 */
abortedUploads: Array<string>, 
/**
 * Ids of never-finished backups whose objects were deleted.
 */
removedBackups: Array<string>, };

export type PruneReport = { dryRun: boolean, 
/**
 * One decision per complete backup, with the reasons each kept one is kept.
 */
decisions: Array<Decision>, 
/**
 * Ids deleted (or, in a dry run, that would be).
 */
deleted: Array<string>, freedBytes: number, 
/**
 * Legacy backups: not made by this tool, so never pruned.
 */
untouched: Array<string>, leftovers: Leftovers, };

export type HealthStatus = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

export type HealthCheck = { name: string, status: HealthStatus, message: string, };

export type LastBackup = { id: string, createdAt: string, ageSeconds: number, bytes: number | null, entities: number | null, };

export type LastCheck = { id: string, at: string, ok: boolean, durationMs: number, };

export type HealthReport = { status: HealthStatus, 
/**
 * One line: the worst finding, in words.
 */
summary: string, checks: Array<HealthCheck>, checkedAt: string, store: string, lastBackup: LastBackup | null, lastVerify: LastCheck | null, lastDrill: LastCheck | null, maxAgeSeconds: number, };
