import React from 'react';
import { Box, Grid, Paper, Typography, makeStyles } from '@material-ui/core';
import { StatusError, StatusOK, StatusPending, StatusWarning } from '@backstage/core-components';
import type { HealthCheck, HealthResponse, HealthStatus } from '@backstage-backup/plugin-backup-common';
import { describeError, formatAge, formatDuration, formatTime } from '../format';

const useStyles = makeStyles(theme => ({
  tile: { padding: theme.spacing(1.5, 2), height: '100%', borderLeftWidth: 6, borderLeftStyle: 'solid' },
  OK: { borderLeftColor: theme.palette.success.main },
  WARNING: { borderLeftColor: theme.palette.warning.main },
  CRITICAL: { borderLeftColor: theme.palette.error.main },
  UNKNOWN: { borderLeftColor: theme.palette.grey[500] },
  // Width and style only: a `borderLeft` shorthand here would reset the status colour above.
  banner: { padding: theme.spacing(1.5, 2), marginBottom: theme.spacing(2), borderLeftWidth: 6, borderLeftStyle: 'solid' },
}));

const WORDS: Record<HealthStatus, string> = {
  OK: 'OK',
  WARNING: 'Warning',
  CRITICAL: 'Critical',
  UNKNOWN: 'Unknown',
};

export function StatusMark({ status, children }: { status: HealthStatus; children?: React.ReactNode }) {
  const text = children ?? WORDS[status];
  if (status === 'OK') return <StatusOK>{text}</StatusOK>;
  if (status === 'WARNING') return <StatusWarning>{text}</StatusWarning>;
  if (status === 'CRITICAL') return <StatusError>{text}</StatusError>;
  return <StatusPending>{text}</StatusPending>;
}

function Tile(props: { title: string; status: HealthStatus; value: string; detail?: string; testId: string }) {
  const classes = useStyles();
  return (
    <Paper variant="outlined" className={`${classes.tile} ${classes[props.status]}`} data-testid={props.testId}>
      <Typography variant="overline" component="div">
        {props.title}
      </Typography>
      <Typography variant="h6" component="div">
        <StatusMark status={props.status}>{props.value}</StatusMark>
      </Typography>
      {props.detail && (
        <Typography variant="body2" color="textSecondary">
          {props.detail}
        </Typography>
      )}
    </Paper>
  );
}

const find = (checks: HealthCheck[], name: string) => checks.find(c => c.name === name);

/**
 * The health of the backups at a glance: the newest good backup's age against the RPO, the next
 * scheduled run, the last verification and restore drill; each coloured OK, warning or critical,
 * with the reason in words.
 */
export function HealthHeader({ health, error, now = Date.now() }: { health?: HealthResponse; error?: unknown; now?: number }) {
  const classes = useStyles();
  if (error) {
    return (
      <Paper variant="outlined" className={`${classes.banner} ${classes.UNKNOWN}`} data-testid="health-banner">
        <StatusMark status="UNKNOWN">Backup health could not be read</StatusMark>
        <Typography variant="body2">{describeError(error)}</Typography>
      </Paper>
    );
  }
  if (!health) return null;
  const { report, schedules } = health;
  const lastBackup = find(report.checks, 'last backup');
  const verify = find(report.checks, 'verify');
  const drill = find(report.checks, 'drill');
  const others = report.checks.filter(c => !['last backup', 'verify', 'drill'].includes(c.name) && c.status !== 'OK');
  const nextRun = schedules.find(s => s.taskId.endsWith('-backup'))?.nextRunAt ?? null;
  const rpo = formatDuration(report.maxAgeSeconds);

  return (
    <Box mb={2}>
      <Paper variant="outlined" className={`${classes.banner} ${classes[report.status]}`} data-testid="health-banner">
        <Typography variant="h6" component="div">
          <StatusMark status={report.status}>Backups: {WORDS[report.status]}</StatusMark>
        </Typography>
        <Typography variant="body2" data-testid="health-summary">
          {report.status === 'OK' ? 'Every check passed.' : report.summary}
        </Typography>
      </Paper>
      <Grid container spacing={2}>
        <Grid item xs={12} sm={6} md={3}>
          <Tile
            testId="health-last-backup"
            title="Last good backup"
            status={lastBackup?.status ?? 'UNKNOWN'}
            value={report.lastBackup ? formatAge(report.lastBackup.createdAt, now) : 'None yet'}
            detail={report.lastBackup ? `${report.lastBackup.id} · RPO ${rpo}` : lastBackup?.message ?? `RPO ${rpo}`}
          />
        </Grid>
        <Grid item xs={12} sm={6} md={3}>
          <Tile
            testId="health-next-run"
            title="Next scheduled backup"
            status={nextRun ? 'OK' : 'UNKNOWN'}
            value={nextRun ? formatAge(nextRun, now) : 'Not known'}
            detail={nextRun ? formatTime(nextRun) : 'The scheduler has not said when it runs next'}
          />
        </Grid>
        <Grid item xs={12} sm={6} md={3}>
          <Tile
            testId="health-last-verify"
            title="Last verify"
            status={verify?.status ?? 'UNKNOWN'}
            value={report.lastVerify ? `${report.lastVerify.ok ? 'Passed' : 'Failed'} ${formatAge(report.lastVerify.at, now)}` : 'Never'}
            detail={verify?.message}
          />
        </Grid>
        <Grid item xs={12} sm={6} md={3}>
          <Tile
            testId="health-last-drill"
            title="Last restore drill"
            status={drill?.status ?? 'UNKNOWN'}
            value={report.lastDrill ? `${report.lastDrill.ok ? 'Passed' : 'Failed'} ${formatAge(report.lastDrill.at, now)}` : 'Never'}
            detail={drill?.message}
          />
        </Grid>
      </Grid>
      {others.map(check => (
        <Typography key={check.name} variant="body2" style={{ marginTop: 8 }}>
          <StatusMark status={check.status}>{check.name}</StatusMark> {check.message}
        </Typography>
      ))}
    </Box>
  );
}
