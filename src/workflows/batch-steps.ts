// The batch activities as the workflows call them: timeouts and retry policies in one place.
// Every step keeps trying within the storage retry budget (./retry-budget.ts), as the steps that
// hold paid work do; the provider's batch calls are short, but submitting uploads up to 200 MB.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { storageRetryBudgetSeconds, untilBudget } from './retry-budget';

type Budgets = { storageRetryBudgetSeconds?: number; llmRetryBudgetSeconds?: number };

/** The batcher's steps. */
export function batcherSteps(budgets: Budgets) {
  const retry = untilBudget(storageRetryBudgetSeconds(budgets));
  const { submitBatch, collectBatch } = proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    ...retry,
  });
  const { pollBatches, cancelBatches } = proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '1 minute',
    ...retry,
  });
  return { submitBatch, collectBatch, pollBatches, cancelBatches };
}

/** A group's steps: writing its requests, reading its outcomes. */
export function groupBatchSteps(budgets: Budgets) {
  const { stageBatchRequests, readBatchResults } = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    ...untilBudget(storageRetryBudgetSeconds(budgets)),
  });
  return { stageBatchRequests, readBatchResults };
}
