'use strict';
// How the client tools reach a database core resolved (crates/wasm's database.rs): settings go
// to pg_dump and psql as libpq variables, the password only as PGPASSWORD in the child's
// environment, never in argv, messages or manifests.
const core = require('./core');

const hostPort = conn => core.hostPort(conn);
const redacted = conn => core.redactedConnection(conn);

/** The child's environment: this process's, minus libpq settings that could redirect it. */
function libpqEnv(conn) {
  const { set, clear } = core.libpqEnv(conn);
  const env = { ...process.env };
  for (const name of clear) delete env[name];
  for (const [name, value] of set) env[name] = value;
  return env;
}

module.exports = { libpqEnv, hostPort, redacted };
