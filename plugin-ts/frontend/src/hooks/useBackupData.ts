import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { BackupSummary, HealthResponse } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from '../api';

export interface BackupData {
  backups: BackupSummary[] | undefined;
  health: HealthResponse | undefined;
  /** The list and the health report load apart: one failing does not hide the other. */
  backupsError: unknown;
  healthError: unknown;
  loading: boolean;
  refresh(): void;
}

/** Loads the backup list and the health report, again on `refresh()` (after every job). */
export function useBackupData(enabled: boolean): BackupData {
  const api = useApi(backupApiRef);
  const [backups, setBackups] = useState<BackupSummary[]>();
  const [health, setHealth] = useState<HealthResponse>();
  const [backupsError, setBackupsError] = useState<unknown>();
  const [healthError, setHealthError] = useState<unknown>();
  const [loading, setLoading] = useState(enabled);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    if (!enabled) return;
    const mine = ++latest.current;
    const current = () => mine === latest.current;
    setLoading(true);
    Promise.allSettled([
      api.listBackups().then(
        r => current() && (setBackups(r.items), setBackupsError(undefined)),
        e => current() && setBackupsError(e),
      ),
      api.health().then(
        r => current() && (setHealth(r), setHealthError(undefined)),
        e => current() && setHealthError(e),
      ),
    ]).then(() => current() && setLoading(false));
  }, [api, enabled, generation]);

  const refresh = useCallback(() => setGeneration(g => g + 1), []);
  return { backups, health, backupsError, healthError, loading, refresh };
}
