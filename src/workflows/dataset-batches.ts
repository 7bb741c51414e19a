// The dataset's side of batch mode: at its start it learns which roles go to a batch API (the
// input's `batch` on each role, else the endpoint's mode on the workers) and starts one batcher
// per such role (./batch-batcher.ts); the groups get their routes. Batchers report their batches
// for progress and the UI, and a batch rejected at validation fails the dataset. The dataset
// pauses, finishes and cancels them.
import {
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { batchSettingsOf, type DatasetInput } from '../config/dataset-input';
import type {
  BatcherView,
  BatchRole,
  BatchRoute,
  GroupBatchRoute,
  BatcherProgress,
} from '../batch/batch-types';
import { runBatcher } from './batch-batcher';
import type { BatcherInput } from './batcher-state';
import {
  batcherControlSignal,
  batcherViewSignal,
  batchExpectSignal,
  batchRejectedSignal,
  type BatcherControl,
} from './batch-signals';
import { datasetSteps } from './activity-options';
import { PARROT_DATASET } from './search-attributes';
import { signalById } from './signal-by-id';

/** What a dataset carries of its batches across continue-as-new. */
export interface DatasetBatches {
  /** By role: what its groups get (DialogueSettings.batch). */
  routes: Partial<Record<BatchRole, GroupBatchRoute>>;
  /** The latest view of each batcher. */
  views: Partial<Record<BatchRole, BatcherView>>;
}

/** A batcher's history stays far below Temporal's warning: one round can add a few thousand events (signals to 1,000 groups). */
const BATCHER_EVENTS_PER_RUN = 4_000;

export const batcherId = (datasetId: string, role: BatchRole) => `${datasetId}/batch/${role}`;

/** Which roles go to a batch API, their batchers started; undefined when every call is online. */
export async function openBatches(
  input: DatasetInput,
  datasetId: string,
  datasetRunId: string,
): Promise<DatasetBatches | undefined> {
  const { batchRoutes } = proxyActivities<Activities>(datasetSteps(input).check);
  const routes = await batchRoutes(
    (['ask', 'answer'] as const).map((role) => ({
      role,
      endpoint: input[role].endpoint,
      batch: input[role].batch,
      ...(role === 'ask' && { mode: input.ask.mode }),
    })),
  );
  if (!routes.length) return undefined;
  const batches: DatasetBatches = { routes: {}, views: {} };
  for (const route of routes)
    batches.routes[route.role] = await startBatcher(input, datasetId, datasetRunId, route);
  return batches;
}

/** Starts the role's batcher; returns what the groups need to reach it. */
async function startBatcher(
  input: DatasetInput,
  datasetId: string,
  datasetRunId: string,
  route: BatchRoute,
): Promise<GroupBatchRoute> {
  const batcher = batcherInput(input, datasetId, datasetRunId, route);
  const id = batcherId(datasetId, route.role);
  await startChild(runBatcher, {
    workflowId: id,
    args: [batcher],
    // Batchers outlive a run that continues as new; the dataset finishes or cancels them.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: [{ key: PARROT_DATASET, value: datasetId }],
    staticSummary: `${route.role} batches of ${datasetId} on ${route.endpoint}`,
  });
  const { maxTries, fillSeconds } = batcher.settings;
  return { place: batcher.place, batcher: id, maxTries, maxRequests: route.maxRequests, fillSeconds };
}

function batcherInput(
  input: DatasetInput,
  datasetId: string,
  datasetRunId: string,
  route: BatchRoute,
): BatcherInput {
  return {
    datasetId,
    place: { output: input.output, datasetRunId, role: route.role, endpoint: route.endpoint },
    route,
    settings: batchSettingsOf(input[route.role].batch),
    // The persona list stays with the dataset, as in the groups' settings.
    roleSettings: route.role === 'ask' ? { ...input.ask, personas: undefined } : input.answer,
    storageRetryBudgetSeconds: input.storageRetryBudgetSeconds,
    llmRetryBudgetSeconds: input.llmRetryBudgetSeconds,
    maxEventsPerRun: Math.min(input.maxEventsPerRun, BATCHER_EVENTS_PER_RUN),
  };
}

/** The batchers' reports: their views, and a batch rejected at validation (which fails the dataset). */
export function setBatchHandlers(run: { batchViewed(view: BatcherView): void; batchRejection?: string }) {
  setHandler(batcherViewSignal, (view) => run.batchViewed(view));
  setHandler(batchRejectedSignal, ({ message }) => {
    run.batchRejection ??= message;
  });
}

/** Pause, unpause or finish every batcher (one closed already is left alone). */
export async function tellBatchers(batches: DatasetBatches | undefined, control: BatcherControl) {
  await Promise.all(
    Object.values(batches?.routes ?? {}).map((r) => signalById(r.batcher, batcherControlSignal, control)),
  );
}

/** Groups just started: their first batch waits for their requests (up to fillSeconds), not for the fill alone. */
export async function expectAtBatchers(batches: DatasetBatches | undefined, groups: string[]) {
  if (!groups.length) return;
  await Promise.all(
    Object.values(batches?.routes ?? {}).map((r) => signalById(r.batcher, batchExpectSignal, groups)),
  );
}

/** Cancelled or failed: each batcher cancels its batches at the provider. */
export async function cancelBatchers(batches: DatasetBatches | undefined) {
  await Promise.all(
    Object.values(batches?.routes ?? {}).map((r) =>
      getExternalWorkflowHandle(r.batcher)
        .cancel()
        .catch(() => undefined /* already closed */),
    ),
  );
}

/** Each batcher's totals and batches in flight, with their ages now. */
export function batchProgress(batches: DatasetBatches | undefined): BatcherProgress[] {
  return Object.values(batches?.views ?? {}).map((v) => ({
    ...v,
    inFlight: v.inFlight.map(({ groups: _, ...b }) => ({
      ...b,
      ageSeconds: Math.round((Date.now() - b.createdAt) / 1000),
    })),
  }));
}

/** The batches for the dataset's details in the UI. */
export function batchDetails(batches: DatasetBatches | undefined): string[] {
  return batchProgress(batches).map((v) => {
    const inFlight = v.inFlight
      .map((b) => `${b.id} ${b.status} ${b.completed}/${b.total} (${b.failed} failed, ${b.ageSeconds} s old)`)
      .join('; ');
    return (
      `**${v.role} batches** on ${v.endpoint}: ${v.rounds} rounds, ${v.batches} batches, ${v.requests} requests submitted, ${v.completed} answered, ${v.failed} failed, ${v.queued} queued` +
      `${inFlight ? ` · in flight: ${inFlight}` : ''}${v.paused ? ' · paused' : ''}${v.note ? ` · ${v.note}` : ''}`
    );
  });
}
