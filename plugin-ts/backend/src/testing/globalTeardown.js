module.exports = async function globalTeardown() {
  const child = globalThis.__backupTestS3;
  if (!child) return;
  await new Promise(resolve => {
    child.once('exit', resolve);
    child.stdin.end();
  });
};
