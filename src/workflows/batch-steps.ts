// The batch activities as the workflows call them (their options: ./activity-options.ts).
// Every step keeps trying within the storage retry budget, as the steps that hold paid work do.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  batcherSteps as batcherOptions,
  groupBatchSteps as groupOptions,
  type Budgets,
} from './activity-options';

/** The batcher's steps. */
export function batcherSteps(budgets: Budgets) {
  const options = batcherOptions(budgets);
  const { submitBatch, collectBatch } = proxyActivities<Activities>(options.submit);
  const { pollBatches, cancelBatches } = proxyActivities<Activities>(options.poll);
  return { submitBatch, collectBatch, pollBatches, cancelBatches };
}

/** A group's steps: writing its requests, reading its outcomes. */
export function groupBatchSteps(budgets: Budgets) {
  const { stageBatchRequests, readBatchResults } = proxyActivities<Activities>(groupOptions(budgets));
  return { stageBatchRequests, readBatchResults };
}
