// How long the steps that hold paid work keep trying: storing a dialogue, reading seeds, opening,
// measuring and exporting a dataset. Tries are unlimited within a schedule-to-close budget, so
// an S3 outage shorter than the budget loses nothing; only non-retryable errors (a missing
// bucket, access denied: src/storage/storage-errors.ts) end them sooner.
import type { ActivityOptions } from '@temporalio/workflow';

export const DEFAULT_STORAGE_RETRY_BUDGET_SECONDS = 6 * 3600;
const DEFAULT_LLM_RETRY_BUDGET_SECONDS = 3600;

/** The budget: never shorter than an LLM call's, whose work a store that gave up first would throw away. */
export function storageRetryBudgetSeconds(s: {
  storageRetryBudgetSeconds?: number;
  llmRetryBudgetSeconds?: number;
}): number {
  return Math.max(
    s.storageRetryBudgetSeconds ?? DEFAULT_STORAGE_RETRY_BUDGET_SECONDS,
    s.llmRetryBudgetSeconds ?? DEFAULT_LLM_RETRY_BUDGET_SECONDS,
  );
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
