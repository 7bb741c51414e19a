// The worker's runtime telemetry: with PARROT_METRICS_BIND (host:port) the SDK's Prometheus
// exporter serves `/metrics` there, for the SDK's own metrics and parrot's alike (both go through
// the runtime's metric meter: src/telemetry/llm-metrics.ts, src/telemetry/dialogue-metrics.ts).
// Without it the meter is a no-op. Runtime.install runs once per process, before any connection.
import { DefaultLogger, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import { LLM_METRICS } from './llm-metrics';
import { BATCH_METRICS } from './batch-metrics';

/**
 * Bucket bounds (ms) of parrot's histograms: LLM calls take seconds to minutes, and a call may
 * wait at the rate gate for a minute's window; the SDK's default bounds stop at 10 s.
 */
export const PARROT_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [LLM_METRICS.latency]: [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  ],
  [LLM_METRICS.gateWait]: [1, 10, 100, 500, 1_000, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000],
  // Seconds: a batch takes minutes to its 24 h window.
  [BATCH_METRICS.turnaround]: [10, 60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200, 86_400],
};

/** The options for Runtime.install: the log level (PARROT_LOG_LEVEL) and, if asked for, the Prometheus exporter. */
export function runtimeOptionsFromEnv(env: NodeJS.ProcessEnv): RuntimeOptions {
  const logger = new DefaultLogger((env.PARROT_LOG_LEVEL ?? 'INFO') as LogLevel);
  const bindAddress = metricsBindFromEnv(env);
  if (!bindAddress) return { logger };
  return {
    logger,
    telemetryOptions: {
      metrics: { prometheus: { bindAddress, histogramBucketOverrides: PARROT_HISTOGRAM_BUCKETS } },
    },
  };
}

/** PARROT_METRICS_BIND as `host:port` (`0.0.0.0:9464`), or undefined when unset. */
export function metricsBindFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.PARROT_METRICS_BIND?.trim();
  if (!raw) return undefined;
  const m = /^(.+):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[2]) > 65_535)
    throw new Error(`PARROT_METRICS_BIND must be host:port (e.g. 0.0.0.0:9464), got '${raw}'`);
  return raw;
}
