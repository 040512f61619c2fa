// The client refuses to build a URL from anything but a backup id (the backend refuses too;
// this stops a traversal before it leaves the browser), and turns error responses into
// ResponseErrors that carry the backend's message.
import { BackupClient } from './client';

function recordingClient(status = 200, body: unknown = { items: [] }) {
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const client = new BackupClient({
    discoveryApi: { getBaseUrl: async () => 'http://backstage.test/api/backup' },
    fetchApi: {
      fetch: (async (url: string, init?: RequestInit) => {
        calls.push({ url, init });
        return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
      }) as typeof fetch,
    },
  });
  return { client, calls };
}

it('sends ids only when they are backup ids', async () => {
  const { client, calls } = recordingClient();
  for (const bad of ['../../etc/passwd', 'backstage-catalog-20261125_020000/../x', 'backstage-catalog-20261125_020000\n', '', 'latest']) {
    await expect(client.getBackup(bad)).rejects.toThrow('is not a backup id');
    await expect(client.restore(bad, bad)).rejects.toThrow('is not a backup id');
  }
  expect(calls).toEqual([]);
  await client.verify('backstage-catalog-20261125_020000');
  expect(calls.map(c => [c.init?.method, c.url])).toEqual([
    ['POST', 'http://backstage.test/api/backup/backups/backstage-catalog-20261125_020000/verify'],
  ]);
});

it('sends the confirmation with a restore', async () => {
  const { client, calls } = recordingClient(202, { jobId: 'j' });
  await client.restore('backstage-catalog-20261125_020000', 'backstage-catalog-20261125_020000');
  expect(JSON.parse(String(calls[0].init?.body))).toEqual({ confirm: 'backstage-catalog-20261125_020000' });
});

it('raises the backend\'s error message', async () => {
  const { client } = recordingClient(409, {
    error: { name: 'ConflictError', message: 'a backup of the catalog database is running' },
    response: { statusCode: 409 },
  });
  await expect(client.startBackup()).rejects.toThrow('a backup of the catalog database is running');
});
