import React from 'react';
import { ApiBlueprint, PageBlueprint, createFrontendPlugin } from '@backstage/frontend-plugin-api';
import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import BackupIcon from '@material-ui/icons/Backup';
import { BackupClient } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from './api';
import { rootRouteRef } from './routes';

const backupApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: backupApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new BackupClient({ discoveryApi, fetchApi }),
    }),
});

const backupPage = PageBlueprint.make({
  params: {
    path: '/backup',
    title: 'Backups',
    icon: <BackupIcon />,
    routeRef: rootRouteRef,
    loader: () => import('./components/BackupPage').then(m => <m.BackupPage />),
  },
});

/**
 * The backup plugin for Backstage's new frontend system: `app.features` or package discovery
 * picks it up and mounts the Backups page at `/backup`.
 */
export default createFrontendPlugin({
  pluginId: 'backup',
  title: 'Backups',
  icon: <BackupIcon />,
  routes: { root: rootRouteRef },
  extensions: [backupApi, backupPage],
});
