// Real servers for the plugin's tests: PostgreSQL (throwaway databases named by a prefix) and
// the loopback S3 server that globalSetup.js starts.
import { execFileSync } from 'node:child_process';

export const ADMIN_URL =
  process.env.BACKSTAGE_BACKUP_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function psql(sql: string, url = ADMIN_URL): string {
  return execFileSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' }).trim();
}

export function dbUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops every database whose name starts with `prefix` (the ones Backstage created for a test). */
export function dropDatabases(prefix: string) {
  const names = psql(`SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix}')`)
    .split('\n')
    .filter(Boolean);
  for (const name of names) psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export interface S3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
}

/** The S3 server jest's global set-up started (see globalSetup.js). */
export function testS3(): S3 {
  const info = process.env.BACKUP_TEST_S3;
  if (!info) throw new Error('the S3 server is started by jest globalSetup; run the tests with the package test script');
  return JSON.parse(info);
}
