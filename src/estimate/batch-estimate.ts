// What batch mode adds to the estimate: how many rounds of batches a dataset waits for, and the
// wall time they take, from every round finishing at an assumed typical turnaround to every
// round taking the provider's whole completion window. A dialogue's turn t waits for round t of
// its wave; a wave is the dialogues in flight together (batch mode fills the window).
import { batchSettingsOf, type DatasetInput } from '../config/dataset-input';
import { batchLimits } from '../config/batch-endpoints';
import type { EndpointRegistry } from '../config/endpoints';
import type { BatchRole } from '../batch/batch-types';
import { usesBatch } from '../batch/batch-routing';
import { dialoguesPerGroup, maxGroupsInFlight } from '../workflows/fan-out';

/** A batch's typical turnaround when none is given (OpenAI: "most batches complete well within 24 h"). */
export const DEFAULT_BATCH_TURNAROUND_MINUTES = 60;

export interface BatchEstimate {
  roles: BatchRole[];
  /** Dialogues in flight together, and how many waves of them the dataset runs. */
  inFlight: number;
  waves: number;
  /** Rounds of batches, one after another (a round of a wave: one turn of one batched role). */
  rounds: number;
  /** The most batches one round takes (past 50,000 requests or 200 MB it splits; they run side by side). */
  batchesPerRound: number;
  /** Rounds the provider's queue limit splits into several, one after another. */
  splitRounds: number;
  turnaroundSeconds: number;
  windowSeconds: number;
  /** Every round at the typical turnaround; every round at the provider's window, plus its whole fill (a group late). */
  typicalSeconds: number;
  worstSeconds: number;
}

/** Prompt tokens of the answer call at turn t (the largest prompts): the queue limit counts them. */
export type PromptTokensAt = (turn: number) => number;

export function estimateBatches(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  /** Dialogues reaching turn t, by t (index 0 unused). */
  reaching: number[],
  promptTokensAt: PromptTokensAt,
  turnaroundMinutes = DEFAULT_BATCH_TURNAROUND_MINUTES,
): BatchEstimate | undefined {
  const roles = (['ask', 'answer'] as const).filter((r) =>
    usesBatch(input[r].batch, endpoints.get(input[r].endpoint)),
  );
  if (!roles.length) return undefined;
  const window = maxGroupsInFlight(input.maxEventsPerRun) * dialoguesPerGroup(input);
  const inFlight =
    input.concurrency === 'auto'
      ? Math.min(window, input.count)
      : Math.min(input.concurrency, window, input.count);
  const waves = Math.ceil(input.count / inFlight);
  const share = inFlight / input.count; // of the dialogues reaching a turn, those in one wave
  let rounds = 0;
  let batchesPerRound = 1;
  let splitRounds = 0;
  let fillSeconds = 0;
  for (const role of roles) {
    const limits = batchLimits(endpoints.get(input[role].endpoint) ?? {});
    const settings = batchSettingsOf(input[role].batch);
    // Answers at every turn; questions before every turn but the first.
    for (let t = role === 'answer' ? 1 : 2; t < reaching.length; t++) {
      const requests = Math.ceil(reaching[t] * share);
      if (!requests) continue;
      const split = limits.maxEnqueuedTokens
        ? Math.max(1, Math.ceil((requests * promptTokensAt(t)) / limits.maxEnqueuedTokens))
        : 1;
      if (split > 1) splitRounds++;
      batchesPerRound = Math.max(batchesPerRound, Math.ceil(requests / split / limits.maxRequests));
      rounds += split * waves;
      fillSeconds += split * waves * settings.fillSeconds;
    }
  }
  const windowSeconds =
    Math.max(...roles.map((r) => hours(batchSettingsOf(input[r].batch).completionWindow))) * 3600;
  const turnaroundSeconds = turnaroundMinutes * 60;
  return {
    roles,
    inFlight,
    waves,
    rounds,
    batchesPerRound,
    splitRounds,
    turnaroundSeconds,
    windowSeconds,
    typicalSeconds: rounds * turnaroundSeconds,
    worstSeconds: rounds * windowSeconds + fillSeconds,
  };
}

const hours = (window: string) => Number(/^(\d+)h$/.exec(window)?.[1] ?? 24);
