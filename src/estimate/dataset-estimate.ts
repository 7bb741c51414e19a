// What a dataset input will take before it is started: LLM calls, prompt and completion tokens,
// cost at the endpoints' declared prices, and wall time under their limits. Pure: the caller reads
// the seeds (a sample of them) and the endpoint configuration; `npm run start -- --estimate`
// prints the result.
//
// The model follows the dialogue loop (src/workflows/dialogue.ts): a dialogue of T turns makes T
// answer calls and T - 1 ask calls, and every call re-sends the dialogue so far, so prompt tokens
// grow with the square of the turns. Turn counts and personas are drawn exactly as the workflow
// draws them; the ask prompt's framing is measured on the real prompt builders.
import type { DatasetInput } from '../config/dataset-input';
import { callCostUsd, type EndpointRegistry } from '../config/endpoints';
import { requestsPerSecond } from '../config/task-queues';
import { socraticPrompt } from '../prompts/parrot-ask';
import { personaFor } from '../prompts/personas';
import { promptedUserMessages } from '../prompts/prompted-user';
import type { ChatMessage } from '../types';
import { formatUsd } from '../usage';
import { turnsFor } from '../planning/turns';
import { ASSUMED_ANSWER_TOKENS, ASSUMED_QUESTION_TOKENS, nextRoundOverflows } from '../planning/context-room';
import { dialoguesPerGroup, windowSize } from '../planning/fan-out';
import { maxTurns } from '../planning/turns';
import { batchPrices } from '../config/batch-endpoints';
import { usesBatch } from '../batch/batch-routing';
import { BATCH_ASSUMPTION, batchBound, estimateBatches, type BatchEstimate } from './batch-estimate';

/** Tokens are counted as characters / 4 (no tokenizer is a dependency; the rate gate counts the same way). */
export const CHARS_PER_TOKEN = 4;
/** A call's latency when none is given: what the dataset's window assumes before it has measured one. */
export const DEFAULT_LATENCY_MS = 10_000;
/**
 * LLM calls a second that Temporal and the workers carry when nothing else limits them: one worker
 * and a dev server on 2 cores carried 117–135 in the 5 s benchmark (docs/BENCHMARKS.md), about
 * 13 ms of CPU a call between them. A larger deployment carries more: --estimate-calls-per-second.
 */
export const DEFAULT_ORCHESTRATION_CALLS_PER_SECOND = 120;
/** Completion lengths when the input sets no maxTokens: the defaults the workflow plans with. */

/** What the caller read of the seed source. */
export interface SeedSample {
  /** Mean characters of a seed question. */
  meanChars: number;
  /** Seeds the mean was taken over, and whether they were all the source holds. */
  sampled: number;
  complete: boolean;
}

export interface EstimateOptions {
  /** Provider time of one call (default DEFAULT_LATENCY_MS). */
  latencyMs?: number;
  /** Completion tokens of one question / one answer (default: the input's maxTokens, an upper bound). */
  questionTokens?: number;
  answerTokens?: number;
  /** Measured by real calls (--estimate-sample): used where the options above are absent. */
  measured?: MeasuredCalls;
  /** A batch's typical turnaround (default DEFAULT_BATCH_TURNAROUND_MINUTES). */
  batchTurnaroundMinutes?: number;
  /** LLM calls a second the Temporal deployment carries (default DEFAULT_ORCHESTRATION_CALLS_PER_SECOND). */
  callsPerSecond?: number;
}

/** What real calls measured: the first round (an answer, then a question) of a few dialogues. */
export interface MeasuredCalls {
  dialogues: number;
  /** Mean provider time of a call (ms). */
  latencyMs: number;
  /** Mean completion tokens of a question / an answer. */
  questionTokens: number;
  answerTokens: number;
}

export interface UsageEstimate {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** USD at the endpoint's prices; absent when it declares none. */
  costUsd?: number;
}

export interface RoleEstimate extends UsageEstimate {
  endpoint: string;
  /** Its calls go through the endpoint's batch API, priced at the batch price (absent: online). */
  batch?: true;
  /** What they would cost online, when batched and priced. */
  onlineCostUsd?: number;
}

/** One limit on wall time, in seconds: the estimate is the largest. */
export interface WallTimeBound {
  what: string;
  seconds: number;
}

export interface DatasetEstimate {
  dialogues: number;
  /** Turns over all dialogues, after the context limits cut any short. */
  turns: number;
  ask: RoleEstimate;
  answer: RoleEstimate;
  /** Both roles; `costUsd` absent when either endpoint has no price. */
  total: UsageEstimate;
  /** Endpoints the input uses that declare no price (or that this configuration does not know). */
  unpricedEndpoints: string[];
  /** Dialogues the dataset keeps in flight at its start. */
  window: number;
  wallSeconds: number;
  /** Every bound considered, largest first. */
  bounds: WallTimeBound[];
  assumptions: string[];
  /** With a `budget` in the input: the dialogues it pays for at the estimated mean, and what binds. */
  budget?: { dialogues: number; by: string };
  /** With a role through a batch API: its rounds and their wall time. */
  batch?: BatchEstimate;
}

/** The dialogues `budget` pays for at the estimate's mean cost and tokens; undefined with no budget. */
function budgetReach(input: DatasetInput, total: UsageEstimate): DatasetEstimate['budget'] {
  const b = input.budget;
  if (!b) return undefined;
  const per = (x: number) => x / input.count;
  const caps: { dialogues: number; by: string }[] = [];
  if (b.maxTokens !== undefined)
    caps.push({
      dialogues: Math.floor(b.maxTokens / per(total.promptTokens + total.completionTokens)),
      by: `maxTokens ${n(b.maxTokens)}`,
    });
  if (b.maxCostUsd !== undefined)
    caps.push({
      // Unpriced: the cost budget stops the dataset at its first unpriced call.
      dialogues: total.costUsd === undefined ? 0 : Math.floor(b.maxCostUsd / per(total.costUsd)),
      by: `maxCostUsd ${formatUsd(b.maxCostUsd)}`,
    });
  const binding = caps.sort((x, y) => x.dialogues - y.dialogues)[0];
  return { dialogues: Math.min(binding.dialogues, input.count), by: binding.by };
}

const n = (x: number) => x.toLocaleString('en-US');

/** Prompt characters a builder adds around the dialogue: fixed, and per question/answer pair. */
interface Framing {
  fixedChars: number;
  pairChars: number;
}

/** Measures a prompt builder on dialogues of empty turns: its length is linear in the pairs. */
function framingOf(build: (dialogue: ChatMessage[]) => number): Framing {
  const pairs = (count: number) =>
    Array.from({ length: count }, (): ChatMessage[] => [
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ]).flat();
  const one = build(pairs(1));
  const pairChars = build(pairs(2)) - one;
  return { fixedChars: one - pairChars, pairChars };
}

/** Tokens of the parts every prompt is made of. */
interface Lengths {
  /** A seed question, the answerer's system prompt, a question, an answer. */
  seed: number;
  system: number;
  question: number;
  answer: number;
}

type Tally = Omit<UsageEstimate, 'costUsd'>;

/** The turn after which the next round could overflow a context (the dialogue ends there), or Infinity. */
function contextTurnsOf(input: DatasetInput, l: Lengths): number {
  for (let t = 1; t <= 100; t++) {
    // What the answerer saw and wrote at turn t: how the workflow sizes the dialogue.
    if (nextRoundOverflows(input, l.system + l.seed + (t - 1) * (l.answer + l.question) + l.answer)) return t;
  }
  return Infinity;
}

/**
 * Calls and tokens by role, dialogue by dialogue, with the turns and persona each is drawn. A
 * dialogue of T turns, with P = T(T − 1)/2:
 * - answer t sees the system prompt, the seed and t − 1 rounds: T(system + seed) + P(answer + question);
 * - ask t (t < T) sees the framing, the seed, t answers and t − 1 questions:
 *   framing + (T − 1) seed + P answer + (T − 1)(T − 2)/2 question.
 */
function countCalls(input: DatasetInput, l: Lengths, contextTurns: number) {
  const framings = new Map<string | undefined, Framing>();
  const askFraming = (persona: string | undefined): Framing => {
    let f = framings.get(persona);
    if (!f) {
      f =
        input.ask.mode === 'parrot-ask'
          ? framingOf((d) => socraticPrompt(d, input.ask.instruction).length)
          : framingOf((d) =>
              promptedUserMessages(d, input.ask.instruction, persona).reduce(
                (chars, m) => chars + m.content.length,
                0,
              ),
            );
      framings.set(persona, f);
    }
    return f;
  };
  const ask: Tally = { calls: 0, promptTokens: 0, completionTokens: 0 };
  const answer: Tally = { calls: 0, promptTokens: 0, completionTokens: 0 };
  let turns = 0;
  let longest = 0;
  const ending: number[] = [];
  for (let index = 0; index < input.count; index++) {
    const T = Math.min(turnsFor(input, index), contextTurns);
    const P = (T * (T - 1)) / 2;
    turns += T;
    ending[T] = (ending[T] ?? 0) + 1;
    longest = Math.max(longest, 2 * T - 1);
    answer.calls += T;
    answer.promptTokens += T * (l.system + l.seed) + P * (l.answer + l.question);
    answer.completionTokens += T * l.answer;
    const f = askFraming(
      input.ask.mode === 'prompted' ? personaFor(input.ask.personas, input.randomSeed, index) : undefined,
    );
    ask.calls += T - 1;
    ask.promptTokens +=
      ((T - 1) * f.fixedChars + P * f.pairChars) / CHARS_PER_TOKEN +
      (T - 1) * l.seed +
      P * l.answer +
      ((T - 1) * (T - 2) * l.question) / 2;
    ask.completionTokens += (T - 1) * l.question;
  }
  // Dialogues reaching turn t: those ending at t or later.
  const reaching = Array.from({ length: ending.length }, () => 0);
  for (let t = ending.length - 1, n = 0; t >= 1; t--) reaching[t] = n += ending[t] ?? 0;
  return { ask, answer, turns, longest, reaching };
}

/** A role's tally, rounded, and priced when its endpoint has prices (batched: at the batch price). */
function roleEstimate(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  role: 'ask' | 'answer',
  u: Tally,
): RoleEstimate {
  const { endpoint: name, batch } = input[role];
  const endpoint = endpoints.get(name);
  const promptTokens = Math.round(u.promptTokens);
  const completionTokens = Math.round(u.completionTokens);
  const online = endpoint && callCostUsd(endpoint, promptTokens, completionTokens);
  if (!usesBatch(batch, endpoint)) {
    return {
      endpoint: name,
      calls: u.calls,
      promptTokens,
      completionTokens,
      ...(online !== undefined && { costUsd: online }),
    };
  }
  const prices = endpoint && batchPrices(endpoint);
  const costUsd = prices && callCostUsd(prices, promptTokens, completionTokens);
  return {
    endpoint: name,
    calls: u.calls,
    promptTokens,
    completionTokens,
    ...(costUsd !== undefined && { costUsd }),
    batch: true,
    ...(online !== undefined && { onlineCostUsd: online }),
  };
}

/** What bounds wall time: the window's dialogues × latency, the longest dialogue, each endpoint's limits. Largest first. */
function wallTimeBounds(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  roles: RoleEstimate[],
  longest: number,
  latencyMs: number,
  callsPerSecond: number,
): { window: number; bounds: WallTimeBound[] } {
  const window = windowSize(
    input,
    {
      ask: endpoints.get(input.ask.endpoint)?.rpm,
      answer: endpoints.get(input.answer.endpoint)?.rpm,
      shared: input.ask.endpoint === input.answer.endpoint,
    },
    { latencyMs, dialogueServiceMs: 0, callsPerDialogue: 0 },
    dialoguesPerGroup(input),
    input.maxEventsPerRun,
  );
  const inFlight = Math.min(window, input.count);
  const calls = roles.reduce((sum, r) => sum + r.calls, 0);
  const bounds: WallTimeBound[] = [
    {
      what: `${n(inFlight)} dialogues in flight, one call each at a time`,
      seconds: (calls * latencyMs) / 1000 / inFlight,
    },
    {
      what: `the longest dialogue's ${longest} calls one after another`,
      seconds: (longest * latencyMs) / 1000,
    },
    {
      what: `orchestration: ${n(callsPerSecond)} LLM calls/s through Temporal and the workers`,
      seconds: calls / callsPerSecond,
    },
  ];
  const byEndpoint = new Map<string, { calls: number; tokens: number }>();
  for (const r of roles) {
    const e = byEndpoint.get(r.endpoint) ?? { calls: 0, tokens: 0 };
    e.calls += r.calls;
    e.tokens += r.promptTokens + r.completionTokens;
    byEndpoint.set(r.endpoint, e);
  }
  for (const [name, { calls, tokens }] of byEndpoint) {
    const { rpm, tpm, maxConcurrency } = endpoints.get(name) ?? {};
    // Dispatched by the server a little under the limit (src/config/task-queues.ts).
    if (rpm) bounds.push({ what: `${name}: ${n(rpm)} rpm`, seconds: calls / requestsPerSecond(rpm) });
    if (tpm) bounds.push({ what: `${name}: ${n(tpm)} tpm`, seconds: (tokens / tpm) * 60 });
    if (maxConcurrency)
      bounds.push({
        what: `${name}: ${n(maxConcurrency)} requests open`,
        seconds: (calls * latencyMs) / 1000 / maxConcurrency,
      });
  }
  return { window, bounds: bounds.sort((a, b) => b.seconds - a.seconds) };
}

/** What the estimate assumed, each saying where its figure came from and how to change it. */
function assumptionsOf(
  input: DatasetInput,
  options: EstimateOptions,
  used: { seeds: SeedSample; lengths: Lengths; contextTurns: number; latencyMs: number },
): string[] {
  const { measured } = options;
  const { seeds, lengths, contextTurns, latencyMs } = used;
  const sampled = measured && `measured: the mean of ${measured.dialogues} sampled first rounds`;
  const lengthSource = (given: number | undefined, maxTokens: number | undefined, fallback: number) =>
    given !== undefined
      ? 'as given'
      : (sampled ??
        (maxTokens !== undefined
          ? 'its maxTokens, an upper bound'
          : `no maxTokens: the default ${fallback}`));
  const latencySource =
    options.latencyMs !== undefined
      ? 'as given'
      : measured
        ? `measured: the mean of ${2 * measured.dialogues} sample calls, whose prompts are short`
        : 'assumed';
  return [
    `tokens = characters / ${CHARS_PER_TOKEN} (no tokenizer); chat APIs' few tokens of framing per message not counted`,
    seeds.complete
      ? `a seed question is ${Math.round(lengths.seed)} tokens (mean of all ${n(seeds.sampled)} seeds)`
      : `a seed question is ${Math.round(lengths.seed)} tokens (mean of the first ${n(seeds.sampled)} seeds of the source; the rest unread)`,
    `each question is ${Math.round(lengths.question)} tokens (${lengthSource(options.questionTokens, input.ask.maxTokens, ASSUMED_QUESTION_TOKENS)}) and each answer ${Math.round(lengths.answer)} (${lengthSource(options.answerTokens, input.answer.maxTokens, ASSUMED_ANSWER_TOKENS)})`,
    contextTurns < maxTurns(input.turns)
      ? `every dialogue runs to its target turns, or to ${contextTurns} where contextTokens would end it: none ends early otherwise, no question is asked again by the filters, no call is retried`
      : 'every dialogue runs to its target turns: none ends early, no question is asked again by the filters, no call is retried',
    `a call takes ${Math.round(latencyMs)} ms (${latencySource}; --estimate-latency-ms); Temporal and the workers carry ${n(options.callsPerSecond ?? DEFAULT_ORCHESTRATION_CALLS_PER_SECOND)} calls/s (${options.callsPerSecond ? 'as given' : 'one worker and a dev server on 2 cores, measured'}; --estimate-calls-per-second); no time for metrics or export`,
    ...(input.metrics ? ['the metrics calls (embeddings, judge) are not counted'] : []),
  ];
}

export function estimateDataset(
  input: DatasetInput,
  endpoints: EndpointRegistry,
  seeds: SeedSample,
  options: EstimateOptions = {},
): DatasetEstimate {
  const { measured } = options;
  const latencyMs = options.latencyMs ?? measured?.latencyMs ?? DEFAULT_LATENCY_MS;
  const lengths: Lengths = {
    seed: seeds.meanChars / CHARS_PER_TOKEN,
    system: (input.answer.systemPrompt?.length ?? 0) / CHARS_PER_TOKEN,
    question:
      options.questionTokens ?? measured?.questionTokens ?? input.ask.maxTokens ?? ASSUMED_QUESTION_TOKENS,
    answer: options.answerTokens ?? measured?.answerTokens ?? input.answer.maxTokens ?? ASSUMED_ANSWER_TOKENS,
  };
  const contextTurns = contextTurnsOf(input, lengths);
  const counted = countCalls(input, lengths, contextTurns);
  const ask = roleEstimate(input, endpoints, 'ask', counted.ask);
  const answer = roleEstimate(input, endpoints, 'answer', counted.answer);
  const batch = estimateBatches(input, endpoints, counted.reaching, lengths, options.batchTurnaroundMinutes);
  const total: UsageEstimate = {
    calls: ask.calls + answer.calls,
    promptTokens: ask.promptTokens + answer.promptTokens,
    completionTokens: ask.completionTokens + answer.completionTokens,
    ...(ask.costUsd !== undefined &&
      answer.costUsd !== undefined && { costUsd: ask.costUsd + answer.costUsd }),
  };
  const { window, bounds } = wallTimeBounds(
    input,
    endpoints,
    // Batched calls wait for their rounds, not for an online call's latency.
    [ask, answer].filter((r) => !r.batch),
    counted.longest,
    latencyMs,
    options.callsPerSecond ?? DEFAULT_ORCHESTRATION_CALLS_PER_SECOND,
  );
  if (batch) bounds.push(batchBound(batch, formatDuration));
  bounds.sort((a, b) => b.seconds - a.seconds);

  const unknownEndpoints = [...new Set([ask.endpoint, answer.endpoint])].filter((e) => !endpoints.has(e));
  const assumptions = assumptionsOf(input, options, { seeds, lengths, contextTurns, latencyMs });
  if (batch) assumptions.push(BATCH_ASSUMPTION);
  assumptions.push(
    ...unknownEndpoints.map(
      (e) =>
        `endpoint '${e}' is not configured here: its price and limits are unknown (see README: endpoints)`,
    ),
  );

  return {
    dialogues: input.count,
    turns: counted.turns,
    ask,
    answer,
    total,
    unpricedEndpoints: [
      ...new Set([ask, answer].filter((r) => r.costUsd === undefined).map((r) => r.endpoint)),
    ],
    window,
    wallSeconds: bounds[0].seconds,
    bounds,
    assumptions,
    ...(input.budget && { budget: budgetReach(input, total) }),
    ...(batch && { batch }),
  };
}

/** Seconds as "42 s", "12 min 5 s", "3 h 20 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.round((s % 86_400) / 3600)} h`;
}

/** The batch lines: rounds, their wall time from typical to the provider's window, and what batching saves. */
function formatBatch(e: DatasetEstimate): string[] {
  const b = e.batch!;
  const batched = [e.ask, e.answer].filter((r) => r.batch);
  const saved = batched.every((r) => r.costUsd !== undefined && r.onlineCostUsd !== undefined)
    ? `; online they would cost ${formatUsd(batched.reduce((x, r) => x + r.onlineCostUsd!, 0))}, batched ${formatUsd(batched.reduce((x, r) => x + r.costUsd!, 0))}`
    : '';
  return [
    `batch              ${b.roles.join(' and ')} through the batch API: ${n(b.rounds)} rounds (${n(b.inFlight)} dialogues in flight, ${n(b.waves)} wave${b.waves > 1 ? 's' : ''}; up to ${b.batchesPerRound} batch${b.batchesPerRound > 1 ? 'es' : ''} a round${b.splitRounds ? `; ${b.splitRounds} turns split by the queue limit` : ''})${saved}`,
    `                   ${formatDuration(b.typicalSeconds)} if every round takes ${formatDuration(b.turnaroundSeconds)}; at most ${formatDuration(b.worstSeconds)} if every round takes the provider's ${formatDuration(b.windowSeconds)} window`,
  ];
}

/** The estimate as the CLI prints it. */
export function formatEstimate(e: DatasetEstimate): string {
  const priced = [e.ask, e.answer].filter((r) => r.costUsd !== undefined);
  const cost =
    e.total.costUsd !== undefined
      ? `${formatUsd(e.total.costUsd)} (ask ${formatUsd(e.ask.costUsd!)}, answer ${formatUsd(e.answer.costUsd!)})`
      : `unknown price: no price declared for ${e.unpricedEndpoints.map((x) => `'${x}'`).join(', ')} (PARROT_ENDPOINT_<NAME>_PRICE_IN / _PRICE_OUT)` +
        priced.map((r) => `; ${r === e.ask ? 'ask' : 'answer'} alone ${formatUsd(r.costUsd!)}`).join('');
  const [binding, ...others] = e.bounds;
  return [
    `dialogues          ${n(e.dialogues)} (${n(e.turns)} turns)`,
    `LLM calls          ${n(e.total.calls)} (ask ${n(e.ask.calls)} on ${e.ask.endpoint}, answer ${n(e.answer.calls)} on ${e.answer.endpoint})`,
    `prompt tokens      ${n(e.total.promptTokens)} (ask ${n(e.ask.promptTokens)}, answer ${n(e.answer.promptTokens)})`,
    `completion tokens  ${n(e.total.completionTokens)} (ask ${n(e.ask.completionTokens)}, answer ${n(e.answer.completionTokens)})`,
    `cost               ${cost}`,
    ...(e.budget
      ? [
          e.budget.dialogues >= e.dialogues
            ? `budget             ${e.budget.by} covers all ${n(e.dialogues)} dialogues`
            : `budget             ${e.budget.by} stops it after about ${n(e.budget.dialogues)} of ${n(e.dialogues)} dialogues (resumeFrom runs the rest)`,
        ]
      : []),
    ...(e.batch ? formatBatch(e) : []),
    `wall time          ${formatDuration(e.wallSeconds)}, bound by ${binding.what}`,
    ...others.map((b) => `                   (${b.what}: ${formatDuration(b.seconds)})`),
    'assumptions:',
    ...e.assumptions.map((a) => `  - ${a}`),
  ].join('\n');
}
