import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import type { RetentionPolicy, StoreObject } from '@backstage-backup/engine';

/** `backup.retention`: core's retention policy (its fields, rules and messages are the engine's). */
export type RetentionSettings = RetentionPolicy;

export interface BackupSettings {
  /**
   * `backup.store` as configured (a folder, a URL, or the object with the S3 settings and
   * credentials): the engine reads it, so its grammar and messages are the engine's. Holds the
   * credentials when given: handed to the engine in memory only, never logged.
   */
  store: StoreObject | string;
  /** True when nothing under `backup:` was configured: the install-and-go default. */
  isDefault: boolean;
  compressionLevel: number;
  schedule: SchedulerServiceTaskScheduleDefinition;
  verifySchedule: SchedulerServiceTaskScheduleDefinition;
  drillSchedule: SchedulerServiceTaskScheduleDefinition;
  retention: RetentionSettings;
  health: { maxAge?: string; verifyMaxAge?: string; drillMaxAge?: string };
  /** Plugin ids, or 'all' to discover every plugin database on the server. */
  databases: string[] | 'all';
  /**
   * `backend.database` as Backstage read it: the engine derives each plugin's database from it
   * exactly as Backstage does (division mode, prefix, per-plugin overrides). Holds the password:
   * it is handed to the engine in memory only, never logged.
   */
  databaseConfigJson: string;
  /** `backup.signing`: the engine's signing settings. The key is never logged. */
  signing?: { key?: string; keyFile?: string; allowUnsigned?: boolean };
  /** Restore through the API needs Backstage's permission framework (`permission.enabled`). */
  permissionFrameworkEnabled: boolean;
}

const DAILY = { frequency: { hours: 24 }, timeout: { hours: 6 }, initialDelay: { minutes: 5 } };
const WEEKLY = { frequency: { days: 7 }, timeout: { hours: 6 }, initialDelay: { minutes: 30 } };

const DEFAULT_RETENTION: RetentionSettings = { keepDaily: 7, keepWeekly: 4, keepMonthly: 6 };

const PLUGIN_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function schedule(config: Config, key: string, fallback: SchedulerServiceTaskScheduleDefinition) {
  const section = config.getOptionalConfig(key);
  return section ? readSchedulerServiceTaskScheduleDefinitionFromConfig(section) : fallback;
}

function store(config: Config): StoreObject | string {
  const value = config.getOptional('backup.store');
  if (value === undefined) return './backups';
  if (typeof value === 'string') return value;
  return config.getConfig('backup.store').get<StoreObject>();
}

function signing(config: Config): BackupSettings['signing'] {
  const section = config.getOptionalConfig('backup.signing');
  if (!section) return undefined;
  const keyFile = section.getOptionalString('keyFile');
  const key = section.getOptionalString('key');
  if (keyFile && key) {
    throw new InputError('backup.signing: give keyFile or key, not both');
  }
  return { keyFile, key, allowUnsigned: section.getOptionalBoolean('allowUnsigned') ?? false };
}

export function readBackupSettings(config: Config): BackupSettings {
  const level = config.getOptionalNumber('backup.compressionLevel') ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new InputError(`backup.compressionLevel must be a whole number from 1 to 9, not ${level}`);
  }
  // As configured: the engine checks it (engine.checkPrune, at start-up) with core's rules.
  const retention = config.getOptionalConfig('backup.retention')?.get<RetentionSettings>() ?? DEFAULT_RETENTION;
  const databasesValue = config.getOptional('backup.databases');
  let databases: string[] | 'all' = ['catalog'];
  if (databasesValue === 'all') databases = 'all';
  else if (databasesValue !== undefined) {
    databases = config.getStringArray('backup.databases');
    const bad = databases.find(id => !PLUGIN_ID.test(id));
    if (bad !== undefined || databases.length === 0) {
      throw new InputError(
        `backup.databases must be 'all' or a list of plugin ids like catalog, scaffolder; '${bad ?? ''}' is not one`,
      );
    }
  }
  const database = config.getOptional('backend.database');
  return {
    store: store(config),
    isDefault: !config.has('backup'),
    compressionLevel: level,
    schedule: schedule(config, 'backup.schedule', DAILY),
    verifySchedule: schedule(config, 'backup.verifySchedule', DAILY),
    drillSchedule: schedule(config, 'backup.drillSchedule', WEEKLY),
    retention,
    health: {
      maxAge: config.getOptionalString('backup.health.maxAge'),
      verifyMaxAge: config.getOptionalString('backup.health.verifyMaxAge'),
      drillMaxAge: config.getOptionalString('backup.health.drillMaxAge'),
    },
    databases,
    signing: signing(config),
    permissionFrameworkEnabled: config.getOptionalBoolean('permission.enabled') ?? false,
    databaseConfigJson: JSON.stringify({ backend: { database: database ?? null } }),
  };
}
