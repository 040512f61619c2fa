// A real Backstage backend for the browser and end-to-end tests: the catalog, guest sign-in, the
// permission framework with a grants policy, and the backup plugin, as an adopter wires them.
// Start: node --require @backstage/cli/config/nodeTransform.cjs src/index.ts --config app-config.yaml
import { createBackend } from '@backstage/backend-defaults';
import { grantsPolicyModule } from './policy';

const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(grantsPolicyModule);
backend.add(import('@backstage/plugin-catalog-backend'));
// Templates are catalog entities too; without the scaffolder's model the catalog rejects them.
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage-backup/plugin-backup-backend'));
backend.start();
