import React, { useState } from 'react';
import { Box, Button, Chip, TableCell, TableRow, Tooltip, Typography } from '@material-ui/core';
import { StatusError, StatusOK, StatusPending } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { BackupSummary, Job, StartJobResponse } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from '../api';
import {
  describeError,
  describeJobError,
  entitySummary,
  formatAge,
  formatBytes,
  formatDuration,
  formatTime,
} from '../format';
import type { BackupPermissions } from '../hooks/useBackupPermissions';
import { MISSING_PERMISSION } from '../hooks/useBackupPermissions';
import { DownloadButton } from './DownloadButton';
import { JobProgress } from './JobProgress';
import { ReasonTooltip } from './ReasonTooltip';
import { RestoreDialog } from './RestoreDialog';

const COLUMNS = 8;

/** ✓ with when, ✗ with when, or "never": for the verified and drilled columns. */
function CheckMark({ at, ok, what }: { at: string | null; ok: boolean | null; what: string }) {
  if (!at) return <StatusPending>never</StatusPending>;
  const title = `${what} ${ok ? 'passed' : 'FAILED'} ${formatTime(at)}`;
  return (
    <Tooltip title={title}>
      <span aria-label={title}>
        {ok ? <StatusOK>{formatAge(at)}</StatusOK> : <StatusError>failed {formatAge(at)}</StatusError>}
      </span>
    </Tooltip>
  );
}

const DONE: Record<Job['kind'], string> = {
  backup: 'Backup finished',
  verify: 'Verify passed',
  drill: 'Restore drill passed',
  restore: 'Restore finished',
  prune: 'Prune finished',
};

function JobOutcome({ job }: { job: Job }) {
  if (job.status === 'running') return <JobProgress job={job} />;
  if (job.status === 'failed') {
    return (
      <Typography variant="body2" role="alert">
        <StatusError>
          {job.kind === 'drill' ? 'Restore drill' : job.kind[0].toUpperCase() + job.kind.slice(1)} failed.{' '}
          {describeJobError(job.error)}
        </StatusError>
      </Typography>
    );
  }
  return (
    <Typography variant="body2">
      <StatusOK>
        {DONE[job.kind]} in {formatDuration((job.durationMs ?? 0) / 1000)}
        {job.kind === 'restore' ? ' (a safety backup of the previous catalog was taken first)' : ''}.
      </StatusOK>
    </Typography>
  );
}

export interface BackupRowProps {
  backup: BackupSummary;
  permissions: BackupPermissions;
  /** The newest job this page follows for this backup (verify, drill or restore). */
  job?: Job;
  onStarted(jobId: string): void;
}

/** One backup and what can be done with it. */
export function BackupRow({ backup, permissions, job, onStarted }: BackupRowProps) {
  const api = useApi(backupApiRef);
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const [starting, setStarting] = useState(false);
  const entities = entitySummary(backup.entities);
  // A backup the configured signing key refuses cannot be verified, drilled, downloaded or restored.
  const refused = backup.signature === 'invalid';
  const usable = (backup.status === 'complete' || backup.status === 'legacy') && !refused;
  const busy = starting || job?.status === 'running';

  const start = async (what: string, call: () => Promise<StartJobResponse>) => {
    setStarting(true);
    setError(undefined);
    try {
      onStarted((await call()).jobId);
    } catch (e) {
      setError(`Could not start the ${what}: ${describeError(e)}`);
    } finally {
      setStarting(false);
    }
  };

  let jobReason: string | undefined;
  if (!permissions.create) jobReason = MISSING_PERMISSION.create;
  else if (refused) jobReason = 'Its signature is refused: it was not signed by the configured key';
  else if (!usable) jobReason = 'This backup is incomplete: it was never finished and cannot be used';
  else if (busy) jobReason = 'A job on this backup is running';

  return (
    <>
      <TableRow data-testid={`backup-row-${backup.id}`} data-backup-id={backup.id}>
        <TableCell>
          <Typography variant="body2" style={{ fontFamily: 'monospace' }}>
            {backup.name}
          </Typography>
          {backup.status !== 'complete' && <Chip size="small" label={backup.status} />}
          {backup.problem && (
            <Typography variant="caption" color="error" component="div">
              {backup.problem}
            </Typography>
          )}
          {backup.signature === 'invalid' && (
            <Typography variant="caption" color="error" component="div" data-testid="signature-refused">
              Signature refused: {backup.signatureProblem ?? 'not signed by the configured key'}
            </Typography>
          )}
        </TableCell>
        <TableCell>
          <div>{formatTime(backup.createdAt)}</div>
          <Typography variant="caption" color="textSecondary">
            {formatAge(backup.createdAt)}
          </Typography>
        </TableCell>
        <TableCell align="right">{formatBytes(backup.bytes)}</TableCell>
        <TableCell data-testid="entity-counts">
          {entities ? (
            <>
              <div>{entities.total.toLocaleString('en-US')} entities</div>
              <Typography variant="caption" color="textSecondary">
                {entities.byKind}
              </Typography>
            </>
          ) : (
            '—'
          )}
        </TableCell>
        <TableCell style={{ whiteSpace: 'nowrap' }}>{backup.trigger ?? '—'}</TableCell>
        <TableCell data-testid="verified-mark" style={{ whiteSpace: 'nowrap' }}>
          <CheckMark at={backup.verifiedAt} ok={backup.verifiedOk} what="Verify" />
        </TableCell>
        <TableCell data-testid="drilled-mark" style={{ whiteSpace: 'nowrap' }}>
          <CheckMark at={backup.drilledAt} ok={backup.drilledOk} what="Restore drill" />
        </TableCell>
        <TableCell>
          <Box display="flex" flexWrap="wrap" style={{ gap: 4 }}>
            <ReasonTooltip reason={jobReason}>
              <Button size="small" disabled={!!jobReason} onClick={() => start('verification', () => api.verify(backup.id))}>
                Verify
              </Button>
            </ReasonTooltip>
            <ReasonTooltip reason={jobReason}>
              <Button size="small" disabled={!!jobReason} onClick={() => start('restore drill', () => api.drill(backup.id))}>
                Run restore drill
              </Button>
            </ReasonTooltip>
            <DownloadButton backupId={backup.id} disabled={!usable} onError={setError} />
            {permissions.restore && (
              <ReasonTooltip reason={refused ? 'Its signature is refused: it was not signed by the configured key' : !usable ? 'This backup is incomplete and cannot be restored' : busy ? 'A job on this backup is running' : undefined}>
                <Button size="small" color="secondary" disabled={!usable || busy} onClick={() => setConfirming(true)}>
                  Restore
                </Button>
              </ReasonTooltip>
            )}
          </Box>
        </TableCell>
      </TableRow>
      {(job || error) && (
        <TableRow data-testid={`backup-job-${backup.id}`}>
          <TableCell colSpan={COLUMNS}>
            {error && (
              <Typography variant="body2" role="alert">
                <StatusError>{error}</StatusError>
              </Typography>
            )}
            {job && <JobOutcome job={job} />}
          </TableCell>
        </TableRow>
      )}
      {permissions.restore && (
        <RestoreDialog
          backup={backup}
          open={confirming}
          onClose={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            start('restore', () => api.restore(backup.id, backup.id));
          }}
        />
      )}
    </>
  );
}
