// readBackupSettings on the config shapes config.d.ts and the README allow, and the clear
// errors for the ones they do not.
import { ConfigReader } from '@backstage/config';
import { readBackupSettings } from './config';
import { createEngine } from './engine';

const read = (backup: object | undefined) => readBackupSettings(new ConfigReader(backup === undefined ? {} : { backup }));

describe('readBackupSettings', () => {
  it('takes a folder as a plain string, as config.d.ts and the README allow', () => {
    const settings = read({ store: './backups' });
    expect(settings.store).toBe('./backups');
    expect(settings.isDefault).toBe(false);
  });

  it('defaults to ./backups with nothing configured', () => {
    expect(read(undefined)).toMatchObject({ store: './backups', isDefault: true, signing: undefined });
  });

  it('passes the store object as configured: the engine reads it, credentials and all', () => {
    const store = {
      url: 's3://bucket/prefix',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
    };
    expect(read({ store }).store).toEqual(store);
  });

  it('refuses a wrong store at start-up, in the words of the engine, never echoing a secret', () => {
    const start = (store: object | string) => () => createEngine(read({ store }));
    expect(start({ url: './backups', region: 'eu-west-1' })).toThrow(/^backup\.store: S3 settings .* go with an s3:\/\/bucket\/prefix URL/);
    expect(start({ url: 's3://bucket/p', regoin: 'eu-west-1' })).toThrow(/backup\.store: .*regoin/);
    expect(start('gs://bucket/p')).toThrow(/backup\.store: unsupported store scheme/);
    const secret = { url: './backups', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's3cr3t-value' } };
    expect(start(secret)).toThrow(/backup\.store: S3 credentials are for an s3:\/\/ store/);
    expect(start(secret)).not.toThrow(/s3cr3t-value/);
    expect(createEngine(read({ store: { url: 's3://bucket/prefix', region: 'eu-west-1' } })).describeStore()).toBe('s3://bucket/prefix');
  });

  it('passes backup.retention as configured and refuses a wrong one at start-up, in the words of the engine', () => {
    expect(read({ retention: { keepLast: 3, keepWithin: '30d' } }).retention).toEqual({ keepLast: 3, keepWithin: '30d' });
    expect(read(undefined).retention).toEqual({ keepDaily: 7, keepWeekly: 4, keepMonthly: 6 });
    const start = (retention: object) => () => createEngine(read({ retention }));
    expect(start({ keepLast: 1.5 })).toThrow(/^backup\.retention: prune options: keepLast: /);
    expect(start({ keepHourly: 24 })).toThrow(/backup\.retention: .*keepHourly/);
    expect(start({ keepDaily: 0 })).toThrow(/backup\.retention: .*keeps nothing/);
    expect(start({ keepLast: 200000 })).toThrow(/backup\.retention: .*more than the limit of 100000/);
    expect(start({ keepWithin: 'soon' })).toThrow(/backup\.retention: .*keepWithin/);
  });

  it('reads the signing settings and refuses a key given twice', () => {
    expect(read({ signing: { keyFile: '/etc/k.pem', allowUnsigned: true } }).signing).toEqual({
      keyFile: '/etc/k.pem',
      key: undefined,
      allowUnsigned: true,
    });
    expect(() => read({ signing: { keyFile: '/etc/k.pem', key: 'PEM' } })).toThrow(/keyFile or key, not both/);
  });
});
