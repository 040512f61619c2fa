import React, { useEffect, useState } from 'react';
import { Content, ContentHeader, Header, Page, Progress, WarningPanel } from '@backstage/core-components';
import { Box, Typography } from '@material-ui/core';
import { describeError } from '../format';
import { useBackupData } from '../hooks/useBackupData';
import { useBackupPermissions } from '../hooks/useBackupPermissions';
import { useJobs } from '../hooks/useJobs';
import { BackupNow } from './BackupNow';
import { BackupsTable } from './BackupsTable';
import { HealthHeader } from './HealthHeader';

/** How often an open page reloads the list, the health and the running jobs. */
const REFRESH_MS = 60_000;

/** The content of the Backups page, without Backstage's page frame (for apps that bring their own). */
export function BackupContent() {
  const permissions = useBackupPermissions();
  const allowed = !permissions.loading && permissions.read;
  const data = useBackupData(allowed);
  const [rescan, setRescan] = useState(0);
  const { jobs, track } = useJobs(allowed, data.refresh, rescan);
  const { refresh } = data;

  // An open page stays current: ages move on, scheduled runs and other admins' jobs show up.
  useEffect(() => {
    if (!allowed) return undefined;
    const timer = setInterval(() => {
      refresh();
      setRescan(n => n + 1);
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [allowed, refresh]);

  if (permissions.loading) return <Progress />;
  if (!permissions.read) {
    return (
      <WarningPanel severity="info" title="You cannot see the backups">
        This page needs the <code>backup.read</code> permission. Ask your Backstage admins to grant it.
      </WarningPanel>
    );
  }

  const backupJob = jobs.find(j => j.kind === 'backup');
  return (
    <>
      <HealthHeader health={data.health} error={data.healthError} />
      <BackupNow permitted={permissions.create} job={backupJob} onStarted={track} />
      {data.backupsError ? (
        <WarningPanel severity="error" title="The backups could not be listed">
          {describeError(data.backupsError)}
        </WarningPanel>
      ) : null}
      {data.backups ? (
        <BackupsTable backups={data.backups} permissions={permissions} jobs={jobs} onStarted={track} />
      ) : (
        !data.backupsError && <Progress />
      )}
    </>
  );
}

/** The Backups page: health, the Back up catalog button, and every backup with its actions. */
export function BackupPage() {
  return (
    <Page themeId="tool">
      <Header title="Backups" subtitle="Backups, verification and restore drills of the catalog database" />
      <Content>
        <ContentHeader title="Catalog backups">
          <Box>
            <Typography variant="body2" color="textSecondary">
              Back up now, verify, drill and restore
            </Typography>
          </Box>
        </ContentHeader>
        <BackupContent />
      </Content>
    </Page>
  );
}
