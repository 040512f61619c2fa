'use strict';
// Which database, and how its client tools reach it: core's source/conn.rs and resolve.rs for
// the WebAssembly engine. A database URL, Backstage's own configuration (already read), or
// DATABASE_URL / PG*; settings go to pg_dump and psql as libpq variables, the password only as
// PGPASSWORD in the child's environment, never in argv, messages or manifests.
const { BackupError, invalid, printable } = require('../errors');
const core = require('./core');

const DEFAULT_DATABASE = 'backstage_plugin_catalog';
const PASS_THROUGH = [
  ['sslmode', 'PGSSLMODE'],
  ['sslrootcert', 'PGSSLROOTCERT'],
  ['sslcert', 'PGSSLCERT'],
  ['sslkey', 'PGSSLKEY'],
  ['application_name', 'PGAPPNAME'],
  ['connect_timeout', 'PGCONNECT_TIMEOUT'],
  ['options', 'PGOPTIONS'],
];
const CLEARED = ['PGPASSFILE', 'PGSERVICE', 'PGSERVICEFILE', 'DATABASE_URL', 'PGPASSWORD'];

function fillDefaults(conn, env) {
  conn.host ||= 'localhost';
  conn.user ||= env('USER') || 'postgres';
  conn.database ||= DEFAULT_DATABASE;
  return conn;
}

/** `postgresql://user:password@host:5432/db?sslmode=…`, as core's ConnectionInfo::from_url. */
function fromUrl(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    throw invalid('the database URL is not valid; expected postgresql://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalid(`the database URL must start with postgresql://, not ${printable(url.protocol.slice(0, -1))}://`);
  }
  const decode = s => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw invalid('the database URL has a bad escape');
    }
  };
  const conn = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 5432,
    user: decode(url.username),
    password: url.password ? decode(url.password) : undefined,
    database: decode(url.pathname.replace(/^\/+/, '')),
    schema: undefined,
    params: {},
  };
  for (const [name, value] of url.searchParams) {
    if (name === 'host') conn.host = value;
    else if (name === 'port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw invalid(`port '${printable(value)}' is not a number`);
      conn.port = Number(value);
    } else if (name === 'user') conn.user = value;
    else if (name === 'password') conn.password = value || undefined;
    else if (name === 'dbname') conn.database = value;
    else if (name === 'schema' || name === 'currentSchema') conn.schema = value;
    else if (PASS_THROUGH.some(([n]) => n === name)) conn.params[name] = value;
    else {
      throw invalid(
        `unknown database URL parameter '${printable(name)}'; supported: host, port, user, dbname, sslmode, ` +
          'sslrootcert, sslcert, sslkey, application_name, connect_timeout, options',
      );
    }
  }
  return fillDefaults(conn, () => undefined);
}

function fromPgEnv(env) {
  if (!['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'].some(v => env(v))) return undefined;
  const port = env('PGPORT');
  if (port && !/^\d{1,5}$/.test(port)) throw invalid(`PGPORT '${printable(port)}' is not a port number`);
  const conn = {
    host: env('PGHOST') || '',
    port: port ? Number(port) : 5432,
    user: env('PGUSER') || '',
    password: env('PGPASSWORD') || undefined,
    database: env('PGDATABASE') || '',
    schema: undefined,
    params: {},
  };
  for (const [name, variable] of PASS_THROUGH) if (env(variable)) conn.params[name] = env(variable);
  return fillDefaults(conn, env);
}

const isMap = v => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Overlays a Backstage connection mapping (host, port, user, password, database, ssl). */
function overlay(conn, map) {
  const text = key => {
    const v = map[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    throw invalid(`database connection field ${key} must be text`);
  };
  const out = { ...conn, params: { ...conn.params } };
  if (text('host') !== undefined) out.host = text('host');
  if (text('port') !== undefined) {
    if (!/^\d{1,5}$/.test(text('port'))) throw invalid(`database connection port '${printable(text('port'))}' is not a number`);
    out.port = Number(text('port'));
  }
  if (text('user') !== undefined) out.user = text('user');
  if (text('password') !== undefined) out.password = text('password') || undefined;
  if (text('database') !== undefined) out.database = text('database');
  const ssl = map.ssl;
  if (ssl === true) out.params.sslmode = 'require';
  else if (isMap(ssl)) out.params.sslmode = ssl.rejectUnauthorized === false ? 'require' : 'verify-full';
  else if (ssl !== undefined && ssl !== null && ssl !== false) throw invalid('database connection ssl must be true, false or a mapping');
  return out;
}

function connectionFrom(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    try {
      return fromUrl(value);
    } catch (err) {
      throw new BackupError(err.code, `${what}: ${err.message}`);
    }
  }
  if (isMap(value)) return overlay({ host: 'localhost', port: 5432, user: 'postgres', password: undefined, database: '', schema: undefined, params: {} }, value);
  throw invalid(`${what} must be a URL or a mapping`);
}

/**
 * The database of `pluginId` in Backstage's own configuration, already read (JSON text with
 * `backend.database`): core's app_config::plugin_database, so both engines derive the same
 * database (pluginDivisionMode, prefix, plugin.<id> overrides).
 */
function fromBackstageConfig(json, pluginId) {
  let config;
  try {
    config = JSON.parse(json);
  } catch {
    throw invalid('the Backstage configuration passed in is not JSON');
  }
  const db = config?.backend?.database;
  if (!isMap(db)) throw invalid('the app-config has no backend.database section; pass --database-url instead');
  const plugin = isMap(db.plugin) ? db.plugin[pluginId] : undefined;
  const client = plugin?.client ?? db.client ?? 'pg';
  if (!['pg', 'postgres', 'postgresql'].includes(client)) {
    throw invalid(`backend.database.client is '${printable(client)}': backstage-backup backs up PostgreSQL (client: pg) only`);
  }
  let conn = connectionFrom(db.connection, 'backend.database.connection');
  if (!conn) throw invalid('backend.database.connection is missing');
  const override = plugin?.connection;
  const overridesDatabase = (isMap(override) && override.database !== undefined) || typeof override === 'string';
  if (typeof override === 'string') conn = connectionFrom(override, 'plugin connection');
  else if (isMap(override)) conn = overlay(conn, override);
  else if (override !== undefined && override !== null) {
    throw invalid(`backend.database.plugin.${pluginId}.connection must be a URL or a mapping`);
  }
  const prefix = typeof db.prefix === 'string' ? db.prefix : 'backstage_plugin_';
  const mode = db.pluginDivisionMode ?? 'database';
  if (mode === 'database') {
    if (!overridesDatabase) conn.database = `${prefix}${pluginId}`;
  } else if (mode === 'schema') {
    if (!overridesDatabase && conn.database === DEFAULT_DATABASE) conn.database = 'postgres';
    conn.schema = pluginId;
  } else {
    throw invalid(`backend.database.pluginDivisionMode '${printable(mode)}' is unknown: Backstage knows database and schema`);
  }
  fillDefaults(conn, () => undefined);
  return conn;
}

/**
 * The database an operation works on (snake_case options): `app_config_json` (Backstage's
 * configuration, already read), else `database_url`, else DATABASE_URL, else the PG* variables
 * (core's resolve_database). App-config files need the native engine's YAML and `$file`
 * handling: the WebAssembly engine refuses them with E_UNAVAILABLE rather than guess.
 */
function resolveDatabase({ database_url: databaseUrl, app_config: appConfig, app_config_json: configJson, plugin = 'catalog' } = {}) {
  const env = name => process.env[name] || undefined;
  let conn;
  if (configJson) {
    conn = fromBackstageConfig(configJson, plugin);
    return { conn, pluginId: plugin };
  }
  if (databaseUrl) conn = fromUrl(databaseUrl);
  else if (appConfig?.length) {
    throw new BackupError(
      'E_UNAVAILABLE',
      'the WebAssembly engine cannot read Backstage app-config files; pass databaseUrl ' +
        '(or set DATABASE_URL or the PG* variables), or use the native engine',
    );
  } else if (env('DATABASE_URL')) {
    try {
      conn = fromUrl(env('DATABASE_URL'));
    } catch (err) {
      throw new BackupError(err.code, `DATABASE_URL: ${err.message}`);
    }
  } else conn = fromPgEnv(env);
  if (!conn) {
    throw invalid(
      'no database given: pass a database URL or app-config files, or set DATABASE_URL or the PG* ' +
        'variables (PGHOST, PGUSER, PGDATABASE, …)',
    );
  }
  return { conn, pluginId: core.pluginIdForDatabase(conn.schema ?? conn.database) };
}

const hostPort = conn => (conn.host.includes(':') ? `[${conn.host}]:${conn.port}` : `${conn.host}:${conn.port}`);
const redacted = conn => `postgresql://${conn.user}${conn.password ? ':***' : ''}@${hostPort(conn)}/${conn.database}`;
const withDatabase = (conn, name) => ({ ...conn, params: { ...conn.params }, database: name });

/** The child's environment: this process's, minus libpq settings that could redirect it. */
function libpqEnv(conn) {
  const env = { ...process.env };
  for (const name of CLEARED) delete env[name];
  Object.assign(env, { PGHOST: conn.host, PGPORT: String(conn.port), PGUSER: conn.user, PGDATABASE: conn.database });
  if (conn.password) env.PGPASSWORD = conn.password;
  for (const [name, variable] of PASS_THROUGH) if (conn.params[name] !== undefined) env[variable] = conn.params[name];
  return env;
}

module.exports = { resolveDatabase, libpqEnv, hostPort, redacted, withDatabase };
