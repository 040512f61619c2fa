import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { Job } from '@backstage-backup/plugin-backup-common';
import { backupApiRef } from '../api';

/** How often a running job is polled. */
export const POLL_MS = 1000;

export interface Jobs {
  /** Jobs followed on this page, newest first: running ones update every second. */
  jobs: Job[];
  /** Follow a job that was just started. */
  track(jobId: string): void;
}

/**
 * Follows jobs until they finish: the ones started here, and the ones already running when the
 * page opened (a scheduled backup, another admin's drill), looked for again whenever `rescan`
 * changes. `onFinished` runs once per job.
 */
export function useJobs(enabled: boolean, onFinished: (job: Job) => void, rescan = 0): Jobs {
  const api = useApi(backupApiRef);
  const [jobs, setJobs] = useState<Record<string, Job>>({});
  const [pending, setPending] = useState<string[]>([]);
  const finishedRef = useRef(onFinished);
  finishedRef.current = onFinished;

  const upsert = useCallback((job: Job) => setJobs(all => ({ ...all, [job.id]: job })), []);

  // Jobs already running when the page opens (and at each `rescan`: started elsewhere since).
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    api.listJobs().then(
      ({ items }) => live && items.filter(j => j.status === 'running').forEach(upsert),
      () => undefined, // the list and health panels report an unreachable backend
    );
    return () => {
      live = false;
    };
  }, [api, enabled, upsert, rescan]);

  const track = useCallback((jobId: string) => setPending(p => [...p, jobId]), []);

  const runningIds = [
    ...new Set(
      Object.values(jobs)
        .filter(j => j.status === 'running')
        .map(j => j.id)
        .concat(pending),
    ),
  ]
    .sort()
    .join(',');

  // One polling loop over the running jobs; it restarts whenever that set changes.
  useEffect(() => {
    if (!runningIds) return undefined;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      for (const id of runningIds.split(',')) {
        let job: Job;
        try {
          job = await api.getJob(id);
        } catch {
          continue; // a blip: try again on the next round
        }
        if (!live) return;
        setPending(p => p.filter(x => x !== id));
        upsert(job);
        if (job.status !== 'running') finishedRef.current(job);
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, 0);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, runningIds, upsert]);

  const list = Object.values(jobs).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return { jobs: list, track };
}
