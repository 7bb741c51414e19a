// The parent: validates its input, runs `count` dialogues as child workflows with deterministic
// IDs (`<dataset id>/<index>`), a sliding window of them at a time, then computes metrics and
// exports the dataset.
//
// Temporal's limits shape it: a history fails at 51,200 events (warns at 10,240), so the
// parent continues as new every `maxEventsPerRun` events, carrying a cursor and counters.
// Children are abandoned rather than terminated when a run continues, and report their
// outcome by signal to the parent's workflow ID, which reaches the current run: nothing is
// lost across continue-as-new.
import {
  allHandlersFinished, ApplicationFailure, condition, continueAsNew, defineQuery, getExternalWorkflowHandle, ParentClosePolicy, patched,
  proxyActivities, setCurrentDetails, setHandler, sleep, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SeedReport } from '../seeds/seed-source';
import { DatasetInputError, historyTailRoom, parseDatasetInput, type DatasetInput } from '../config/dataset-input';
import { derivedSeed, prng, uniformInt, weightedPick } from '../random';
import { personaFor } from '../prompts/personas';
import type { DatasetFailure, DatasetResult, TokenUsage } from '../types';
import { generateDialogue } from './dialogue';
import { addUsage, emptyUsage } from '../usage';
import { nextOutside, type IndexRanges } from '../index-ranges';
import { describeFailure } from './failures';
import { PARROT_DATASET, PARROT_PHASE, type DatasetPhase } from './search-attributes';
import { areYouThereSignal, dialogueFinishedSignal, type DialogueOutcome } from './signals';

const { checkEndpoints } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

const { pickSeeds, inspectSeeds } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Dialogues whose seeds one pickSeeds call fetches: one activity per block keeps history small. */
const SEED_BLOCK = 100;
/** The seed question as a child's summary in the UI: its first characters. */
const SUMMARY_CHARS = 200;

const { openDataset } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
});

const { computeMetrics, exportDataset } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** Failure details kept (the count is exact beyond it): keeps continue-as-new payloads small. */
const MAX_FAILURE_DETAILS = 1000;

/** What one run of the parent hands the next when it continues as new. */
export interface DatasetRunState {
  /** Datasets whose stored dialogues count as this one's: itself, then those it resumed. */
  lineage: string[];
  /** Dialogues already stored by resumed datasets: not run again. */
  reused: IndexRanges;
  reusedCount: number;
  /** LLM calls the reused dialogues had cost (not made by this dataset: left out of its rates). */
  reusedCalls: number;
  nextIndex: number;
  /** Dialogues started and not yet reported. */
  inFlight: number[];
  completed: number;
  failedCount: number;
  failures: DatasetFailure[];
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** Workflow time (ms) when the dataset started, for rates and the ETA. */
  startedAt: number;
  runs: number;
  /** The longest history of any run so far (events). */
  maxHistoryLength: number;
  /** The seed source's size and skipped lines (absent in datasets started before it was read up front). */
  seeds?: SeedReport;
  /** Task queues of rate-limited endpoints, from checkEndpoints (absent before they existed). */
  llmTaskQueues?: { ask?: string; answer?: string };
}

export interface DatasetProgress {
  phase: DatasetPhase;
  requested: number;
  started: number;
  completed: number;
  failed: number;
  running: number;
  remaining: number;
  usage: { ask: TokenUsage; answer: TokenUsage };
  llmCallsPerSecond: number;
  dialoguesPerSecond: number;
  etaSeconds: number | null;
  runs: number;
  historyLength: number;
}

export const progressQuery = defineQuery<DatasetProgress>('progress');

/** The target turns of dialogue `index`: fixed, or drawn from {min, max} or a histogram under the run's seed. */
export function turnsFor(input: DatasetInput, index: number): number {
  if (typeof input.turns === 'number') return input.turns;
  const rand = prng(derivedSeed(input.randomSeed, index, 0x7475726e));
  if ('histogram' in input.turns) return weightedPick(rand, Object.entries(input.turns.histogram).map(([k, w]) => [Number(k), w]));
  return uniformInt(rand, input.turns.min, input.turns.max);
}

export async function generateDataset(rawInput: unknown, carried?: DatasetRunState): Promise<DatasetResult> {
  let input: DatasetInput;
  try {
    input = parseDatasetInput(rawInput);
  } catch (err) {
    if (err instanceof DatasetInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput', ...err.problems);
    throw err;
  }
  const datasetId = workflowInfo().workflowId;
  let state: DatasetRunState;
  if (carried) {
    state = { ...carried, runs: carried.runs + 1 };
  } else {
    // Histories from before rate limits recorded no routes (undefined): those dialogues use the parent's queue.
    const routes = await checkEndpoints([
      { field: 'ask.endpoint', endpoint: input.ask.endpoint },
      { field: 'answer.endpoint', endpoint: input.answer.endpoint },
      ...(input.metrics?.embeddings ? [{ field: 'metrics.embeddings.endpoint', endpoint: input.metrics.embeddings.endpoint }] : []),
      ...(input.metrics?.judge ? [{ field: 'metrics.judge.endpoint', endpoint: input.metrics.judge.endpoint }] : []),
    ]);
    // Datasets started before seeds were read up front (v1–v4 histories) did not inspect them.
    const seedReport = patched('dataset-inspects-seeds') ? await inspectSeeds({ seeds: input.seeds }) : undefined;
    // Datasets started before resume existed (v1, v2 histories) did not open their lineage.
    const opened = patched('dataset-lineage-for-resume')
      ? await openDataset({ datasetId, output: input.output, count: input.count, resumeFrom: input.resumeFrom })
      : { lineage: [datasetId], finished: [], finishedCount: 0, finishedUsage: { ask: emptyUsage(), answer: emptyUsage() } };
    state = {
      lineage: opened.lineage, reused: opened.finished, reusedCount: opened.finishedCount,
      nextIndex: nextOutside(opened.finished, 0), inFlight: [], completed: opened.finishedCount, failedCount: 0, failures: [],
      usage: opened.finishedUsage, reusedCalls: opened.finishedUsage.ask.calls + opened.finishedUsage.answer.calls,
      startedAt: Date.now(), runs: 1, maxHistoryLength: 0,
      seeds: seedReport,
      llmTaskQueues: routes ? { ask: routes['ask.endpoint'], answer: routes['answer.endpoint'] } : undefined,
    };
  }
  const inFlight = new Set(state.inFlight);
  let starting = 0;
  let phase: DatasetPhase = 'generating';

  const setPhase = (p: DatasetPhase) => {
    phase = p;
    upsertSearchAttributes([{ key: PARROT_DATASET, value: datasetId }, { key: PARROT_PHASE, value: p }]);
    setCurrentDetails(details(progress(), state.seeds));
  };

  const progress = (): DatasetProgress => {
    const seconds = Math.max(0.001, (Date.now() - state.startedAt) / 1000);
    const finished = state.completed + state.failedCount;
    const dialoguesPerSecond = (finished - state.reusedCount) / seconds;
    const remaining = input.count - finished;
    return {
      phase, requested: input.count, started: state.nextIndex, completed: state.completed, failed: state.failedCount,
      running: inFlight.size, remaining, usage: state.usage,
      llmCallsPerSecond: round((state.usage.ask.calls + state.usage.answer.calls - state.reusedCalls) / seconds),
      dialoguesPerSecond: round(dialoguesPerSecond),
      etaSeconds: remaining === 0 ? 0 : dialoguesPerSecond > 0 ? Math.round(remaining / dialoguesPerSecond) : null,
      runs: state.runs, historyLength: workflowInfo().historyLength,
    };
  };
  setHandler(progressQuery, progress);
  if (!carried) setPhase('generating');

  // Outcomes come by signal (from any run's children) and, for this run's children, as child
  // results too; whichever comes first counts, once.
  const settle = (outcome: DialogueOutcome) => {
    if (!inFlight.delete(outcome.index)) return;
    if (outcome.summary) {
      state.completed++;
      state.usage = { ask: addUsage(state.usage.ask, outcome.summary.usage.ask), answer: addUsage(state.usage.answer, outcome.summary.usage.answer) };
    } else {
      state.failedCount++;
      if (state.failures.length < MAX_FAILURE_DETAILS) state.failures.push({ index: outcome.index, id: outcome.id, error: outcome.error ?? 'unknown error' });
    }
  };
  setHandler(dialogueFinishedSignal, settle);

  // Seeds are picked here, a block at a time, so that each child's summary is its seed question.
  // Datasets started before that (v1–v3 histories) left the choice to the child.
  const seeds = new Map<number, string>();
  const seedFor = async (index: number): Promise<string | undefined> => {
    if (!patched('dataset-picks-seeds')) return undefined;
    if (!seeds.has(index)) {
      seeds.clear();
      const indexes: number[] = [];
      for (let i = index; i < input.count && indexes.length < SEED_BLOCK; i = nextOutside(state.reused, i + 1)) indexes.push(i);
      const picked = await pickSeeds({ seeds: input.seeds, randomSeed: input.randomSeed, indexes });
      picked.forEach((seed, k) => seeds.set(indexes[k], seed));
    }
    return seeds.get(index);
  };

  // Children of this run report by their result too; those inherited from earlier runs only by
  // signal, which never comes from one that was terminated or timed out. When nothing has
  // finished for stallCheckSeconds, ask each inherited one whether it still runs.
  const startedHere = new Set<number>();
  const watchInheritedChildren = async () => {
    for (;;) {
      const before = state.completed + state.failedCount;
      await sleep(`${input.stallCheckSeconds} seconds`);
      if (state.completed + state.failedCount !== before) continue;
      const inherited = [...inFlight].filter((index) => !startedHere.has(index));
      await Promise.all(inherited.map(async (index) => {
        const id = `${datasetId}/${index}`;
        try {
          await getExternalWorkflowHandle(id).signal(areYouThereSignal);
        } catch (err) {
          settle({ index, id, error: `closed without reporting an outcome (terminated, timed out or deleted): ${describeFailure(err)}` });
        }
      }));
    }
  };
  // Datasets started before the watch (v1–v5 histories) replay without its timer.
  if (patched('dataset-watches-inherited-children')) void watchInheritedChildren();

  // The persona list stays in the parent's input: children get only their own persona.
  const { personas, ...childAsk } = input.ask;
  const launch = (index: number, seed: string | undefined) => {
    const id = `${datasetId}/${index}`;
    const turns = turnsFor(input, index);
    const persona = childAsk.mode === 'prompted' ? personaFor(personas, input.randomSeed, index) : undefined;
    inFlight.add(index);
    startedHere.add(index);
    starting++;
    startChild(generateDialogue, {
      workflowId: id,
      args: [{
        datasetId, index, turns, seed, seeds: input.seeds, randomSeed: input.randomSeed, output: input.output, ask: childAsk, answer: input.answer, persona,
        llmTaskQueues: state.llmTaskQueues, llmCallTimeoutSeconds: input.llmCallTimeoutSeconds, llmRetryBudgetSeconds: input.llmRetryBudgetSeconds,
      }],
      // Children outlive a run that continues as new; they report to the next one.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [{ key: PARROT_DATASET, value: datasetId }],
      staticSummary: seed === undefined ? `Dialogue ${index} of ${datasetId}: ${turns} turns` : summaryOf(seed),
    })
      .then(
        (child) => {
          starting--;
          return child.result().then(
            (summary) => settle({ index, id, summary }),
            (err) => settle({ index, id, error: describeFailure(err) }),
          );
        },
        (err) => {
          starting--;
          settle({ index, id, error: `could not start: ${describeFailure(err)}` });
        },
      );
  };

  // Room is kept for what can arrive after the decision: each in-flight child starting or
  // reporting (a few events each), the last workflow tasks and the continue-as-new itself.
  const tailRoom = historyTailRoom(input.concurrency);
  const runIsFull = () => workflowInfo().historyLength + tailRoom >= input.maxEventsPerRun || workflowInfo().continueAsNewSuggested;

  while (state.nextIndex < input.count || inFlight.size > 0) {
    while (state.nextIndex < input.count && inFlight.size < input.concurrency && !runIsFull()) {
      launch(state.nextIndex, await seedFor(state.nextIndex));
      state.nextIndex = nextOutside(state.reused, state.nextIndex + 1);
    }
    setCurrentDetails(details(progress(), state.seeds));
    if (runIsFull()) {
      // Children must have started before this run closes, and signal handlers finished.
      await condition(() => starting === 0 && allHandlersFinished());
      state.maxHistoryLength = Math.max(state.maxHistoryLength, workflowInfo().historyLength);
      await continueAsNew<typeof generateDataset>(rawInput, { ...state, inFlight: [...inFlight] });
    }
    const before = state.completed + state.failedCount;
    await condition(() => state.completed + state.failedCount > before || runIsFull());
  }
  state.maxHistoryLength = Math.max(state.maxHistoryLength, workflowInfo().historyLength);

  setPhase('metrics');
  const ref = { datasetId, lineage: state.lineage, output: input.output, count: input.count };
  const metrics = await computeMetrics({ ...ref, models: input.metrics, randomSeed: input.randomSeed });
  setPhase('exporting');
  const exported = await exportDataset({ ...ref, input, metrics, usage: state.usage, failures: state.failures, seeds: state.seeds });
  setPhase('done');
  return {
    datasetId, requested: input.count, completed: state.completed, reused: state.reusedCount, failedCount: state.failedCount, failed: state.failures,
    usage: state.usage, metrics, export: exported, runs: state.runs, maxHistoryLength: state.maxHistoryLength, seeds: state.seeds,
  };
}

function details(p: DatasetProgress, seeds?: SeedReport): string {
  const eta = p.etaSeconds === null ? '?' : `${p.etaSeconds} s`;
  const skipped = seeds?.skippedLines
    ? [`seeds: ${seeds.seeds} read, ${seeds.skippedLines} malformed lines skipped (first: ${seeds.firstSkipped.slice(0, 5).map((s) => s.line).join(', ')}; all in the result and manifest)`]
    : [];
  return [
    `**${p.phase}** · ${p.completed}/${p.requested} done · ${p.failed} failed · ${p.running} running · ${p.remaining} remaining`,
    `${p.llmCallsPerSecond} LLM calls/s · ETA ${eta} · ${p.usage.ask.completionTokens + p.usage.answer.completionTokens} tokens generated · run ${p.runs}`,
    ...skipped,
  ].join('\n\n');
}

function summaryOf(seed: string): string {
  const oneLine = seed.replace(/\s+/g, ' ').trim();
  return oneLine.length <= SUMMARY_CHARS ? oneLine : `${oneLine.slice(0, SUMMARY_CHARS - 1)}…`;
}

const round = (x: number) => Math.round(x * 100) / 100;
