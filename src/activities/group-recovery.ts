// Groups that cannot report their dialogues themselves: one closed without reporting them
// (terminated by hand, say), or one stuck on a workflow task that keeps failing (a
// nondeterminism error after a bad deploy, a bug), found here and given up only when a user asks
// (src/workflows/stuck-groups.ts). The dataset learns what they stored from the records, so that
// paid, stored dialogues count as completed and the rest as failed.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { AllowedRoots } from '../config/allowed-roots';
import { openBlobStore } from '../storage/open-blob-store';
import { heartbeatWhile } from './heartbeats';
import { recordKey } from '../storage/dataset-layout';
import { isRecordOf } from '../storage/dialogue-records';
import type { DatasetRunRef, DialogueRecord } from '../types';
import type { DialogueOutcome, GroupOutcome } from '../workflows/signals';

/** Describe calls in flight at once: a check of a thousand groups stays gentle on the server. */
const DESCRIBE_BATCH = 16;

export interface StuckGroup {
  id: string;
  reason: string;
}

export interface RecoverGroupInput {
  id: string;
  /** Its dialogues the dataset has no outcome for. */
  indices: number[];
  output: string;
  dataset: DatasetRunRef;
  /** Why it could not report: the outcome of each dialogue not stored. */
  reason: string;
  /** Terminate it first (it is stuck, not closed). */
  terminate?: boolean;
}

export function createGroupRecoveryActivities(roots: AllowedRoots) {
  return {
    /** Groups among `ids` whose workflow task has kept failing for at least `stuckSeconds`. */
    async findStuckGroups({
      ids,
      stuckSeconds,
    }: {
      ids: string[];
      stuckSeconds: number;
    }): Promise<StuckGroup[]> {
      const client = Context.current().client;
      const stuck: StuckGroup[] = [];
      for (let i = 0; i < ids.length; i += DESCRIBE_BATCH) {
        const found = await Promise.all(
          ids.slice(i, i + DESCRIBE_BATCH).map((id) => stuckReason(client, id, stuckSeconds)),
        );
        found.forEach((reason, k) => reason && stuck.push({ id: ids[i + k], reason }));
        Context.current().heartbeat({ checked: Math.min(ids.length, i + DESCRIBE_BATCH) });
      }
      return stuck;
    },

    /** Terminates a stuck group if asked (given up), then reports each dialogue it stored as completed and the others as failed. */
    async recoverGroup(input: RecoverGroupInput): Promise<GroupOutcome> {
      roots.check('output', input.output);
      return heartbeatWhile((signal) => recover(input, signal));
    },
  };
}

/** Terminates a stuck group if asked, then reads which of its dialogues were stored. */
async function recover(
  { id, indices, output, dataset, reason, terminate }: RecoverGroupInput,
  signal: AbortSignal,
): Promise<GroupOutcome> {
  if (terminate) {
    await Context.current()
      .client.workflow.getHandle(id)
      .terminate(`parrot: ${reason}`)
      .catch((err) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
  }
  const store = openBlobStore(output, { signal });
  const outcomes = await Promise.all(
    indices.map(async (index): Promise<DialogueOutcome> => {
      const text = await store.get(recordKey(index));
      const record = text === undefined ? undefined : (JSON.parse(text) as DialogueRecord);
      const ours = record && isRecordOf(record, [dataset]);
      if (!ours) return { index, id: `${dataset.datasetId}/${index}`, error: reason };
      const { turns, endedBy, usage } = record;
      return {
        index,
        id: record.id,
        summary: { id: record.id, index, status: 'completed', turns, endedBy, usage, llmMs: 0, waitMs: 0 },
      };
    }),
  );
  return { id, outcomes };
}

/** The message of the group's last workflow task failure, if its last workflow task outcome was a failure. */
async function lastWorkflowTaskFailure(client: Client, id: string): Promise<string | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId: id },
    maximumPageSize: 20,
  });
  for (const e of history?.events ?? []) {
    if (e.workflowTaskFailedEventAttributes)
      return e.workflowTaskFailedEventAttributes.failure?.message ?? 'no message';
    if (e.workflowTaskTimedOutEventAttributes || e.workflowTaskCompletedEventAttributes) return undefined;
  }
  return undefined;
}

async function stuckReason(client: Client, id: string, stuckSeconds: number): Promise<string | undefined> {
  try {
    const { raw } = await client.workflow.getHandle(id).describe();
    const task = raw.pendingWorkflowTask;
    const since = task?.originalScheduledTime?.seconds;
    if (!task || (task.attempt ?? 0) < 3 || since == null) return undefined;
    const failingFor = Date.now() / 1000 - Number(since);
    if (failingFor < stuckSeconds) return undefined;
    // Timed-out tasks (workers down, say) are not a stuck group: only a task that failed is.
    const failure = await lastWorkflowTaskFailure(client, id);
    if (failure === undefined) return undefined;
    return `stuck: its workflow task has failed ${task.attempt} times over ${Math.round(failingFor)} s (${failure})`;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
