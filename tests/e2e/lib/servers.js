'use strict';
// The real servers the suite runs: the loopback S3 server (crates/testkit), a second PostgreSQL
// cluster (the "new region"), and the Backstage backend itself, each started and stopped here.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const bin = name => path.join(target, 'debug', name);
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Last-resort clean-up when the suite is interrupted (Ctrl-C, a CI timeout): synchronous steps
 * run on exit, so no backend or PostgreSQL cluster outlives the run.
 */
const exitSteps = new Set();
process.once('exit', () => {
  for (const step of exitSteps) {
    try {
      step();
    } catch {
      // keep going: the next step may still work
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/** Adds a synchronous step to run if the process exits before `after` cleaned up; returns its remover. */
function onExit(step) {
  exitSteps.add(step);
  return () => exitSteps.delete(step);
}

function requireBinaries() {
  const missing = ['backstage-backup', 's3-test-server'].filter(name => !fs.existsSync(bin(name)));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')} under ${path.join(target, 'debug')}: run ` +
        '`cargo build -p backstage-backup-cli -p backstage-backup-testkit --bins` (with the same CARGO_TARGET_DIR)',
    );
  }
}

/** A free TCP port on loopback (free now; the caller binds it soon after). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** crates/testkit's SeaweedFS S3 server; it stops when its stdin closes. */
async function startS3() {
  const child = spawn(bin('s3-test-server'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', chunk => {
      text += chunk;
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]));
    });
    child.on('exit', code => reject(new Error(`s3-test-server exited with ${code}`)));
  });
  return {
    info,
    /** The CLI's store URL for `prefix`. */
    url: prefix => `s3://${info.bucket}/${prefix}?endpoint=${info.endpoint}&region=${info.region}&path_style=true`,
    /** The backend's `backup.store` for `prefix`. */
    config: prefix => ({ url: `s3://${info.bucket}/${prefix}`, region: info.region, endpoint: info.endpoint, forcePathStyle: true }),
    env: { AWS_ACCESS_KEY_ID: info.accessKey, AWS_SECRET_ACCESS_KEY: info.secretKey, AWS_REGION: info.region },
    async stop() {
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.stdin.end();
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Serves the files of `dir` over HTTP on loopback: the git host that catalog-info.yaml files
 * registered through the catalog API (type url) are read from.
 */
async function startFileServer(dir) {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    host: `127.0.0.1:${port}`,
    url: name => `http://127.0.0.1:${port}/${name}`,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

const PG_BIN = process.env.BACKSTAGE_BACKUP_E2E_PG_BIN || '/usr/lib/postgresql/15/bin';

/**
 * A second PostgreSQL cluster on another port, standing in for the server of a new region:
 * initdb + pg_ctl as the postgres user (PostgreSQL refuses to run as root), trust auth.
 */
async function startCluster() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbe2e-region-'));
  const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const run = (cmd, args) => {
    const argv = [...asPostgres, path.join(PG_BIN, cmd), ...args];
    execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (asPostgres.length > 0) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const stop = () => {
    exitSteps.delete(stop);
    try {
      if (fs.existsSync(path.join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  exitSteps.add(stop);
  run('pg_ctl', [
    '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return { port, url: db => `postgresql://postgres@127.0.0.1:${port}/${db}`, stop };
}

/**
 * The Backstage backend of tests/backend (catalog with the scaffolder's entity model, auth,
 * permissions, the backup plugin) under Backstage's own TypeScript transform, logging into `logFile`.
 */
class Backend {
  constructor({ configFile, logFile, baseUrl, token, env }) {
    Object.assign(this, { configFile, logFile, baseUrl, token, env });
    this.child = null;
  }

  start() {
    if (this.child) throw new Error('the backend is already running');
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n==== start ${new Date().toISOString()} ====\n`);
    this.child = spawn(
      process.execPath,
      ['--require', '@backstage/cli/config/nodeTransform.cjs', path.join(__dirname, '..', '..', 'backend', 'src', 'index.ts'), '--config', this.configFile],
      { cwd: root, env: { ...process.env, ...this.env, NODE_ENV: 'development' }, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    const child = this.child;
    const kill = () => child.kill('SIGKILL');
    exitSteps.add(kill);
    this.exited = new Promise(resolve =>
      child.once('exit', (code, signal) => {
        exitSteps.delete(kill);
        resolve({ code, signal });
      }),
    );
  }

  /** Resolves once readiness answers 200; rejects when the process exits or `timeoutMs` passes. */
  async ready(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    let exited = null;
    this.exited.then(e => (exited = e));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`the backend exited (${JSON.stringify(exited)}) before it was ready; see ${this.logFile}`);
      try {
        const res = await fetch(`${this.baseUrl}/.backstage/health/v1/readiness`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`the backend was not ready within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /**
   * Resolves with the error Backstage logged when its start-up failed (a plugin threw during
   * init); rejects if it became ready instead. A failed start does not end the process: it keeps
   * listening with readiness at 503, as a Kubernetes pod that never becomes ready.
   */
  async startupFailure(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    const from = fs.readFileSync(this.logFile, 'utf8').lastIndexOf('==== start');
    while (Date.now() < deadline) {
      const text = fs.readFileSync(this.logFile, 'utf8').slice(from).replace(/\x1b\[[0-9;]*m/g, '');
      const failed = /Backend startup failed[^\n]*\n\s*(.*?)(?: type="|\n|$)/.exec(text);
      if (failed) return failed[1];
      try {
        const res = await fetch(`${this.baseUrl}/.backstage/health/v1/readiness`);
        if (res.ok) throw new Error('the backend started and is ready');
      } catch (err) {
        if (err.message.includes('is ready')) throw err;
      }
      await sleep(200);
    }
    throw new Error(`the backend neither failed nor became ready within ${timeoutMs} ms`);
  }

  /** SIGTERM (Backstage shuts down gracefully), SIGKILL after 20 s. */
  async stop() {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  async restart() {
    await this.stop();
    this.start();
    await this.ready();
  }

  /** A call as an operator's script makes it: the static external-access token. */
  async api(method, apiPath, body) {
    const res = await fetch(`${this.baseUrl}${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }
}

module.exports = { root, bin, sleep, onExit, requireBinaries, freePort, startS3, startFileServer, startCluster, Backend };
