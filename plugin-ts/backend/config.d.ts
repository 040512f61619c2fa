import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  /** backstage-backup: backups of the catalog (and other plugin) databases. */
  backup?: {
    /**
     * Where backups go: a folder (default `./backups`, relative to the backend's working
     * directory) or `s3://bucket/prefix`. S3 credentials come from `credentials` when given,
     * else from the standard AWS chain (environment, profile, web identity / IRSA, instance role).
     */
    store?:
      | string
      | {
          url: string;
          region?: string;
          /** An S3-compatible endpoint, e.g. https://minio.internal:9000 */
          endpoint?: string;
          forcePathStyle?: boolean;
          /** Server-side encryption. */
          sse?: 'AES256' | 'aws:kms';
          kmsKeyId?: string;
          /** Static S3 credentials, e.g. `${BACKUP_S3_SECRET}`; prefer IRSA or an instance role. */
          credentials?: {
            accessKeyId: string;
            /** @visibility secret */
            secretAccessKey: string;
            /** @visibility secret */
            sessionToken?: string;
          };
        };
    /**
     * Signed backups (Ed25519, PEM keys from `backstage-backup keygen` or OpenSSL). With a private
     * key every backup is signed; with a key (private or public), verify, drills, restores and
     * downloads refuse a backup it did not sign, and unsigned ones unless `allowUnsigned`.
     */
    signing?: {
      /** Path of the PEM key file, e.g. a mounted Kubernetes secret. */
      keyFile?: string;
      /**
       * The PEM key itself, e.g. `${BACKUP_SIGNING_KEY}`; give keyFile or key, not both.
       * @visibility secret
       */
      key?: string;
      /** Also use unsigned backups (runbook files, backups from before signing); default false. */
      allowUnsigned?: boolean;
    };
    /** gzip level, 1 (fastest) to 9 (smallest); default 6. */
    compressionLevel?: number;
    /** When scheduled backups run (then a prune); default daily. */
    schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    /** When the newest backup is re-read and verified; default daily. */
    verifySchedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    /** When the newest backup is restored into a scratch database and checked; default weekly. */
    drillSchedule?: SchedulerServiceTaskScheduleDefinitionConfig;
    /** What prune keeps (restic semantics); default keepDaily 7, keepWeekly 4, keepMonthly 6. */
    retention?: {
      keepLast?: number;
      keepDaily?: number;
      keepWeekly?: number;
      keepMonthly?: number;
      /** e.g. 30d */
      keepWithin?: string;
    };
    /** Thresholds of the health report. */
    health?: {
      /** The RPO: the newest good backup may be this old (default 26h). */
      maxAge?: string;
      verifyMaxAge?: string;
      drillMaxAge?: string;
    };
    /**
     * Which plugin databases to back up: plugin ids (default `['catalog']`), or `all` for every
     * `backend.database.prefix` database on the server.
     */
    databases?: string[] | 'all';
  };
}
