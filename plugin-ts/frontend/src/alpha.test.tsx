import backupFrontendPlugin from './alpha';
import { backupPlugin } from './plugin';

describe('plugin exports', () => {
  it('new frontend system: a plugin with the Backups page at /backup and the backup API', () => {
    expect(backupFrontendPlugin.pluginId).toBe('backup');
    // `kind` is there at run time, not in the public type.
    const kindOf = (extension: object) => (extension as { kind?: string }).kind;
    expect(kindOf(backupFrontendPlugin.getExtension('page:backup'))).toBe('page');
    expect(kindOf(backupFrontendPlugin.getExtension('api:backup'))).toBe('api');
  });

  it('current frontend system: a plugin that provides the backup API', () => {
    expect(backupPlugin.getId()).toBe('backup');
    expect([...backupPlugin.getApis()].map(f => f.api.id)).toEqual(['plugin.backup.api']);
  });
});
