/**
 * Backstage backend plugin for backstage-backup: `backend.add(import('@backstage-backup/plugin-backup-backend'))`.
 *
 * @packageDocumentation
 */
export { backupPlugin as default } from './plugin';
