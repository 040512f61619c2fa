import { createRouteRef } from '@backstage/core-plugin-api';

/** The Backups page (mounted at `/backup` by convention). */
export const rootRouteRef = createRouteRef({ id: 'backup' });
