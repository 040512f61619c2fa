import React from 'react';
import { Table, TableBody, TableCell, TableContainer, TableHead, TableRow, Typography } from '@material-ui/core';
import { EmptyState } from '@backstage/core-components';
import type { BackupSummary, Job } from '@backstage-backup/plugin-backup-common';
import type { BackupPermissions } from '../hooks/useBackupPermissions';
import { BackupRow } from './BackupRow';

export interface BackupsTableProps {
  backups: BackupSummary[];
  permissions: BackupPermissions;
  jobs: Job[];
  onStarted(jobId: string): void;
}

const HEADINGS = ['Name', 'Time', 'Size', 'Entities', 'Trigger', 'Verified', 'Drilled', 'Actions'];

/** Every backup in the store, newest first, with the jobs this page follows beside each. */
export function BackupsTable({ backups, permissions, jobs, onStarted }: BackupsTableProps) {
  if (backups.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="No backups yet"
        description={
          permissions.create
            ? 'Click Back up catalog to take the first one, or wait for the scheduled run.'
            : 'The scheduled run takes the first one; ask an admin with backup.create to take one now.'
        }
      />
    );
  }
  const sorted = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  // Jobs come newest first: the first one for a backup is the one to show.
  const jobFor = (id: string) => jobs.find(j => j.backupId === id && j.kind !== 'backup');
  return (
    <TableContainer>
      <Typography variant="h6" component="h2">
        Backups ({backups.length})
      </Typography>
      <Table size="small" aria-label="Backups, newest first">
        <TableHead>
          <TableRow>
            {HEADINGS.map(h => (
              <TableCell key={h} align={h === 'Size' ? 'right' : undefined} style={{ whiteSpace: 'nowrap' }}>
                {h}
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {sorted.map(backup => (
            <BackupRow
              key={backup.id}
              backup={backup}
              permissions={permissions}
              job={jobFor(backup.id)}
              onStarted={onStarted}
            />
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
