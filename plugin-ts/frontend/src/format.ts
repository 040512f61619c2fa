// How numbers, times and errors read on the Backups page.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; null → "—". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 93784 → "1 d 2 h", 4000 → "1 h 6 min", 42 → "42 s": the two largest units. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}

/** The age of an ISO time relative to `now`, e.g. "3 h 5 min ago" (or "in 2 h" for the future). */
export function formatAge(iso: string, now: number = Date.now()): string {
  const seconds = (now - Date.parse(iso)) / 1000;
  return seconds >= 0 ? `${formatDuration(seconds)} ago` : `in ${formatDuration(-seconds)}`;
}

/** A fixed, unambiguous time: "2026-11-25 02:00:00 UTC" is what the runbook and the names use. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The catalog stores kinds lower-cased; show them as Backstage writes them. */
const KIND_LABELS: Record<string, string> = { api: 'API' };

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind.toLowerCase()] ?? kind.charAt(0).toUpperCase() + kind.slice(1);
}

/** Total entities and the breakdown by kind, largest first. */
export function entitySummary(entities: Record<string, number> | null): { total: number; byKind: string } | null {
  if (!entities) return null;
  const kinds = Object.entries(entities).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    total: kinds.reduce((sum, [, n]) => sum + n, 0),
    byKind: kinds.map(([kind, n]) => `${kindLabel(kind)} ${n.toLocaleString('en-US')}`).join(' · '),
  };
}

/** What each stable engine error code means, as a headline above the engine's own message. */
const HEADLINES: Record<string, string> = {
  E_LOCKED: 'Another backup, restore or prune of this database is running',
  E_PG_DUMP: 'The database could not be dumped or loaded',
  E_STORE: 'The backup store could not be read or written',
  E_INTEGRITY: 'The backup is damaged or does not match its manifest',
  E_NOT_FOUND: 'The backup was not found in the store',
  E_INVALID: 'The request or the configuration is not valid',
  E_EXISTS: 'A backup with this name already exists',
  E_ABORTED: 'The job was cancelled or the backend stopped while it ran',
  E_UNAVAILABLE: 'A service the job needs is unavailable',
  E_INTERNAL: 'The backup engine failed unexpectedly',
};

/** "Headline: message" for a job error; the message says what to fix. */
export function describeJobError(error: { code: string; message: string } | null): string {
  if (!error) return 'The job failed without saying why; see the backend log.';
  const headline = HEADLINES[error.code] ?? `The job failed (${error.code})`;
  return error.message ? `${headline}: ${error.message}` : headline;
}

/** The message of a thrown error (ResponseError carries the backend's own words). */
export function describeError(error: unknown): string {
  const e = error as { body?: { error?: { message?: string } }; message?: string };
  return e?.body?.error?.message ?? e?.message ?? String(error);
}
