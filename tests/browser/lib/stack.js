'use strict';
// The real parts the page runs against, started per run on free loopback ports: the S3 server
// (SeaweedFS via crates/testkit), the test Backstage backend (tests/backend: auth with guest
// sign-in, permissions, catalog, the backup plugin) on PostgreSQL, and the plugin's dev app.
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { catalogInfo } = require('./catalog');
const { freePort, startProcess, waitForHttp } = require('./processes');

const BACKSTAGE_CLI = path.join(path.dirname(require.resolve('@backstage/cli/package.json')), 'bin/backstage-cli');
const ADMIN_URL = process.env.BACKSTAGE_BACKUP_TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Runs SQL on the server's admin database, or on `database` of the same server. */
function psql(sql, database) {
  const url = new URL(ADMIN_URL);
  if (database) url.pathname = `/${database}`;
  return execFileSync('psql', ['-qAtX', '-v', 'ON_ERROR_STOP=1', url.toString(), '-c', sql], { encoding: 'utf8' }).trim();
}

/** Drops the databases the backend created for this run (all named by its prefix). */
function dropDatabases(prefix) {
  const names = psql(`SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix}')`).split('\n').filter(Boolean);
  for (const name of names) psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  return names;
}

/** Starts s3-test-server; it prints its endpoint and keys, and serves until its stdin closes. */
async function startS3(binary, logFile) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', log] });
  fs.closeSync(log);
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', code => reject(new Error(`s3-test-server exited with ${code}; see ${logFile}`)));
  });
  const exit = new Promise(resolve => child.once('exit', resolve));
  return {
    ...JSON.parse(first),
    async stop() {
      child.stdin.end();
      const timeout = new Promise(resolve => setTimeout(resolve, 10_000, 'timeout'));
      if ((await Promise.race([exit, timeout])) === 'timeout') child.kill('SIGKILL');
    },
  };
}

/** Starts everything; `stop()` undoes it all, also after a partial start. */
async function startStack({ s3Server, repoRoot, workDir }) {
  const prefix = `bbbrowser_${process.pid}_${crypto.randomBytes(3).toString('hex')}_`;
  const token = crypto.randomBytes(24).toString('hex');
  const logs = { s3: path.join(workDir, 's3.log'), backend: path.join(workDir, 'backend.log'), app: path.join(workDir, 'app.log') };
  const stops = [];
  const stack = {
    prefix,
    token,
    logs,
    async stop() {
      for (const stop of stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          console.error(`# cleanup: ${error.message}`);
        }
      }
    },
  };
  try {
    const s3 = await startS3(s3Server, logs.s3);
    stops.push(() => s3.stop());
    stops.push(() => dropDatabases(prefix));

    const catalog = catalogInfo();
    const catalogFile = path.join(workDir, 'catalog-info.yaml');
    fs.writeFileSync(catalogFile, catalog.text);
    stack.entities = catalog.entities;

    const [backendPort, appPort] = [await freePort(), await freePort()];
    const appUrl = `http://127.0.0.1:${appPort}`;
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    const config = {
      app: { title: 'Backups (browser test)', baseUrl: appUrl },
      backend: {
        baseUrl: backendUrl,
        listen: { port: backendPort, host: '127.0.0.1' },
        cors: { origin: appUrl, methods: ['GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'DELETE'], credentials: true },
        database: { client: 'pg', connection: ADMIN_URL, prefix },
        auth: { externalAccess: [{ type: 'static', options: { token, subject: 'browser-test' } }] },
      },
      auth: { environment: 'development', providers: { guest: { dangerouslyAllowOutsideDevelopment: true } } },
      permission: { enabled: true },
      backupTest: { grants: [{ user: 'user:development/guest', permissions: ['backup.read', 'backup.create', 'backup.restore'] }] },
      catalog: {
        rules: [{ allow: ['Component', 'API', 'Group', 'User', 'System', 'Resource', 'Domain', 'Location', 'Template'] }],
        locations: [{ type: 'file', target: catalogFile }],
      },
      backup: {
        store: { url: `s3://${s3.bucket}/backstage`, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true },
        health: { maxAge: '26h' },
      },
    };
    const configFile = path.join(workDir, 'app-config.yaml');
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    stack.config = config;
    stack.appUrl = appUrl;
    stack.backendUrl = backendUrl;

    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
      AWS_REGION: s3.region,
      NODE_ENV: 'development',
      FORCE_COLOR: '0',
    };
    const backend = startProcess(
      'backend',
      process.execPath,
      ['--require', '@backstage/cli/config/nodeTransform.cjs', 'src/index.ts', '--config', configFile],
      { cwd: path.join(repoRoot, 'tests/backend'), env, logFile: logs.backend },
    );
    stops.push(() => backend.stop());
    const app = startProcess(
      'app',
      process.execPath,
      [BACKSTAGE_CLI, 'package', 'start', '--config', configFile],
      { cwd: path.join(repoRoot, 'plugin-ts/frontend'), env: { ...process.env, BROWSER: 'none', FORCE_COLOR: '0' }, logFile: logs.app },
    );
    stops.push(() => app.stop());

    await waitForHttp(`${backendUrl}/.backstage/health/v1/readiness`, {
      proc: backend,
      timeoutMs: 180_000,
      // A backend whose plugins failed to start keeps answering 503: read why and stop waiting.
      check: () => {
        const text = fs.readFileSync(logs.backend, 'utf8');
        const at = text.indexOf('Backend startup failed');
        if (at >= 0) throw new Error(`the backend did not start: ${text.slice(at, at + 800)}`);
      },
    });
    await waitForHttp(`${appUrl}/backup`, { proc: app, timeoutMs: 180_000 });
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

module.exports = { startStack, dropDatabases, psql };
