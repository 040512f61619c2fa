import { usePermission } from '@backstage/plugin-permission-react';
import {
  backupCreatePermission,
  backupReadPermission,
  backupRestorePermission,
} from '@backstage-backup/plugin-backup-common';

export interface BackupPermissions {
  loading: boolean;
  /** See backups, jobs and health; download. */
  read: boolean;
  /** Start a backup, a verification or a restore drill. */
  create: boolean;
  /** Restore over the live catalog. */
  restore: boolean;
}

/** The three backup permissions of the signed-in user, as the permission framework decides them. */
export function useBackupPermissions(): BackupPermissions {
  const read = usePermission({ permission: backupReadPermission });
  const create = usePermission({ permission: backupCreatePermission });
  const restore = usePermission({ permission: backupRestorePermission });
  return {
    loading: read.loading || create.loading || restore.loading,
    read: read.allowed,
    create: create.allowed,
    restore: restore.allowed,
  };
}

/** The tooltip on a control the user may not use. */
export const MISSING_PERMISSION: Record<'create' | 'restore', string> = {
  create: 'You need the backup.create permission to start backups, verifications and restore drills',
  restore: 'You need the backup.restore permission to restore a backup',
};
