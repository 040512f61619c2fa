import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import type { Job } from '@backstage-backup/plugin-backup-common';

/** OpenTelemetry metrics of backup runs, by plugin database: what an alert on RPO needs. */
export function createBackupMetrics(metrics: MetricsService) {
  const lastSuccess = new Map<string, number>();
  const lastSize = new Map<string, number>();
  const successGauge = metrics.createObservableGauge('backup.last_success', {
    description: 'Unix time (seconds) of the last successful backup',
    unit: 's',
  });
  successGauge.addCallback(result => {
    for (const [plugin, at] of lastSuccess) result.observe(at, { plugin });
  });
  const sizeGauge = metrics.createObservableGauge('backup.size', {
    description: 'Stored size of the last successful backup',
    unit: 'By',
  });
  sizeGauge.addCallback(result => {
    for (const [plugin, bytes] of lastSize) result.observe(bytes, { plugin });
  });
  const duration = metrics.createHistogram('backup.job.duration', {
    description: 'Duration of backup, verify, drill, restore and prune jobs',
    unit: 's',
  });
  const failures = metrics.createCounter('backup.job.failures', {
    description: 'Failed backup, verify, drill, restore and prune jobs',
  });

  return {
    record(job: Job) {
      const pluginId = job.pluginId;
      const attributes = { kind: job.kind, plugin: pluginId, trigger: job.trigger };
      if (job.durationMs !== null) duration.record(job.durationMs / 1000, { ...attributes, status: job.status });
      if (job.status === 'failed') failures.add(1, { ...attributes, code: job.error?.code ?? 'E_INTERNAL' });
      if (job.kind === 'backup' && job.status === 'succeeded' && job.finishedAt) {
        lastSuccess.set(pluginId, Date.parse(job.finishedAt) / 1000);
        if (job.bytes !== null) lastSize.set(pluginId, job.bytes);
      }
    },
  };
}
