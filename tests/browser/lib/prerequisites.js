'use strict';
// What the browser test needs on the machine, installed from the registries only: Debian's
// chromium, SeaweedFS (PyPI, through scripts/install-seaweedfs.sh), the s3-test-server binary and
// the native Node engine (both built from this repository with cargo).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '../../..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: repoRoot, ...options });
}

function ensureChromium() {
  if (fs.existsSync(CHROMIUM)) return;
  console.log('# installing Debian chromium (apt-get install -y chromium)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    run('apt-get', ['install', '-y', '-q', 'chromium'], { env });
  } catch {
    run('apt-get', ['update', '-q'], { env });
    run('apt-get', ['install', '-y', '-q', 'chromium'], { env });
  }
}

function ensureS3Server() {
  run('bash', ['scripts/install-seaweedfs.sh'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // cargo is incremental: a no-op when the binary is up to date.
  run('cargo', ['build', '-q', '-p', 'backstage-backup-testkit', '--bins'], {
    env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  });
  return path.join(targetDir, 'debug', 's3-test-server');
}

function ensureNativeEngine() {
  const dir = path.join(repoRoot, 'pkg', 'native');
  if (fs.existsSync(dir) && fs.readdirSync(dir).some(f => f.endsWith('.node'))) return;
  console.log('# building the native engine (scripts/build-native.sh)');
  run('bash', ['scripts/build-native.sh'], { env: { ...process.env, CARGO_TARGET_DIR: targetDir } });
}

/** Installs or builds what is missing; returns the paths the harness starts. */
function ensurePrerequisites() {
  ensureChromium();
  ensureNativeEngine();
  const s3Server = ensureS3Server();
  return { chromium: CHROMIUM, s3Server, repoRoot };
}

module.exports = { ensurePrerequisites, ensureChromium, repoRoot };
