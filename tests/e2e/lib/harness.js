'use strict';
// One run of the suite: its names (a database prefix of its own), the app-config it writes for
// the backend, the operator's tools (the backstage-backup CLI, psql, pg_dump, gzip) and clean-up.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin, root, freePort, onExit, Backend } = require('./servers');

const KINDS = ['Component', 'API', 'Group', 'User', 'System', 'Resource', 'Domain', 'Location', 'Template'];
const ADMIN_URL = process.env.BACKSTAGE_BACKUP_TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A PostgreSQL server the backend can use: the primary (ADMIN_URL's) or a harness-started one. */
function serverOf(adminUrl) {
  const u = new URL(adminUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    url: db => {
      const v = new URL(adminUrl);
      v.pathname = `/${db}`;
      return v.toString();
    },
  };
}

function psql(url, sql) {
  return execFileSync('psql', ['-qAtX', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  }).trim();
}

/** Runs a command to completion; resolves {code, stdout, stderr, ms}. */
function run(cmd, args, { env = {}, input } = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', c => (stdout += c));
    child.stderr.on('data', c => (stderr += c));
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(input);
  });
}

/** A shell pipeline, as the runbook writes it (bash, pipefail). */
function sh(script, env = {}) {
  return run('bash', ['-o', 'pipefail', '-c', script], { env });
}

class Harness {
  constructor({ s3 }) {
    this.s3 = s3;
    this.id = `${process.pid}_${Date.now() % 10000}`;
    this.prefix = `bbe2e_${this.id}_`;
    this.storePrefix = `e2e-${this.id.replace('_', '-')}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbe2e-'));
    this.forgetDir = onExit(() => fs.rmSync(this.dir, { recursive: true, force: true }));
    this.artifacts = path.join(root, 'tests', 'artifacts', 'e2e');
    fs.mkdirSync(this.artifacts, { recursive: true });
    fs.writeFileSync(path.join(this.artifacts, 'backend.log'), '');
    this.token = `e2e-${this.id}-static-token-of-at-least-twenty-chars`;
    this.primary = serverOf(ADMIN_URL);
    this.server = this.primary;
    this.servers = [this.primary];
  }

  get catalogDb() {
    return `${this.prefix}catalog`;
  }

  catalogUrl(server = this.server) {
    return server.url(this.catalogDb);
  }

  /** Writes the backend's app-config for `server`; returns its path. */
  async writeConfig(name, server, { catalogIndex, readHost }) {
    this.port ??= await freePort();
    const baseUrl = `http://127.0.0.1:${this.port}`;
    const config = {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl,
        listen: { port: this.port, host: '127.0.0.1' },
        database: {
          client: 'pg',
          connection: { host: server.host, port: server.port, user: server.user },
          prefix: this.prefix,
        },
        auth: { externalAccess: [{ type: 'static', options: { token: this.token, subject: 'e2e-operator' } }] },
        reading: { allow: [{ host: readHost }] },
      },
      auth: { environment: 'development', providers: { guest: { dangerouslyAllowOutsideDevelopment: true } } },
      permission: { enabled: true },
      catalog: {
        rules: [{ allow: KINDS }],
        locations: [{ type: 'file', target: catalogIndex }],
      },
      backup: {
        store: this.s3.config(this.storePrefix),
        // The suite makes every backup itself: keep the scheduled ones out of its few minutes.
        schedule: { frequency: { hours: 24 }, timeout: { hours: 1 }, initialDelay: { hours: 12 } },
        verifySchedule: { frequency: { hours: 24 }, timeout: { hours: 1 }, initialDelay: { hours: 12 } },
        drillSchedule: { frequency: { hours: 24 }, timeout: { hours: 1 }, initialDelay: { hours: 12 } },
      },
    };
    const file = path.join(this.dir, `app-config.${name}.yaml`);
    // JSON is YAML; Backstage and the CLI both read it.
    fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    return { file, baseUrl };
  }

  backend(configFile, baseUrl) {
    return new Backend({
      configFile,
      baseUrl,
      token: this.token,
      logFile: path.join(this.artifacts, 'backend.log'),
      env: this.s3.env,
    });
  }

  /** `backstage-backup ARGS --store … --json`; resolves {code, json, stderr, ms}. */
  async cli(args) {
    const out = await run(bin('backstage-backup'), [...args, '--store', this.s3.url(this.storePrefix), '--json'], {
      env: this.s3.env,
    });
    let json = null;
    try {
      json = JSON.parse(out.stdout);
    } catch {
      // not JSON: reported below through stdout/stderr
    }
    return { ...out, json };
  }

  /** Like cli(), but a non-zero exit is an error carrying the CLI's message. */
  async cliOk(args) {
    const out = await this.cli(args);
    if (out.code !== 0) {
      throw new Error(`backstage-backup ${args.join(' ')} exited ${out.code}: ${out.stdout.slice(0, 800)} ${out.stderr.slice(-800)}`);
    }
    return out;
  }

  /** Drops the databases an interrupted earlier run left behind (its process is gone). */
  sweepLeftovers() {
    const names = psql(this.primary.url('postgres'), "SELECT datname FROM pg_database WHERE datname ~ '^bbe2e_[0-9]+_[0-9]+_'");
    for (const name of names.split('\n').filter(Boolean)) {
      const pid = Number(name.split('_')[1]);
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) psql(this.primary.url('postgres'), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  }

  /** Drops every database of this run on every server it used. */
  dropDatabases() {
    for (const server of this.servers) {
      try {
        const names = psql(server.url('postgres'), `SELECT datname FROM pg_database WHERE starts_with(datname, '${this.prefix}')`);
        for (const name of names.split('\n').filter(Boolean)) {
          psql(server.url('postgres'), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        }
      } catch (err) {
        if (server === this.primary) throw err;
      }
    }
  }

  cleanUp() {
    this.forgetDir();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Harness, serverOf, psql, run, sh, ADMIN_URL };
