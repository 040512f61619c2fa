'use strict';
// Which database, and how its client tools reach it: core's resolver (database URL, app-config
// files, Backstage's configuration already read, DATABASE_URL, PG*), through crates/wasm.
// Settings go to pg_dump and psql as libpq variables, the password only as PGPASSWORD in the
// child's environment, never in argv, messages or manifests.
const core = require('./core');

/** `{conn, pluginId}` for an operation's snake_case options. */
function resolveDatabase(options = {}) {
  const { conn, plugin_id: pluginId } = core.resolveDatabase(options);
  return { conn, pluginId };
}

const hostPort = conn => core.hostPort(conn);
const redacted = conn => core.redactedConnection(conn);
const withDatabase = (conn, name) => ({ ...conn, params: { ...conn.params }, database: name });

/** The child's environment: this process's, minus libpq settings that could redirect it. */
function libpqEnv(conn) {
  const { set, clear } = core.libpqEnv(conn);
  const env = { ...process.env };
  for (const name of clear) delete env[name];
  for (const [name, value] of set) env[name] = value;
  return env;
}

module.exports = { resolveDatabase, libpqEnv, hostPort, redacted, withDatabase };
