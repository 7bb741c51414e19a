// Parrot's batch API metrics, on the worker runtime's meter (as src/telemetry/llm-metrics.ts):
// batches created and requests submitted, each request's outcome, requests in flight at the
// provider, and how long batches took. Labels: endpoint, role, outcome.
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';

export const BATCH_METRICS = {
  batches: 'parrot_batch_batches',
  submitted: 'parrot_batch_requests_submitted',
  outcomes: 'parrot_batch_request_outcomes',
  inFlight: 'parrot_batch_requests_in_flight',
  turnaround: 'parrot_batch_turnaround',
} as const;

type Tags = { endpoint: string; role: string };

export class BatchMetrics {
  private readonly batches;
  private readonly submitted;
  private readonly outcomes;
  private readonly inFlight;
  private readonly turnaround;

  constructor(meter: MetricMeter = noopMetricMeter) {
    this.batches = meter.createCounter(BATCH_METRICS.batches, 'batches', 'Batches created at the provider');
    this.submitted = meter.createCounter(
      BATCH_METRICS.submitted,
      'requests',
      'Requests submitted in batches',
    );
    this.outcomes = meter.createCounter(
      BATCH_METRICS.outcomes,
      'requests',
      'Batched requests by outcome: ok, or the type of their failure (BatchExpired, Http500, ...)',
    );
    this.inFlight = meter.createGauge(
      BATCH_METRICS.inFlight,
      'int',
      'requests',
      'Requests in batches not yet finished, as the last poll saw them',
    );
    this.turnaround = meter.createHistogram(
      BATCH_METRICS.turnaround,
      'int',
      's',
      'Time from a batch created to its results read',
    );
  }

  created(tags: Tags, requests: number) {
    this.batches.add(1, tags);
    this.submitted.add(requests, tags);
  }

  outcome(tags: Tags, outcome: string, n = 1) {
    if (n > 0) this.outcomes.add(n, { ...tags, outcome });
  }

  polled(tags: Tags, unfinished: number) {
    this.inFlight.set(unfinished, tags);
  }

  finished(tags: Tags, seconds: number) {
    this.turnaround.record(Math.max(0, Math.round(seconds)), tags);
  }
}
