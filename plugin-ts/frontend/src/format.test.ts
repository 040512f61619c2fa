import { describeJobError, entitySummary, formatAge, formatBytes, formatDuration, formatTime } from './format';

describe('format', () => {
  it('bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(formatBytes(null)).toBe('—');
  });

  it('durations and ages by their two largest units', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(4000)).toBe('1 h 6 min');
    expect(formatDuration(93784)).toBe('1 d 2 h');
    expect(formatDuration(86400)).toBe('1 d');
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(formatAge('2026-11-25T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAge('2026-11-25T14:30:00Z', now)).toBe('in 2 h 30 min');
    expect(formatTime('2026-11-25T02:00:00.000Z')).toBe('2026-11-25 02:00:00 UTC');
  });

  it('entity totals with the kinds largest first', () => {
    expect(entitySummary({ User: 5, Component: 40, API: 5 })).toEqual({ total: 50, byKind: 'Component 40 · API 5 · User 5' });
    expect(entitySummary({ component: 40, api: 12, user: 24 })).toEqual({ total: 76, byKind: 'Component 40 · User 24 · API 12' });
    expect(entitySummary(null)).toBeNull();
  });

  it('job errors as a headline and the engine message', () => {
    expect(describeJobError({ code: 'E_LOCKED', message: 'another backup holds the lock' })).toBe(
      'Another backup, restore or prune of this database is running: another backup holds the lock',
    );
    expect(describeJobError({ code: 'E_NEW', message: 'x' })).toBe('The job failed (E_NEW): x');
  });
});
