// Starts the loopback S3 server once for the test run. It runs here, in jest's own process,
// because the native engine reads AWS credentials from the real process environment, which a
// test file's (sandboxed) process.env does not reach.
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, '../../../..');
  const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const child = spawn(path.join(target, 'debug', 's3-test-server'), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('error', reject);
    child.once('exit', code => reject(new Error(`s3-test-server exited with ${code}; build it with cargo build -p backstage-backup-testkit --bins`)));
  });
  const s3 = JSON.parse(first);
  process.env.AWS_ACCESS_KEY_ID = s3.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretKey;
  process.env.AWS_REGION = s3.region;
  process.env.BACKUP_TEST_S3 = first;
  globalThis.__backupTestS3 = child;
};
