// The payloads of a workflow's histories as the server stores them: every run of a workflow that
// continued as new, each payload's size, for tests that hold them under a limit.
import type { Client, WorkflowHandle } from '@temporalio/client';

export interface PayloadSize {
  bytes: number;
  runId: string;
  /** The event that carries it, e.g. `activityTaskCompletedEventAttributes`. */
  event: string;
}

/** Every payload of every run of `workflowId` from `firstRunId` on, following continue-as-new. */
export async function payloadSizes(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<PayloadSize[]> {
  const sizes: PayloadSize[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    for (const event of events) {
      const name = Object.keys(event).find(
        (k) => k.endsWith('EventAttributes') && event[k as keyof typeof event],
      );
      visit(event, (bytes) => sizes.push({ bytes, runId: runId!, event: name ?? '?' }));
    }
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return sizes;
}

/** Calls `found` with the size of every payload (an object with `data` bytes and `metadata`) under `value`. */
function visit(value: unknown, found: (bytes: number) => void) {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
  const o = value as { data?: unknown; metadata?: Record<string, Uint8Array> };
  if (o.data instanceof Uint8Array && o.metadata) {
    found(o.data.length + Object.values(o.metadata).reduce((n, v) => n + v.length, 0));
    return;
  }
  for (const v of Object.values(o)) visit(v, found);
}
