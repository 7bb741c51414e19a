// One batcher per dataset and batched role (`<dataset>/batch/<role>`, a child the dataset starts
// and abandons across its continue-as-new). Groups write their requests to storage and signal a
// reference; the batcher gathers them until everyone it expects is in, `fillSeconds` have
// passed, or the batch is full (50,000 requests, 200 MB, the provider's queue room), submits
// them as one batch file (the batch's ID is in history from the activity's completion, and in
// storage and the provider's metadata from its creation), then sleeps and polls. A finished
// batch's outcomes are written per group and each group is signalled the key of its file.
// Cancelled, it cancels its batches at the provider; paused, it submits nothing new.
import {
  allHandlersFinished,
  ApplicationFailure,
  ActivityFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { isFinished, type BatchInFlight, type BatcherView } from '../batch/batch-types';
import { Batcher, type BatcherInput, type BatcherState } from './batcher-state';
import { batcherSteps } from './batch-steps';
import {
  batcherControlSignal,
  batcherQuery,
  batcherViewSignal,
  batchExpectSignal,
  batchGroupDoneSignal,
  batchRejectedSignal,
  batchRequestsSignal,
  batchResultsSignal,
  batchStatusSignal,
  type BatchStatusUpdate,
} from './batch-signals';
import { areYouThereSignal } from './signals';
import { describeFailure } from './failures';
import { signalById } from './signal-by-id';

export type { BatcherInput, BatcherState };

/** An idle batcher (nothing queued, nothing in flight) checks this often that its dataset still runs. */
const IDLE_CHECK_MS = 3_600_000;

export async function runBatcher(input: BatcherInput, carried?: BatcherState): Promise<BatcherView> {
  const b = new Batcher(input, carried);
  setHandler(batchRequestsSignal, (piece) => b.add(piece));
  setHandler(batchGroupDoneSignal, (group) => b.heard(group));
  setHandler(batchExpectSignal, (groups) => b.expect(groups));
  setHandler(batcherControlSignal, (c) => b.control(c));
  setHandler(batcherQuery, () => b.view());
  try {
    while (!b.state.finishing) {
      const wakes = b.wakes;
      await condition(() => b.wakes !== wakes, b.nextWakeMs(IDLE_CHECK_MS));
      await submitDue(b);
      if (b.pollDue()) await pollAndCollect(b);
      await report(b);
      if (!b.state.finishing && (await datasetGone(b))) b.control('finish');
      if (runIsFull(input)) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof runBatcher>(input, b.state);
      }
    }
    await cancelInFlight(b); // finished: nobody waits for what is left
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => cancelInFlight(b));
    throw err;
  }
  return b.view();
}

const runIsFull = (input: BatcherInput) =>
  workflowInfo().historyLength >= input.maxEventsPerRun || workflowInfo().continueAsNewSuggested;

/** Submits batches while one is due and the provider's queue has room; the batches of one call are one round. */
async function submitDue(b: Batcher) {
  const { place, route, settings, datasetId } = b.input;
  let submitted = 0;
  while (b.shouldSubmit()) {
    const pieces = b.nextPieces();
    if (!pieces.length) break;
    const seq = b.state.nextSeq++;
    try {
      const batch = await batcherSteps(b.input).submitBatch.executeWithOptions(
        { summary: `${place.role} batch ${seq}: ${pieces.reduce((n, p) => n + p.count, 0)} requests` },
        [{ place, seq, pieces, url: route.url, completionWindow: settings.completionWindow, datasetId }],
      );
      b.submitted(seq, pieces, batch);
      submitted++;
      await tellGroups(b.state.inFlight.at(-1)!, { batchId: batch.id, status: batch.status }, pieces);
    } catch (err) {
      const type = failureType(err);
      if (type === 'BatchQueueFull') b.holdForQuota(describeFailure(err));
      else if (type === 'BatchQuota') await rejectDataset(b, describeFailure(err));
      else throw err;
      break;
    }
  }
  if (submitted) b.roundSubmitted();
}

/** Polls the batches in flight; tells groups of new statuses; collects and delivers those finished. */
async function pollAndCollect(b: Batcher) {
  const { place } = b.input;
  const steps = batcherSteps(b.input);
  const ids = b.state.inFlight.map((x) => x.id);
  // Groups hear of the long states only: a few signals to each group a batch.
  for (const changed of b.polled(await steps.pollBatches({ place, ids })))
    if (changed.status === 'in_progress' || changed.status === 'cancelling')
      await tellGroups(changed, { batchId: changed.id, status: changed.status });
  for (const batch of b.state.inFlight.filter((x) => isFinished(x.status))) {
    const collected = await steps.collectBatch.executeWithOptions(
      { summary: `${place.role} batch ${batch.seq} (${batch.id}): ${batch.status}` },
      [{ place, seq: batch.seq, batch, createdAt: batch.createdAt, settings: b.input.roleSettings }],
    );
    if (collected.rejection) await rejectDataset(b, collected.rejection);
    await Promise.all(
      collected.results.map(({ group, key }) =>
        signalById(group, batchResultsSignal, { batchId: batch.id, key }),
      ),
    );
    b.finished(batch, collected);
  }
}

/** Each group of the batch hears its status (at submission: which of its pieces it holds). */
async function tellGroups(
  batch: BatchInFlight,
  update: BatchStatusUpdate,
  pieces?: { key: string; group: string }[],
) {
  await Promise.all(
    batch.groups.map((group) =>
      signalById(group, batchStatusSignal, {
        ...update,
        ...(pieces && { pieces: pieces.filter((p) => p.group === group).map((p) => p.key) }),
      }),
    ),
  );
}

/** The dataset and the UI see the batches when they change. */
async function report(b: Batcher) {
  if (!b.dirty) return;
  b.dirty = false;
  const view = b.view();
  const inFlight = view.inFlight.map((x) => `${x.id} (${x.status}, ${x.completed}/${x.total})`).join(', ');
  setCurrentDetails(
    [
      `**${view.role} batches** on ${view.endpoint}${view.paused ? ' · **paused**: nothing new is submitted' : ''}`,
      `${view.rounds} rounds · ${view.batches} batches · ${view.requests} requests submitted · ${view.completed} answered · ${view.failed} failed · ${view.queued} queued`,
      inFlight ? `in flight: ${inFlight}` : 'nothing in flight',
      ...(view.note ? [view.note] : []),
    ].join('\n\n'),
  );
  await signalById(b.input.datasetId, batcherViewSignal, view);
}

async function rejectDataset(b: Batcher, message: string) {
  await signalById(b.input.datasetId, batchRejectedSignal, { role: b.input.place.role, message });
}

/** An idle batcher whose dataset has closed (terminated, say) finishes: nobody will send it requests. */
async function datasetGone(b: Batcher): Promise<boolean> {
  const s = b.state;
  if (s.pending.length || s.inFlight.length || Date.now() < s.lastActivityAt + IDLE_CHECK_MS) return false;
  s.lastActivityAt = Date.now();
  return !(await signalById(b.input.datasetId, areYouThereSignal));
}

async function cancelInFlight(b: Batcher) {
  const ids = b.state.inFlight.filter((x) => !isFinished(x.status)).map((x) => x.id);
  if (ids.length) await batcherSteps(b.input).cancelBatches({ place: b.input.place, ids });
}

function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
