import { createApiRef } from '@backstage/core-plugin-api';
import type { BackupClient } from '@backstage-backup/plugin-backup-common';

/**
 * What the Backups page needs from the backend: the typed client of `plugin-backup-common`.
 * Apps may register their own implementation (a test double, a proxy) under {@link backupApiRef}.
 */
export type BackupApi = Pick<
  BackupClient,
  | 'listBackups'
  | 'getBackup'
  | 'startBackup'
  | 'verify'
  | 'drill'
  | 'restore'
  | 'getJob'
  | 'listJobs'
  | 'health'
  | 'downloadUrl'
>;

/** The backup plugin's API; the plugin registers a {@link BackupClient} built on fetchApi and discoveryApi. */
export const backupApiRef = createApiRef<BackupApi>({ id: 'plugin.backup.api' });
