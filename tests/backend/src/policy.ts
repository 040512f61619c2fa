import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { AuthorizeResult, PolicyDecision } from '@backstage/plugin-permission-common';
import { PermissionPolicy, PolicyQuery, PolicyQueryUser } from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';

/**
 * The policy an organisation would write for the backup plugin: `backupTest.grants` lists
 * `{ user: <user entity ref>, permissions: [backup.read, …] }`; everything that is not a backup
 * permission is allowed (the catalog is not what these tests are about).
 */
class GrantsPolicy implements PermissionPolicy {
  constructor(private readonly grants: Record<string, string[]>) {}

  async handle(request: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    if (!request.permission.name.startsWith('backup.')) return { result: AuthorizeResult.ALLOW };
    const ref = user?.info.userEntityRef ?? '';
    const granted = this.grants[ref] ?? [];
    return { result: granted.includes(request.permission.name) ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
  }
}

export const grantsPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'backup-grants-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        // A list, since config keys cannot hold the ':' and '/' of an entity ref.
        const grants: Record<string, string[]> = {};
        for (const grant of config.getOptionalConfigArray('backupTest.grants') ?? []) {
          grants[grant.getString('user')] = grant.getStringArray('permissions');
        }
        policy.setPolicy(new GrantsPolicy(grants));
      },
    });
  },
});
