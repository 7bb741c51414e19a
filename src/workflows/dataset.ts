// The parent: validates its input, runs `count` dialogues in group workflows with deterministic
// IDs (`<dataset id>/<first>-<last>`), a window of them in flight, then computes metrics and
// exports the dataset.
//
// Temporal's limits shape it: a history fails at 51,200 events (warns at 10,240) and a run may
// hold 2,000 pending children, so each child runs a group of dialogues, and the parent continues
// as new every `maxEventsPerRun` events carrying a cursor and counters. Groups are abandoned
// rather than terminated when a run continues, and report by signal to the parent's workflow ID,
// which reaches the current run: nothing is lost across continue-as-new.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DatasetInputError, parseDatasetInput, type DatasetInput } from '../config/dataset-input';
import { personaFor } from '../prompts/personas';
import { type DatasetStop, type DatasetResult, type DialogueSettings, type DialogueSpec } from '../types';
import { describeFailure } from './failures';
import { generateDialogues } from './dialogue-group';
import { DatasetRun, initialRunState, type DatasetProgress, type DatasetRunState } from './dataset-run';
import { historyTailRoom, maxGroupsInFlight } from '../planning/fan-out';
import { turnsFor } from '../planning/turns';
import { measureDataset, probeModels } from './metrics-steps';
import { datasetSteps } from './activity-options';
import { PARROT_DATASET, PARROT_DIALOGUES } from './search-attributes';
import { areYouThereSignal, dialoguesFinishedSignal, type GroupOutcome } from './signals';
import {
  giveUpStuckGroupsUpdate,
  pauseUpdate,
  progressQuery,
  unpauseUpdate,
  setGiveUpHandler,
  type PauseState,
} from './controls';
import { reportStuckGroups } from './stuck-groups';
import { watchLlmQueues } from './watch-unpolled-queues';
import { watchEndpoints } from './endpoint-watch';
import {
  batchProgress,
  cancelBatchers,
  expectAtBatchers,
  openBatches,
  setBatchHandlers,
  tellBatchers,
} from './dataset-batches';

export type { DatasetProgress, DatasetRunState };

/** The parent's steps: every one keeps trying within the storage retry budget (./activity-options.ts). */
function parentSteps(input: DatasetInput) {
  const steps = datasetSteps(input);
  const { checkRoots, checkEndpoints } = proxyActivities<Activities>(steps.check);
  const { inspectSeeds, openDataset, nextToRun } = proxyActivities<Activities>(steps.open);
  const { exportDataset, writeReport } = proxyActivities<Activities>(steps.export);
  const { findStuckGroups, recoverGroup } = proxyActivities<Activities>(steps.recovery);
  return {
    checkRoots,
    checkEndpoints,
    inspectSeeds,
    openDataset,
    nextToRun,
    exportDataset,
    writeReport,
    findStuckGroups,
    recoverGroup,
  };
}

export { progressQuery, pauseUpdate, unpauseUpdate, giveUpStuckGroupsUpdate };

/** A window holds at least this many groups: more, smaller groups when the window is small. */
const SMALL_WINDOW_GROUPS = 4;

export async function generateDataset(rawInput: unknown, carried?: DatasetRunState): Promise<DatasetResult> {
  const input = parseInput(rawInput);
  const datasetId = workflowInfo().workflowId;
  const opening: { run?: DatasetRun } = {};
  const pauseAsked = setPauseHandlers(() => opening.run); // before opening: that can take a while
  const run = new DatasetRun(
    input,
    datasetId,
    carried ? { ...carried, runs: carried.runs + 1 } : await openRun(input, datasetId),
  );
  opening.run = run;
  setHandler(progressQuery, () => run.progress());
  setHandler(dialoguesFinishedSignal, (outcome) => {
    // A late group of an earlier dataset with this workflow ID may report here: not ours.
    if (outcome.datasetRunId === workflowInfo().firstExecutionRunId) run.settle(outcome);
  });
  setGiveUpHandler(run, (id, reason) => recoverGroupOutcomes(run, id, reason, true));
  setBatchHandlers(run);
  if (!carried) run.setPhase('generating');
  const paused = pauseAsked();
  if (paused !== undefined) setPaused(run, paused);
  void watchInheritedGroups(run);
  void watchLlmQueues(run);
  void watchEndpoints(run);
  try {
    await fanOut(run, rawInput);
  } catch (err) {
    if (isCancellation(err) || run.batchRejection)
      await CancellationScope.nonCancellable(async () => {
        await cancelGroups(run);
        await cancelBatchers(run.state.batch);
      });
    throw err;
  }
  await tellBatchers(run.state.batch, 'finish');
  return finish(run);
}

/** Paused, no new dialogue starts and no new batch is submitted. */
function setPaused(run: DatasetRun, paused: boolean) {
  run.setPaused(paused);
  void tellBatchers(run.state.batch, paused ? 'pause' : 'unpause');
}

/**
 * `pause` and `unpause` until the dataset is past starting dialogues. One that comes while the
 * first run is still opening (checking endpoints, reading seeds) is returned by the function
 * this returns, for the run to apply once it exists.
 */
function setPauseHandlers(getRun: () => DatasetRun | undefined): () => boolean | undefined {
  let asked: boolean | undefined;
  const validator = () => {
    const phase = getRun()?.phase;
    if (phase && phase !== 'generating' && phase !== 'paused')
      throw new Error(`the dataset is past starting dialogues (phase ${phase})`);
  };
  const set = (paused: boolean): PauseState => {
    const run = getRun();
    if (run) setPaused(run, paused);
    else asked = paused;
    return { paused, phase: run?.phase ?? 'opening' };
  };
  setHandler(pauseUpdate, () => set(true), { validator });
  setHandler(unpauseUpdate, () => set(false), { validator });
  return () => asked;
}

/**
 * The dataset is cancelled: so is every group in flight, by ID, those started by this run as
 * well as those inherited from earlier runs (abandoned by them when they continued as new): the
 * dataset closes before the SDK's own cancellation of its children would be sent.
 */
async function cancelGroups(run: DatasetRun) {
  run.setPhase('cancelled');
  await Promise.all(
    [...run.groups.keys()].map((id) =>
      getExternalWorkflowHandle(id)
        .cancel()
        .catch(() => undefined /* already closed */),
    ),
  );
}

function parseInput(rawInput: unknown): DatasetInput {
  try {
    return parseDatasetInput(rawInput);
  } catch (err) {
    if (err instanceof DatasetInputError)
      throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput', ...err.problems);
    throw err;
  }
}

/**
 * The first run: seeds and output where the workers allow, endpoints known to them, seeds
 * readable, lineage of the datasets it resumes.
 */
async function openRun(input: DatasetInput, datasetId: string): Promise<DatasetRunState> {
  const { checkRoots, checkEndpoints, inspectSeeds, openDataset } = parentSteps(input);
  await checkRoots({ seeds: input.seeds, output: input.output });
  const needsPrice = input.budget?.maxCostUsd !== undefined || undefined;
  const routes = await checkEndpoints([
    { field: 'ask.endpoint', endpoint: input.ask.endpoint, needsPrice },
    { field: 'answer.endpoint', endpoint: input.answer.endpoint, needsPrice },
    ...(input.metrics?.embeddings
      ? [{ field: 'metrics.embeddings.endpoint', endpoint: input.metrics.embeddings.endpoint }]
      : []),
    ...(input.metrics?.judge
      ? [{ field: 'metrics.judge.endpoint', endpoint: input.metrics.judge.endpoint }]
      : []),
  ]);
  if (input.metrics) await probeModels(input, input.metrics);
  const seeds = await inspectSeeds({ seeds: input.seeds, output: input.output, datasetId });
  const opened = await openDataset({
    datasetId,
    runId: workflowInfo().firstExecutionRunId,
    output: input.output,
    count: input.count,
    resumeFrom: input.resumeFrom,
  });
  const batch = await openBatches(input, datasetId, workflowInfo().firstExecutionRunId);
  return initialRunState(input, { opened, seeds, routes, batch });
}

/** Keeps the window full until every dialogue has reported; continues as new when the run is full. */
async function fanOut(run: DatasetRun, rawInput: unknown) {
  const settings = dialogueSettings(run);
  const maxGroups = maxGroupsInFlight(run.input.maxEventsPerRun);
  // Room is kept for what can arrive after the decision: each group in flight starting or
  // reporting (a few events each), the last workflow tasks and the continue-as-new itself.
  const runIsFull = () =>
    workflowInfo().historyLength + historyTailRoom(run.groups.size + 1) >= run.input.maxEventsPerRun ||
    workflowInfo().continueAsNewSuggested;
  while (run.hasWork) {
    const launched = await launchGroups(run, settings, () => run.groups.size < maxGroups && !runIsFull());
    await expectAtBatchers(run.state.batch, launched);
    run.showDetails();
    if (runIsFull()) {
      // Groups must have started before this run closes, recoveries and signal handlers finished.
      await condition(() => run.quiet && allHandlersFinished());
      await continueAsNew<typeof generateDataset>(rawInput, run.carry());
    }
    const [before, flips, reports] = [run.finished, run.pauseChanges, run.endpointReports];
    await condition(
      () =>
        run.finished > before ||
        runIsFull() ||
        run.pauseChanges !== flips ||
        run.endpointReports !== reports ||
        !run.hasWork,
    );
  }
  if (run.batchRejection) throw ApplicationFailure.nonRetryable(run.batchRejection, 'BatchRejected');
}

/** Starts groups while the window and the run have room and starting is allowed; returns their IDs. */
async function launchGroups(
  run: DatasetRun,
  settings: DialogueSettings,
  runHasRoom: () => boolean,
): Promise<string[]> {
  const launched: string[] = [];
  while (run.toStart > 0 && runHasRoom() && run.mayStart()) {
    // A group starts once the window has room for a whole one (or for all that are left); a
    // small window takes small groups, so that it slides rather than waits for its slowest.
    const window = run.window();
    const size = Math.min(run.groupSize, Math.ceil(window / SMALL_WINDOW_GROUPS));
    if (window - run.running < Math.min(size, run.toStart)) break;
    if (run.needsBlock(size)) {
      await readBlock(run); // then look at the window again
      continue;
    }
    const indices = run.takeNext(size);
    // None taken: a window of 0 (`auto` before the endpoints' first report), or nothing left to
    // run whatever the counts say. Never an empty group.
    if (!indices.length) break;
    launched.push(launchGroup(run, settings, indices));
  }
  return launched;
}

/** Ranges of indices a block holds at most: its payload stays a few KB at any scatter. */
const BLOCK_RANGES = 1000;

/** The next block of indices to run, from the set of those the resumed datasets stored. */
async function readBlock(run: DatasetRun) {
  const block = await parentSteps(run.input).nextToRun({
    output: run.input.output,
    finishedKey: run.state.reusedKey!,
    from: run.state.scannedTo,
    maxRanges: BLOCK_RANGES,
  });
  run.addBlock(block.ranges, block.next);
}

/** What every group gets: the persona list stays here, each dialogue gets only its own persona. */
function dialogueSettings(run: DatasetRun): DialogueSettings {
  const { input } = run;
  const { personas: _, ...ask } = input.ask;
  return {
    datasetId: run.datasetId,
    datasetRunId: workflowInfo().firstExecutionRunId,
    seeds: input.seeds,
    seedChunks: run.state.seeds?.chunks,
    randomSeed: input.randomSeed,
    output: input.output,
    ask,
    answer: input.answer,
    llmTaskQueues: run.state.llmTaskQueues,
    batch: run.state.batch?.routes,
    llmCallTimeoutSeconds: input.llmCallTimeoutSeconds,
    llmRetryBudgetSeconds: input.llmRetryBudgetSeconds,
    storageRetryBudgetSeconds: input.storageRetryBudgetSeconds,
  };
}

/** Dialogue `index`: its target turns and, prompted, its persona, drawn under the run's seed. */
const dialogueSpec = (input: DatasetInput, index: number): DialogueSpec => ({
  index,
  turns: turnsFor(input, index),
  persona:
    input.ask.mode === 'prompted' ? personaFor(input.ask.personas, input.randomSeed, index) : undefined,
});

/** Starts a group of dialogues; returns its workflow ID. */
function launchGroup(run: DatasetRun, settings: DialogueSettings, indices: number[]): string {
  const { input, datasetId } = run;
  const first = indices[0];
  const last = indices[indices.length - 1];
  const id = indices.length === 1 ? `${datasetId}/${first}` : `${datasetId}/${first}-${last}`;
  const dialogues = indices.map((index) => dialogueSpec(input, index));
  run.started(id, indices);
  void run
    .trackStart(
      startChild(generateDialogues, {
        workflowId: id,
        args: [{ settings, dialogues }],
        // Groups outlive a run that continues as new; they report to the next one.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A dataset that reuses a workflow ID reuses its groups' IDs: closed ones may start again.
        // One still running (left by a terminated dataset) was fenced by openDataset.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: [
          { key: PARROT_DATASET, value: datasetId },
          { key: PARROT_DIALOGUES, value: indices.map(String) },
        ],
        staticSummary:
          indices.length === 1
            ? `Dialogue ${first} of ${datasetId}`
            : `Dialogues ${first}–${last} (${indices.length}) of ${datasetId}`,
      }),
    )
    .then(
      (child) =>
        child.result().then(
          (outcome) => run.settle(outcome),
          (err) => recoverGroupOutcomes(run, id, describeFailure(err)),
        ),
      (err) => run.failGroup(id, `could not start: ${describeFailure(err)}`),
    );
  return id;
}

/**
 * Groups of this run report by their result too; those inherited from earlier runs only by
 * signal, which never comes from one that was terminated or timed out. When nothing has finished
 * for stallCheckSeconds, ask each inherited group whether it still runs. Every stallCheckSeconds,
 * groups whose workflow task has kept failing that long (a bad deploy) are marked stuck, never
 * terminated unasked (./stuck-groups.ts).
 */
async function watchInheritedGroups(run: DatasetRun) {
  try {
    await watchForever(run);
  } catch (err) {
    if (!isCancellation(err)) throw err; // the dataset was cancelled: its own cancellation ends it
  }
}

async function watchForever(run: DatasetRun) {
  for (;;) {
    const before = run.finished;
    await sleep(`${run.input.stallCheckSeconds} seconds`);
    await markStuckGroups(run);
    if (run.finished !== before) continue;
    const inherited = [...run.groups.keys()].filter((id) => !run.startedHere.has(id));
    await Promise.all(
      inherited.map(async (id) => {
        try {
          await getExternalWorkflowHandle(id).signal(areYouThereSignal);
        } catch (err) {
          await recoverGroupOutcomes(
            run,
            id,
            `closed without reporting an outcome (terminated, timed out or deleted): ${describeFailure(err)}`,
          );
        }
      }),
    );
  }
}

/** Marks the groups whose workflow task has kept failing for stallCheckSeconds, and unmarks those that recovered. */
async function markStuckGroups(run: DatasetRun) {
  const stuckSeconds = run.input.stallCheckSeconds;
  const ids = run.groupsInFlightFor(stuckSeconds * 1000);
  const marked = run.stuck.size;
  try {
    const found = ids.length
      ? await run.recovery(() => parentSteps(run.input).findStuckGroups({ ids, stuckSeconds }))
      : [];
    run.stuck.update(ids, found, run.groups);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not check the groups for stuck workflow tasks; trying again at the next check', {
      error: describeFailure(err),
    });
  }
  reportStuckGroups(run.stuck.size, stuckSeconds);
  if (run.stuck.size !== marked) run.showDetails();
}

/**
 * A group that cannot report (closed, or stuck and given up: terminated here): its dialogues that
 * are stored count as completed, the others as failed with `reason`. Returns what it counted.
 */
async function recoverGroupOutcomes(
  run: DatasetRun,
  id: string,
  reason: string,
  terminate = false,
): Promise<GroupOutcome | undefined> {
  const indices = run.groups.get(id);
  if (!indices || run.recoveringGroups.has(id)) return undefined; // a give-up's terminate also ends its result
  run.recoveringGroups.add(id);
  try {
    const dataset = { datasetId: run.datasetId, runId: workflowInfo().firstExecutionRunId };
    const outcome = await run.recovery(() =>
      parentSteps(run.input).recoverGroup({
        id,
        indices: [...indices],
        output: run.input.output,
        dataset,
        reason,
        terminate,
      }),
    );
    run.settle(outcome);
    return outcome;
  } catch (err) {
    if (isCancellation(err)) return undefined; // the dataset is cancelled: nothing is counted any more
    run.failGroup(id, `${reason}; its stored dialogues could not be read: ${describeFailure(err)}`);
    return undefined;
  } finally {
    run.recoveringGroups.delete(id);
  }
}

/**
 * The export of every stored dialogue of the lineage, then its metrics (best effort: the export
 * stands whatever they do), then the report; the result.
 */
async function finish(run: DatasetRun): Promise<DatasetResult> {
  const { input, datasetId, state } = run;
  const { exportDataset, writeReport } = parentSteps(input);
  run.noteHistoryLength();
  reportStuckGroups(0, input.stallCheckSeconds);
  run.setPhase('exporting');
  const ref = { datasetId, lineage: state.lineage, output: input.output, count: input.count };
  const stopped = stoppedAt(run);
  const { failures, usage, seeds, givenUp } = state;
  const exported = await exportDataset({
    ...ref,
    input,
    usage,
    failures,
    seeds,
    stopped,
    givenUp,
    batches: batchProgress(state.batch),
  });
  run.reconcileWithExport(exported.storedAfterAll);
  run.setPhase('metrics');
  const { metrics, metricsError } = await measureDataset(input, ref);
  const report = await writeReport({ ...ref, metrics, metricsError });
  run.setPhase('done');
  return {
    ...resultOf(run, stopped),
    metrics,
    ...(metricsError && { metricsError }),
    export: { ...exported, ...report },
  };
}

/** The result's counts, usage and notes, as the run state has them at the end. */
function resultOf(run: DatasetRun, stopped: DatasetStop | undefined) {
  const { state } = run;
  return {
    datasetId: run.datasetId,
    requested: run.input.count,
    completed: state.completed,
    reused: state.reusedCount,
    failedCount: state.failedCount,
    failed: state.failures,
    usage: state.usage,
    runs: state.runs,
    maxHistoryLength: state.maxHistoryLength,
    seeds: state.seeds,
    ...(stopped && { stopped }),
    ...(state.givenUp && { givenUp: state.givenUp }),
  };
}

/** Why the dataset ran fewer dialogues than requested, when its budget stopped it. */
function stoppedAt(run: DatasetRun): DatasetStop | undefined {
  if (!run.state.stoppedBy || !run.input.budget) return undefined;
  const notStarted = run.input.count - run.finished;
  return { reason: 'budget', budget: run.input.budget, spent: run.spent(), notStarted };
}
