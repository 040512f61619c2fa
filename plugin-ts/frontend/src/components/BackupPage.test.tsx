import React from 'react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { mockApis, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { SWRConfig } from 'swr';
import { backupApiRef } from '../api';
import { FakeBackupApi, backup, health, job, responseError } from '../testing/FakeBackupApi';
import { BackupPage } from './BackupPage';

type Granted = Array<'backup.read' | 'backup.create' | 'backup.restore'>;
const ALL: Granted = ['backup.read', 'backup.create', 'backup.restore'];

function render(api: FakeBackupApi, granted: Granted = ALL) {
  const permissionApi = mockApis.permission({
    authorize: request =>
      granted.includes(request.permission.name as Granted[number]) ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
  });
  return renderInTestApp(
    // usePermission caches decisions in SWR: a fresh cache per test keeps the grants apart.
    <SWRConfig value={{ provider: () => new Map() }}>
      <TestApiProvider apis={[[backupApiRef, api], [permissionApiRef, permissionApi]]}>
        <BackupPage />
      </TestApiProvider>
    </SWRConfig>,
  );
}

const button = (name: RegExp | string) => screen.getByRole('button', { name });
/** The reason a disabled control shows in its tooltip. */
const reasonOf = (element: HTMLElement) => element.closest('[data-reason]')?.getAttribute('data-reason');

describe('BackupPage', () => {
  it('empty: says there is no backup yet, health is critical with the reason, the button is ready', async () => {
    const api = new FakeBackupApi({
      backups: [],
      healthResponse: health({
        status: 'CRITICAL',
        summary: 'last backup: no complete backup in s3://backups/backstage',
        checks: [{ name: 'last backup', status: 'CRITICAL', message: 'no complete backup in s3://backups/backstage' }],
        lastBackup: null,
        lastVerify: null,
        lastDrill: null,
      }),
    });
    await render(api);

    expect(await screen.findByText('No backups yet')).toBeInTheDocument();
    expect(screen.getByTestId('health-banner')).toHaveTextContent('Backups: Critical');
    expect(screen.getByTestId('health-summary')).toHaveTextContent('no complete backup in s3://backups/backstage');
    expect(screen.getByTestId('health-last-backup')).toHaveTextContent('None yet');
    expect(screen.getByTestId('health-last-verify')).toHaveTextContent('Never');
    expect(screen.getByTestId('health-next-run')).toHaveTextContent(/in (2 h|1 h 59 min)/);
    expect(button(/back up catalog/i)).toBeEnabled();
  });

  it('lists backups newest first with size, entity counts, trigger and marks', async () => {
    const api = new FakeBackupApi({
      backups: [
        backup({ id: 'backstage-catalog-20261124_020000', createdAt: '2026-11-24T02:00:00Z', verifiedAt: '2026-11-24T03:00:00Z', verifiedOk: false }),
        backup({ id: 'backstage-catalog-20261125_020000', createdAt: '2026-11-25T02:00:00Z', verifiedAt: '2026-11-25T03:00:00Z', verifiedOk: true, trigger: 'manual' }),
      ],
    });
    await render(api);

    const rows = await screen.findAllByTestId(/^backup-row-/);
    expect(rows.map(r => r.getAttribute('data-backup-id'))).toEqual([
      'backstage-catalog-20261125_020000',
      'backstage-catalog-20261124_020000',
    ]);
    expect(rows[0]).toHaveTextContent('2026-11-25 02:00:00 UTC');
    expect(rows[0]).toHaveTextContent('5.0 MiB');
    expect(within(rows[0]).getByTestId('entity-counts')).toHaveTextContent('460 entities');
    expect(within(rows[0]).getByTestId('entity-counts')).toHaveTextContent('Component 400 · User 50 · Group 10');
    expect(rows[0]).toHaveTextContent('manual');
    expect(within(rows[0]).getByTestId('verified-mark')).not.toHaveTextContent('failed');
    expect(within(rows[1]).getByTestId('verified-mark')).toHaveTextContent(/failed/);
    expect(within(rows[0]).getByTestId('drilled-mark')).toHaveTextContent('never');
    expect(screen.getByTestId('health-banner')).toHaveTextContent('Backups: OK');
  });

  it('a backup whose signature the backend refuses says why, and nothing can be done with it', async () => {
    const id = 'backstage-catalog-20261125_020000';
    const api = new FakeBackupApi({
      backups: [backup({ id, signature: 'invalid', signatureProblem: 'its signature does not match its contents' })],
    });
    await render(api);

    const [row] = await screen.findAllByTestId(/^backup-row-/);
    expect(within(row).getByTestId('signature-refused')).toHaveTextContent('Signature refused: its signature does not match its contents');
    const verify = within(row).getByRole('button', { name: /verify/i });
    expect(verify).toBeDisabled();
    expect(reasonOf(verify)).toMatch(/signature is refused/);
    expect(within(row).getByRole('button', { name: /run restore drill/i })).toBeDisabled();
  });

  it('running: follows a backup already running, shows phase, bytes and rate, and holds the button', async () => {
    const running = job({ id: '00000000-0000-4000-8000-00000000000a', trigger: 'scheduled' });
    const api = new FakeBackupApi({ backups: [backup()], runningJobs: [running] });
    await render(api);

    const progress = await screen.findByTestId('job-progress-backup');
    expect(progress).toHaveTextContent('(scheduled)');
    expect(within(progress).getByTestId('job-phase')).toHaveTextContent('upload');
    expect(within(progress).getByTestId('job-bytes')).toHaveTextContent('10.0 MiB read, 2.0 MiB stored');
    expect(within(progress).getByTestId('job-rate')).toHaveTextContent('2.0 MiB/s');
    expect(button(/back up catalog/i)).toBeDisabled();
    expect(reasonOf(button(/back up catalog/i))).toBe('A backup is running; wait for it to finish');
  });

  it('running → done: the button starts a backup, progress shows, then the new backup is listed', async () => {
    const id = '00000000-0000-4000-8000-00000000000b';
    const newId = 'backstage-catalog-20261125_120000';
    const api = new FakeBackupApi({
      backups: [backup()],
      jobScript: [
        job({ id, progress: { phase: 'dump', rawBytes: 3 * 1024 * 1024, storedBytes: 1024 * 1024, bytesPerSecond: 1024 * 1024 } }),
        job({ id, status: 'succeeded', backupId: newId, bytes: 1024 * 1024, durationMs: 2500, finishedAt: new Date().toISOString() }),
      ],
    });
    await render(api);
    await screen.findAllByTestId(/^backup-row-/);

    api.backups = [backup({ id: newId, createdAt: new Date().toISOString(), trigger: 'manual' }), ...api.backups];
    fireEvent.click(button(/back up catalog/i));

    expect(await screen.findByTestId('job-phase')).toHaveTextContent('dump');
    expect(button(/back up catalog/i)).toBeDisabled();
    expect(await screen.findByTestId('backup-outcome', {}, { timeout: 4000 })).toHaveTextContent(
      `Backup ${newId} done: 1.0 MiB stored in 3 s`,
    );
    expect(await screen.findByTestId(`backup-row-${newId}`)).toBeInTheDocument();
    expect(button(/back up catalog/i)).toBeEnabled();
    expect(api.calls.filter(c => c === 'listBackups')).toHaveLength(2);
  });

  it('failed: a backup that fails says why in plain words', async () => {
    const id = '00000000-0000-4000-8000-00000000000c';
    const api = new FakeBackupApi({
      backups: [],
      jobScript: [
        job({
          id,
          status: 'failed',
          finishedAt: new Date().toISOString(),
          error: { code: 'E_PG_DUMP', message: 'pg_dump: error: connection to server at "db" failed: Connection refused' },
        }),
      ],
    });
    await render(api);
    fireEvent.click(await screen.findByRole('button', { name: /back up catalog/i }));

    expect(await screen.findByTestId('backup-outcome')).toHaveTextContent(
      'Backup failed. The database could not be dumped or loaded: pg_dump: error: connection to server at "db" failed: Connection refused',
    );
    expect(screen.getByTestId('backup-outcome')).toHaveAttribute('role', 'alert');
    expect(button(/back up catalog/i)).toBeEnabled();
  });

  it('failed to start: the backend refusing (409 while one runs) is shown with its reason', async () => {
    const api = new FakeBackupApi({
      backups: [],
      startError: responseError(409, 'a backup of the catalog database is running (job 1234); wait for it to finish and try again'),
    });
    await render(api);
    fireEvent.click(await screen.findByRole('button', { name: /back up catalog/i }));

    expect(await screen.findByTestId('backup-start-error')).toHaveTextContent(
      'Could not start the backup: a backup of the catalog database is running (job 1234); wait for it to finish and try again',
    );
  });

  it('failed to load: an unreachable backend is reported for the list and the health alike', async () => {
    const api = new FakeBackupApi();
    api.listBackups = async () => {
      throw new Error('Failed to fetch');
    };
    api.health = async () => {
      throw new Error('Failed to fetch');
    };
    await render(api);

    expect(await screen.findByText(/The backups could not be listed/)).toBeInTheDocument();
    expect(screen.getByTestId('health-banner')).toHaveTextContent('Backup health could not be read');
  });

  it('permission denied (read): explains the missing permission and calls nothing', async () => {
    const api = new FakeBackupApi({ backups: [backup()] });
    await render(api, []);

    expect(await screen.findByText(/You cannot see the backups/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /back up catalog/i })).not.toBeInTheDocument();
    expect(api.calls).toEqual([]);
  });

  it('permission denied (create, restore): buttons are disabled with the reason, Restore is hidden', async () => {
    const api = new FakeBackupApi({ backups: [backup()] });
    await render(api, ['backup.read']);

    const row = await screen.findByTestId('backup-row-backstage-catalog-20261125_020000');
    expect(button(/back up catalog/i)).toBeDisabled();
    expect(reasonOf(button(/back up catalog/i))).toMatch(/needs? the backup.create permission/);
    const verify = within(row).getByRole('button', { name: 'Verify' });
    const drill = within(row).getByRole('button', { name: 'Run restore drill' });
    expect(verify).toBeDisabled();
    expect(drill).toBeDisabled();
    expect(reasonOf(verify)).toMatch(/backup.create/);
    expect(within(row).getByRole('button', { name: 'Download' })).toBeEnabled();
    expect(within(row).queryByRole('button', { name: 'Restore' })).not.toBeInTheDocument();
  });

  it('verify and drill start jobs on their row and show the outcome there', async () => {
    const id = '00000000-0000-4000-8000-00000000000d';
    const target = 'backstage-catalog-20261125_020000';
    const api = new FakeBackupApi({
      backups: [backup()],
      jobScript: [
        job({ id, kind: 'verify', backupId: target, status: 'failed', finishedAt: new Date().toISOString(), error: { code: 'E_INTEGRITY', message: 'SHA-256 of the stored object does not match the manifest' } }),
      ],
    });
    await render(api);
    const row = await screen.findByTestId(`backup-row-${target}`);
    fireEvent.click(within(row).getByRole('button', { name: 'Verify' }));

    expect(await screen.findByTestId(`backup-job-${target}`)).toHaveTextContent(
      'Verify failed. The backup is damaged or does not match its manifest: SHA-256 of the stored object does not match the manifest',
    );
    expect(api.calls).toContain(`verify ${target}`);
  });

  it('restore: the dialog says what happens and restores only once the name is typed', async () => {
    const target = 'backstage-catalog-20261125_020000';
    const api = new FakeBackupApi({
      backups: [backup()],
      jobScript: [job({ id: '00000000-0000-4000-8000-00000000000e', kind: 'restore', backupId: target, progress: { phase: 'load', rawBytes: 1024, storedBytes: 512, bytesPerSecond: 1024 } })],
    });
    await render(api);
    const row = await screen.findByTestId(`backup-row-${target}`);
    fireEvent.click(within(row).getByRole('button', { name: 'Restore' }));

    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('safety backup');
    expect(dialog).toHaveTextContent('all or nothing');
    const confirm = within(dialog).getByRole('button', { name: 'Restore' });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText('Backup name to confirm'), { target: { value: 'backstage-catalog-2026' } });
    expect(confirm).toBeDisabled();
    expect(api.calls.some(c => c.startsWith('restore'))).toBe(false);
    fireEvent.change(within(dialog).getByLabelText('Backup name to confirm'), { target: { value: target } });
    expect(confirm).toBeEnabled();
    fireEvent.click(confirm);

    await waitFor(() => expect(api.calls).toContain(`restore ${target} ${target}`));
    expect(await screen.findByTestId('job-progress-restore')).toHaveTextContent('load');
  });

  it('health warning: the header is coloured by status and says the reason', async () => {
    const api = new FakeBackupApi({
      backups: [backup()],
      healthResponse: health({
        status: 'WARNING',
        summary: 'drill: the last passing drill (backstage-catalog-20261101_020000) was 24d ago, more than 8d',
        checks: [
          { name: 'last backup', status: 'OK', message: 'fine' },
          { name: 'drill', status: 'WARNING', message: 'the last passing drill was 24d ago, more than 8d' },
          { name: 'size', status: 'WARNING', message: 'backstage-catalog-20261125_020000 is 10 bytes, 1% of the median of the 7 before it' },
        ],
      }),
    });
    await render(api);

    expect(await screen.findByTestId('health-summary')).toHaveTextContent('was 24d ago, more than 8d');
    expect(screen.getByTestId('health-banner')).toHaveTextContent('Backups: Warning');
    expect(screen.getByTestId('health-last-drill')).toHaveTextContent('the last passing drill was 24d ago');
    expect(screen.getByText(/1% of the median/)).toBeInTheDocument();
  });
});
