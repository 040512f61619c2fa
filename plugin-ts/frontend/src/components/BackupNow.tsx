import React, { useState } from 'react';
import { Box, Button, Typography } from '@material-ui/core';
import BackupIcon from '@material-ui/icons/Backup';
import { StatusError, StatusOK } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { Job } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from '../api';
import { describeError, describeJobError, formatBytes, formatDuration } from '../format';
import { MISSING_PERMISSION } from '../hooks/useBackupPermissions';
import { JobProgress } from './JobProgress';
import { ReasonTooltip } from './ReasonTooltip';

export interface BackupNowProps {
  permitted: boolean;
  /** The newest backup job this page follows (running, or finished since the page opened). */
  job?: Job;
  onStarted(jobId: string): void;
}

/** The **Back up catalog** button, the live progress of the backup and its outcome in words. */
export function BackupNow({ permitted, job, onStarted }: BackupNowProps) {
  const api = useApi(backupApiRef);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string>();
  const running = job?.status === 'running';

  const start = async () => {
    setStarting(true);
    setStartError(undefined);
    try {
      const { jobId } = await api.startBackup();
      onStarted(jobId);
    } catch (error) {
      setStartError(describeError(error));
    } finally {
      setStarting(false);
    }
  };

  let reason: string | undefined;
  if (!permitted) reason = MISSING_PERMISSION.create;
  else if (running) reason = 'A backup is running; wait for it to finish';

  return (
    <Box mb={2} data-testid="backup-now">
      <ReasonTooltip reason={reason}>
        <Button
          variant="contained"
          color="primary"
          startIcon={<BackupIcon />}
          disabled={!permitted || running || starting}
          onClick={start}
        >
          Back up catalog
        </Button>
      </ReasonTooltip>
      <Box mt={1}>
        {startError && (
          <Typography variant="body2" role="alert" data-testid="backup-start-error">
            <StatusError>Could not start the backup: {startError}</StatusError>
          </Typography>
        )}
        {job && running && <JobProgress job={job} />}
        {job?.status === 'succeeded' && (
          <Typography variant="body2" data-testid="backup-outcome">
            <StatusOK>
              Backup {job.backupId} done: {formatBytes(job.bytes)} stored in{' '}
              {formatDuration((job.durationMs ?? 0) / 1000)}.
            </StatusOK>
          </Typography>
        )}
        {job?.status === 'failed' && (
          <Typography variant="body2" role="alert" data-testid="backup-outcome">
            <StatusError>Backup failed. {describeJobError(job.error)}</StatusError>
          </Typography>
        )}
      </Box>
    </Box>
  );
}
