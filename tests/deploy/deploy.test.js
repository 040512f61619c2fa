'use strict';
// The Kubernetes examples under deploy/ (CronJob with an IRSA service account, a Helm pre-upgrade
// hook, a restore Job) validated offline against Kubernetes' own schemas with kubernetes-validate
// (PyPI, in a venv under ~/.cache), strictly: an unknown field fails. The Dockerfile copies the
// CLI tarball scripts/release.sh names, at the workspace version.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const deploy = path.join(root, 'deploy');
const venv = path.join(os.homedir(), '.cache', 'backstage-backup', 'kv-venv');
const validator = path.join(venv, 'bin', 'kubernetes-validate');

function ensureValidator() {
  if (fs.existsSync(validator)) return;
  execFileSync('python3', ['-m', 'venv', venv]);
  execFileSync(path.join(venv, 'bin', 'pip'), ['install', '-q', 'kubernetes-validate'], { stdio: 'inherit' });
}

const validate = files => spawnSync(validator, ['--strict', ...files], { encoding: 'utf8' });
const manifests = () => fs.readdirSync(deploy).filter(f => f.endsWith('.yaml')).map(f => path.join(deploy, f));

test('every manifest under deploy/ is valid Kubernetes, strictly', () => {
  ensureValidator();
  const files = manifests();
  assert.ok(files.length >= 4, files.join(' '));
  const result = validate(files);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  for (const file of files) assert.match(result.stdout + result.stderr, new RegExp(`${path.basename(file)} passed`));
});

test('the validation catches a wrong field (it is not a rubber stamp)', () => {
  ensureValidator();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbdeploy-'));
  try {
    const broken = path.join(dir, 'cronjob.yaml');
    fs.writeFileSync(broken, fs.readFileSync(path.join(deploy, 'cronjob.yaml'), 'utf8').replace('concurrencyPolicy:', 'concurrencyPolicyy:'));
    assert.notEqual(validate([broken]).status, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Dockerfile and the manifests name the release being built', () => {
  const version = /^version = "(.*)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`ARG VERSION=${version.replace(/\./g, '\\.')}\\n`));
  assert.match(dockerfile, /COPY release\/backstage-backup-\$\{VERSION\}-linux-x64-gnu\.tar\.gz/);
  for (const file of manifests()) {
    const images = [...fs.readFileSync(file, 'utf8').matchAll(/image: \S+:(\S+)/g)].map(m => m[1]);
    for (const tag of images) assert.equal(tag, version, `${path.basename(file)} runs image tag ${tag}`);
  }
});
