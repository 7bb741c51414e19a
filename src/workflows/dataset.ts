// The parent: validates its input, runs `count` dialogues as child workflows with deterministic
// IDs, a bounded number at a time, then computes metrics and exports the dataset.
// State is kept as a cursor plus counters, so that continuing-as-new in slices (for 40,000
// dialogues) carries it over unchanged.
import {
  ApplicationFailure, condition, defineQuery, executeChild, proxyActivities, setHandler,
  upsertSearchAttributes, workflowInfo, ParentClosePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DatasetInputError, parseDatasetInput, type DatasetInput } from '../config/dataset-input';
import { derivedSeed, prng, uniformInt } from '../random';
import type { DatasetFailure, DatasetResult, DialogueSummary, TokenUsage } from '../types';
import { addUsage, emptyUsage, generateDialogue } from './dialogue';
import { PARROT_DATASET, PARROT_PHASE, type DatasetPhase } from './search-attributes';

const { checkEndpoints } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

const { computeMetrics, exportDataset } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
});

export interface DatasetProgress {
  phase: DatasetPhase;
  requested: number;
  started: number;
  completed: number;
  failed: number;
  running: number;
  remaining: number;
  usage: { ask: TokenUsage; answer: TokenUsage };
}

export const progressQuery = defineQuery<DatasetProgress>('progress');

/** The target turns of dialogue `index`: fixed, or drawn from {min, max} under the run's seed. */
export function turnsFor(input: DatasetInput, index: number): number {
  if (typeof input.turns === 'number') return input.turns;
  return uniformInt(prng(derivedSeed(input.randomSeed, index, 0x7475726e)), input.turns.min, input.turns.max);
}

export async function generateDataset(rawInput: unknown): Promise<DatasetResult> {
  let input: DatasetInput;
  try {
    input = parseDatasetInput(rawInput);
  } catch (err) {
    if (err instanceof DatasetInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput', ...err.problems);
    throw err;
  }
  await checkEndpoints([
    { field: 'ask.endpoint', endpoint: input.ask.endpoint },
    { field: 'answer.endpoint', endpoint: input.answer.endpoint },
  ]);

  const datasetId = workflowInfo().workflowId;
  let phase: DatasetPhase = 'generating';
  const setPhase = (p: DatasetPhase) => {
    phase = p;
    upsertSearchAttributes([{ key: PARROT_DATASET, value: datasetId }, { key: PARROT_PHASE, value: p }]);
  };
  setPhase('generating');

  let next = 0;
  let running = 0;
  let completed = 0;
  const failures: DatasetFailure[] = [];
  let usage = { ask: emptyUsage(), answer: emptyUsage() };

  setHandler(progressQuery, () => ({
    phase, requested: input.count, started: next, completed, failed: failures.length, running,
    remaining: input.count - completed - failures.length, usage,
  }));

  const runDialogue = async (index: number) => {
    const id = `${datasetId}/${index}`;
    try {
      const summary: DialogueSummary = await executeChild(generateDialogue, {
        workflowId: id,
        args: [{
          datasetId, index, turns: turnsFor(input, index), seeds: input.seeds, randomSeed: input.randomSeed,
          output: input.output, ask: input.ask, answer: input.answer,
        }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        typedSearchAttributes: [{ key: PARROT_DATASET, value: datasetId }],
      });
      completed++;
      usage = { ask: addUsage(usage.ask, summary.usage.ask), answer: addUsage(usage.answer, summary.usage.answer) };
    } catch (err) {
      failures.push({ index, id, error: describe(err) });
    } finally {
      running--;
    }
  };

  while (next < input.count) {
    await condition(() => running < input.concurrency);
    running++;
    void runDialogue(next++);
  }
  await condition(() => running === 0);

  setPhase('metrics');
  const ref = { datasetId, output: input.output, count: input.count };
  const metrics = await computeMetrics(ref);
  setPhase('exporting');
  const exported = await exportDataset({ ...ref, input, metrics, usage, failures });
  setPhase('done');
  return { datasetId, requested: input.count, completed, failed: failures, usage, metrics, export: exported };
}

function describe(err: unknown): string {
  // A child's failure wraps the activity's; the innermost message says what went wrong.
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = String(e?.message ?? err);
  while (e?.cause) {
    e = e.cause as typeof e;
    if (e?.message) message = e.message;
  }
  return message;
}
