// readBackupSettings on the config shapes config.d.ts and the README allow, and the clear
// errors for the ones they do not.
import { ConfigReader } from '@backstage/config';
import { readBackupSettings } from './config';

const read = (backup: object | undefined) => readBackupSettings(new ConfigReader(backup === undefined ? {} : { backup }));

describe('readBackupSettings', () => {
  it('takes a folder as a plain string, as config.d.ts and the README allow', () => {
    const settings = read({ store: './backups' });
    expect(settings.storeUrl).toBe('./backups');
    expect(settings.s3Credentials).toBeUndefined();
    expect(settings.isDefault).toBe(false);
  });

  it('defaults to ./backups with nothing configured', () => {
    expect(read(undefined)).toMatchObject({ storeUrl: './backups', isDefault: true, signing: undefined });
  });

  it('folds S3 options into the URL and reads static credentials', () => {
    const settings = read({
      store: {
        url: 's3://bucket/prefix',
        region: 'eu-west-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
      },
    });
    expect(settings.storeUrl).toBe('s3://bucket/prefix?region=eu-west-1&path_style=true');
    expect(settings.s3Credentials).toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: undefined });
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
