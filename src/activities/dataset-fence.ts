// Before a dataset runs dialogues that an earlier one may still be running, it fences them: it
// refuses to resume a dataset that still runs, and stops any dialogue group left running by one
// that was terminated (a terminated dataset's groups keep calling the provider, and would store
// the same indices again).
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { DatasetRunRef } from '../types';

/** Cancelled groups get this long to close (their calls notice within a heartbeat) before they are terminated. */
const CANCEL_GRACE_MS = 60_000;
const POLL_MS = 1_000;

/**
 * Fails, not to be retried, while a resumed dataset still runs; then cancels every dialogue group
 * still running for `self` (left by an earlier dataset with the same workflow ID) or for a resumed
 * dataset, and waits until they have closed. Returns the IDs of the groups it stopped.
 */
export async function fenceDatasets(client: Client, self: string, resumed: DatasetRunRef[]): Promise<string[]> {
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
  const leftovers = await runningIds(client, query);
  await Promise.all(leftovers.map((id) => client.workflow.getHandle(id).cancel().catch(ignoreNotFound)));
  const deadline = Date.now() + CANCEL_GRACE_MS;
  let still = leftovers;
  while (still.length && Date.now() < deadline) {
    Context.current().heartbeat({ waitingFor: still.length });
    await Context.current().sleep(POLL_MS);
    still = (await Promise.all(still.map(async (id) => ((await isRunning(client, id)) ? [id] : [])))).flat();
  }
  await Promise.all(still.map((id) => client.workflow.getHandle(id).terminate('fenced: the dataset is resumed, and the group did not close when cancelled').catch(ignoreNotFound)));
  return leftovers;
}

async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
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

/** A visibility-query string literal; IDs holding both quote characters are refused. */
function quote(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw ApplicationFailure.nonRetryable(`workflow ID ${value} holds both quote characters; visibility queries cannot name it`, 'InvalidInput');
}
