'use strict';
// A small sequential runner: each step is a check that passes or fails; after a failure the
// steps that depend on it are counted as failed without running. The last line is the count.

function createRunner() {
  const results = [];
  let broken = null;
  return {
    async step(name, fn) {
      const started = Date.now();
      if (broken) {
        results.push({ name, ok: false });
        console.log(`not ok - ${name} (not run: "${broken}" failed)`);
        return;
      }
      try {
        await fn();
        results.push({ name, ok: true });
        console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        results.push({ name, ok: false });
        broken = name;
        console.log(`not ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        console.log(String(error?.stack ?? error).split('\n').map(l => `#   ${l}`).join('\n'));
      }
    },
    summary() {
      const passed = results.filter(r => r.ok).length;
      return { passed, failed: results.length - passed };
    },
  };
}

module.exports = { createRunner };
