// Before a dataset runs dialogues that an earlier one may still be running, it fences them: it
// refuses to resume a dataset that still runs, and stops any dialogue group left running by one
// that was terminated (a terminated dataset's groups keep calling the provider, and would store
// the same indices again). A group whose start the server carries out late, after that fence,
// checks for itself that the dataset that started it still runs (datasetStillRuns).
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { DatasetRunRef } from '../types';

/** Cancelled groups get this long to close (their calls notice within a heartbeat) before they are terminated. */
const CANCEL_GRACE_MS = 60_000;
const POLL_MS = 1_000;
/** Cancel and terminate requests in flight at once. */
const BATCH = 32;

/**
 * Fails, not to be retried, while a resumed dataset still runs; then cancels every dialogue group
 * still running for `self` (left by an earlier dataset with the same workflow ID) or for a resumed
 * dataset, and waits until they have closed.
 */
export async function fenceDatasets(client: Client, self: string, resumed: DatasetRunRef[]): Promise<void> {
  for (const { datasetId } of resumed) {
    if (datasetId !== self && (await isRunning(client, datasetId))) {
      throw ApplicationFailure.nonRetryable(
        `resumeFrom: dataset '${datasetId}' is still running; wait for it to finish or cancel it (temporal workflow cancel --workflow-id '${datasetId}'), then resume`,
        'DatasetStillRunning',
      );
    }
  }
  const ids = [...new Set([self, ...resumed.map((r) => r.datasetId)])];
  const query = `ExecutionStatus = 'Running' AND WorkflowId != ${quote(self)} AND ParrotDataset IN (${ids.map(quote).join(', ')})`;
  // Cancelled groups close as their calls notice (a heartbeat); visibility lags a little, so the
  // list is taken again until it has been empty twice, cancelling any group that shows up late.
  const stopped = new Set<string>();
  const deadline = Date.now() + CANCEL_GRACE_MS;
  let emptyLists = 0;
  while (emptyLists < 2) {
    const running = await runningIds(client, query);
    emptyLists = running.length ? 0 : emptyLists + 1;
    const fresh = running.filter((id) => !stopped.has(id));
    fresh.forEach((id) => stopped.add(id));
    if (Date.now() > deadline) {
      await forEachBatch(running, (id) =>
        client.workflow
          .getHandle(id)
          .terminate('fenced: the dataset is resumed, and the group did not close when cancelled'),
      );
    } else {
      await forEachBatch(fresh, (id) => client.workflow.getHandle(id).cancel());
    }
    Context.current().heartbeat({ running: running.length });
    await Context.current().sleep(POLL_MS);
  }
}

/** Calls `fn` on every ID, a batch at a time; a workflow closed meanwhile is skipped. */
async function forEachBatch(ids: string[], fn: (id: string) => Promise<unknown>) {
  for (let i = 0; i < ids.length; i += BATCH)
    await Promise.all(ids.slice(i, i + BATCH).map((id) => fn(id).catch(ignoreNotFound)));
}

/**
 * Whether workflow `workflowId` runs, in the chain of runs (continue-as-new) that began with
 * `firstRunId` when given: a dataset cancelled and started again under its workflow ID is another
 * chain, and a group of the first must not work for the second. (A server too old to report the
 * chain's first run ID is taken at its word that the workflow runs.)
 */
export async function isRunning(client: Client, workflowId: string, firstRunId?: string): Promise<boolean> {
  try {
    const { status, raw } = await client.workflow.getHandle(workflowId).describe();
    if (status.name !== 'RUNNING') return false;
    const runningChain = raw.workflowExecutionInfo?.firstRunId;
    return !firstRunId || !runningChain || runningChain === firstRunId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

async function runningIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

function ignoreNotFound(err: unknown) {
  if (!(err instanceof WorkflowNotFoundError)) throw err;
}

/** A visibility-query string literal; IDs holding a backslash or both quote characters are refused (the parser reads escapes). */
function quote(value: string): string {
  if (!value.includes('\\')) {
    if (!value.includes("'")) return `'${value}'`;
    if (!value.includes('"')) return `"${value}"`;
  }
  throw ApplicationFailure.nonRetryable(
    `workflow ID ${value} holds a backslash or both quote characters; visibility queries cannot name it`,
    'InvalidInput',
  );
}
