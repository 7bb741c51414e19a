// Every activity's timeouts and retry policy, in one place; the workflows proxy their activities
// with these. The steps that hold paid work (storing a dialogue, reading seeds, opening, exporting,
// batches) keep trying without limit within the storage retry budget, so an S3 outage shorter
// than it loses nothing; only non-retryable errors (a missing bucket, access denied:
// src/storage/storage-errors.ts) end them sooner. The budgets themselves come from the input
// schema (src/config/dataset-input.ts), its defaults included.
import type { ActivityOptions, Duration, RetryPolicy } from '@temporalio/common';
import type { DatasetInput } from '../config/dataset-input';
import type { DialogueSettings } from '../types';

/** The retry budgets of a dataset or a dialogue, as the schema gave them. */
export type Budgets = Pick<DatasetInput, 'storageRetryBudgetSeconds' | 'llmRetryBudgetSeconds'>;

/** The storage budget: never shorter than an LLM call's, whose work a store that gave up first would throw away. */
export function storageRetryBudgetSeconds(b: Budgets): number {
  return Math.max(b.storageRetryBudgetSeconds, b.llmRetryBudgetSeconds);
}

/**
 * Unlimited tries within `budgetSeconds`. The backoff (1 s, doubling) tops out at a 60th of the
 * budget, 1 minute at most, so that a short budget still gets many tries.
 */
export function untilBudget(
  budgetSeconds: number,
): Pick<ActivityOptions, 'scheduleToCloseTimeout' | 'retry'> {
  const maximumInterval = Math.min(60_000, Math.max(100, Math.round((budgetSeconds * 1000) / 60)));
  return {
    scheduleToCloseTimeout: budgetSeconds * 1000,
    retry: { initialInterval: Math.min(1000, maximumInterval), backoffCoefficient: 2, maximumInterval },
  };
}

/** A storage step of `startToClose` that heartbeats every `heartbeat`, tried within the storage budget. */
const storageStep = (b: Budgets, startToClose: Duration, heartbeat?: Duration): ActivityOptions => ({
  startToCloseTimeout: startToClose,
  ...(heartbeat && { heartbeatTimeout: heartbeat }),
  ...untilBudget(storageRetryBudgetSeconds(b)),
});

const LLM_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
};

/**
 * An LLM step, on the endpoint's own task queue when it has a request limit. A step may wait at
 * its endpoint's gates on the worker before its request goes out, so its timeouts are the retry
 * budget; the request's own timeout (llmCallTimeoutSeconds, in the step's input) runs from when it
 * is sent (src/activities/llm.ts). Tries are unlimited within the budget: a dead provider fails
 * the dialogue, resumably.
 */
export const llmCall = (settings: DialogueSettings, role: 'ask' | 'answer'): ActivityOptions => ({
  taskQueue: settings.llmTaskQueues?.[role],
  startToCloseTimeout: settings.llmRetryBudgetSeconds * 1000,
  // Calls heartbeat every few seconds (src/activities/llm.ts): a dead worker shows within this.
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: settings.llmRetryBudgetSeconds * 1000,
  retry: LLM_RETRY,
});

/** A dialogue's storage steps (seeds, records, progress): they heartbeat while they wait on S3, so a cancellation reaches them. */
export const dialogueStorage = (b: Budgets) => storageStep(b, '1 minute', '30 seconds');

/** The dataset's steps, by how long one try may take. */
export const datasetSteps = (b: Budgets) => ({
  /** Roots, endpoints, batch routes: quick checks at the start. */
  check: storageStep(b, '30 seconds'),
  /** Reading seeds, opening the output, the set of stored dialogues. */
  open: storageStep(b, '1 hour', '2 minutes'),
  /** The export, the text metrics and the report. */
  export: storageStep(b, '2 hours', '2 minutes'),
  /** Finding and recovering groups that cannot report. */
  recovery: storageStep(b, '10 minutes', '1 minute'),
});

/** Tries of the model metrics: each request is bounded and tried again inside, so a try fails only when a model keeps failing. */
const MODEL_METRICS_ATTEMPTS = 3;

/** The model metrics after the export: best effort, a few tries. */
export const modelMetrics: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  // It heartbeats every few seconds, whatever its requests do: a dead worker shows within this.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: MODEL_METRICS_ATTEMPTS },
};

/** The probe of the metrics models at the start: tiny requests, each of at most `timeoutSeconds`. */
export const metricsProbe = (timeoutSeconds: number): ActivityOptions => ({
  startToCloseTimeout: `${timeoutSeconds + 30} seconds`,
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** A worker's report of its endpoints: a report missed is replaced by the next one, so few tries. */
export const endpointReport: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 2 },
};

/** Who polls the endpoints' task queues: the next check is the next try. */
export const queuePolls: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
};

/** The batcher's steps: submitting uploads up to 200 MB; polling and cancelling are short. */
export const batcherSteps = (b: Budgets) => ({
  submit: storageStep(b, '1 hour', '1 minute'),
  poll: storageStep(b, '5 minutes', '1 minute'),
});

/** A group's batch steps: writing its requests, reading its outcomes. */
export const groupBatchSteps = (b: Budgets) => storageStep(b, '10 minutes', '30 seconds');
