'use strict';
// Child processes the harness starts, each in its own process group so that stopping one stops
// everything it spawned (rspack workers, pg_dump), and nothing else.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

/** A free loopback port (the OS picks; released at once for the child to bind). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a process group with its output in `logFile`; `stop()` ends the group. */
function startProcess(name, command, args, { cwd, env, logFile, stdin = 'ignore' }) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env, detached: true, stdio: [stdin, log, log] });
  fs.closeSync(log);
  let exited = false;
  const exit = new Promise(resolve =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  return {
    name,
    child,
    exit,
    get exited() {
      return exited;
    },
    async stop(timeoutMs = 10_000) {
      if (exited) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = new Promise(resolve => setTimeout(resolve, timeoutMs, 'timeout'));
      if ((await Promise.race([exit, timer])) === 'timeout') {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
        await exit;
      }
    },
  };
}

/** Polls `url` until it answers `ok(status)`, the process dies, `check()` throws, or the time runs out. */
async function waitForHttp(url, { proc, timeoutMs, ok = s => s === 200, headers, check } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc?.exited) throw new Error(`${proc.name} exited before ${url} answered`);
    check?.();
    try {
      const response = await fetch(url, { headers });
      if (ok(response.status)) return response;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${last})`);
}

module.exports = { freePort, startProcess, waitForHttp };
