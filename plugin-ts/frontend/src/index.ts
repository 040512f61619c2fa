/**
 * The Backups page of backstage-backup: health, the Back up catalog button, and every backup with
 * verify, restore drill, download and (for the few allowed) restore.
 *
 * @packageDocumentation
 */
export { backupPlugin, BackupPage } from './plugin';
export { BackupContent } from './components/BackupPage';
export { backupApiRef } from './api';
export type { BackupApi } from './api';
export { rootRouteRef as backupRouteRef } from './routes';
