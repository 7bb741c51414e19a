// What batch mode adds to the estimate: how many rounds of batches a dataset waits for, and the
// wall time they take, from every round finishing at an assumed typical turnaround to every
// round taking the provider's whole completion window. A dialogue's turn t waits for round t of
// its wave; a wave is the dialogues in flight together (batch mode fills the window).
import { batchSettingsOf, type DatasetInput } from '../config/dataset-input';
import { batchLimits, DEFAULT_BATCH_DISCOUNT, MAX_BATCH_REQUESTS } from '../config/batch-endpoints';
import type { EndpointRegistry } from '../config/endpoints';
import type { BatchRole } from '../batch/batch-types';
import { usesBatch } from '../batch/batch-routing';
import { dialoguesPerGroup, maxGroupsInFlight } from '../planning/fan-out';

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

/** Tokens of the parts of a prompt: the estimate's lengths. */
export interface PromptLengths {
  seed: number;
  system: number;
  question: number;
  answer: number;
}

export const BATCH_ASSUMPTION = `batched calls cost the batch price (PARROT_ENDPOINT_<NAME>_BATCH_PRICE_IN/_OUT, else the online price less _BATCH_DISCOUNT, default ${DEFAULT_BATCH_DISCOUNT * 100}%); a round splits into batches of ${MAX_BATCH_REQUESTS.toLocaleString('en-US')} requests or 200 MB, and no line fails or expires (each that does adds a round)`;

/** The bound batch rounds put on wall time: one after another, each at the typical turnaround. */
export const batchBound = (b: BatchEstimate, duration: (s: number) => string) => ({
  what: `${b.rounds.toLocaleString('en-US')} batch rounds one after another, each at a ${duration(b.turnaroundSeconds)} turnaround (--estimate-batch-turnaround-minutes)`,
  seconds: b.typicalSeconds,
});

export function estimateBatches(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  /** Dialogues reaching turn t, by t (index 0 unused). */
  reaching: number[],
  lengths: PromptLengths,
  turnaroundMinutes = DEFAULT_BATCH_TURNAROUND_MINUTES,
): BatchEstimate | undefined {
  // The queue limit counts prompt tokens: the answer's at turn t, the largest of the round's.
  const promptTokensAt = (t: number) =>
    lengths.system + lengths.seed + (t - 1) * (lengths.answer + lengths.question);
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
