import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { BackupClient } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from './api';
import { rootRouteRef } from './routes';

/** The backup plugin, for apps on Backstage's current frontend system (`App.tsx` routes). */
export const backupPlugin = createPlugin({
  id: 'backup',
  apis: [
    createApiFactory({
      api: backupApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new BackupClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef },
});

/** The Backups page: `<Route path="/backup" element={<BackupPage />} />`. */
export const BackupPage = backupPlugin.provide(
  createRoutableExtension({
    name: 'BackupPage',
    component: () => import('./components/BackupPage').then(m => m.BackupPage),
    mountPoint: rootRouteRef,
  }),
);
