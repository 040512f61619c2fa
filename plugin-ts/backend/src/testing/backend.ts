// Starts a real Backstage backend (catalog + this plugin) on real PostgreSQL and the S3 server,
// with a permission policy that grants by user, and collects audit events.
import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import path from 'node:path';
import backupPlugin from '../index';
import { psql, dbUrl, S3 } from './servers';

/** Who may do what: the policy an organisation would write. */
export const GRANTS: Record<string, string[]> = {
  'user:default/admin': ['backup.read', 'backup.create', 'backup.restore'],
  'user:default/operator': ['backup.read', 'backup.create'],
  'user:default/viewer': ['backup.read'],
  'user:default/nobody': [],
};

export const policyPermissions = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => ({
    async authorize(requests: any[], { credentials }: any) {
      const principal = credentials.principal;
      const granted =
        principal.type === 'service' ? ['backup.read', 'backup.create'] : GRANTS[principal.userEntityRef] ?? [];
      return requests.map(r => ({
        result: granted.includes(r.permission.name) ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
      }));
    },
    async authorizeConditional(requests: any[]) {
      return requests.map(() => ({ result: AuthorizeResult.DENY }));
    },
  }),
});

export interface AuditRecord {
  eventId: string;
  actor: string;
  outcome: 'pending' | 'success' | 'fail';
  meta: Record<string, unknown>;
}

export function recordingAuditor(records: AuditRecord[]) {
  return createServiceFactory({
    service: coreServices.auditor,
    deps: { httpAuth: coreServices.httpAuth },
    factory: ({ httpAuth }) => ({
      async createEvent(options: any) {
        let actor = 'none';
        if (options.request) {
          const credentials: any = await httpAuth.credentials(options.request);
          actor = credentials.principal.userEntityRef ?? credentials.principal.subject ?? credentials.principal.type;
        }
        const record: AuditRecord = { eventId: options.eventId, actor, outcome: 'pending', meta: options.meta ?? {} };
        records.push(record);
        return {
          async success(o?: any) {
            record.outcome = 'success';
            Object.assign(record.meta, o?.meta ?? {});
          },
          async fail(o: any) {
            record.outcome = 'fail';
            Object.assign(record.meta, o?.meta ?? {});
          },
        };
      },
    }),
  });
}

/** Trust auth ignores it; the tests check it never shows up anywhere. */
export const DATABASE_PASSWORD = 'pw-8f3e1c-never-shown';

export const FIXTURE = path.join(__dirname, '..', '__fixtures__', 'catalog-info.yaml');

export function backendConfig(prefix: string, s3: S3, extra: { backup?: object; permission?: object } = {}) {
  return {
    backend: {
      baseUrl: 'http://localhost:7007',
      database: {
        client: 'pg',
        connection: { host: '127.0.0.1', port: 5432, user: 'postgres', password: DATABASE_PASSWORD },
        prefix,
      },
    },
    permission: { enabled: true },
    catalog: {
      rules: [{ allow: ['Component', 'API', 'Group', 'User', 'System', 'Resource', 'Domain', 'Location', 'Template'] }],
      locations: [{ type: 'file', target: FIXTURE }],
      processingInterval: { seconds: 1 },
    },
    backup: {
      store: { url: `s3://${s3.bucket}/${prefix}`, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true },
      databases: ['catalog', 'bulky', 'missing'],
    },
    ...extra,
  };
}

/** A second plugin database with enough rows that a backup of it runs for a few seconds. */
export function createBulkyDatabase(prefix: string, rows = 1_500_000) {
  const name = `${prefix}bulky`;
  psql(`CREATE DATABASE "${name}"`);
  psql(
    'CREATE TABLE bulk (id bigint PRIMARY KEY, a text, b text); ' +
      `INSERT INTO bulk SELECT i, md5(i::text), md5((i::bigint * 7919)::text) FROM generate_series(1, ${rows}) i`,
    dbUrl(name),
  );
}

export async function startBackend(config: object, features: any[] = []) {
  return startTestBackend({
    features: [
      catalogPlugin,
      backupPlugin,
      mockServices.rootConfig.factory({ data: config as any }),
      ...features,
    ],
  });
}

/** Waits until the catalog has processed the fixture: what a backup should then count. */
export async function waitForCatalog(prefix: string, expected: number, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const count = Number(
      psql('SELECT count(*) FROM final_entities WHERE final_entity IS NOT NULL', dbUrl(`${prefix}catalog`)),
    );
    if (count >= expected) return count;
    if (Date.now() > until) throw new Error(`the catalog has ${count} of ${expected} entities after ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 250));
  }
}
