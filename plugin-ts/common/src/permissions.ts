import { createPermission } from '@backstage/plugin-permission-common';

/** See backups, jobs and health; download a backup. */
export const backupReadPermission = createPermission({
  name: 'backup.read',
  attributes: { action: 'read' },
});

/** Start a backup, a verification or a restore drill. */
export const backupCreatePermission = createPermission({
  name: 'backup.create',
  attributes: { action: 'create' },
});

/** Restore a backup over the live database: deny by default, grant to few. */
export const backupRestorePermission = createPermission({
  name: 'backup.restore',
  attributes: { action: 'update' },
});

export const backupPermissions = [
  backupReadPermission,
  backupCreatePermission,
  backupRestorePermission,
];
