import React from 'react';
import { Box, LinearProgress, Typography } from '@material-ui/core';
import type { Job } from '@backstage-backup/plugin-backup-common';
import { formatBytes, formatDuration, formatRate } from '../format';

const VERBS: Record<Job['kind'], string> = {
  backup: 'Backing up',
  verify: 'Verifying',
  drill: 'Restore drill',
  restore: 'Restoring',
  prune: 'Pruning',
};

/** A running job: what it does now (phase), bytes read and stored, rate and time so far. */
export function JobProgress({ job, now = Date.now() }: { job: Job; now?: number }) {
  const { phase, rawBytes, storedBytes, bytesPerSecond } = job.progress;
  const elapsed = (now - Date.parse(job.startedAt)) / 1000;
  return (
    <Box data-testid={`job-progress-${job.kind}`} role="status" aria-live="polite">
      <LinearProgress aria-label={`${VERBS[job.kind]} in progress`} />
      <Typography variant="body2" component="div" style={{ marginTop: 4 }}>
        <strong>{VERBS[job.kind]}</strong>
        {job.trigger === 'scheduled' ? ' (scheduled)' : ''}
        {' — phase: '}
        <span data-testid="job-phase">{phase ?? 'starting'}</span>
        {' · '}
        <span data-testid="job-bytes">
          {formatBytes(rawBytes)} read, {formatBytes(storedBytes)} stored
        </span>
        {' · '}
        <span data-testid="job-rate">{formatRate(bytesPerSecond)}</span>
        {' · '}
        {formatDuration(elapsed)}
      </Typography>
    </Box>
  );
}
