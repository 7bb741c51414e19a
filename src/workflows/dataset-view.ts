// What the UI shows of a dataset: the progress query's shape, and the parent's current details
// (markdown) rendered from it. Pure: the run state (./dataset-run.ts) computes the progress.
import type { DatasetInput } from '../config/dataset-input';
import type { SeedReport } from '../seeds/seed-source';
import type { EndpointStatus, Spend, TokenUsage } from '../types';
import type { BatcherProgress } from '../batch/batch-types';
import { formatUsd } from '../usage';
import type { DatasetPhase } from './search-attributes';
import type { StuckProgress } from './stuck-groups';
import type { UnpolledQueue } from './unpolled-queues';

export interface DatasetProgress {
  phase: DatasetPhase;
  requested: number;
  started: number;
  completed: number;
  failed: number;
  running: number;
  remaining: number;
  /** Dialogues the dataset keeps in flight now (`concurrency`, or what `auto` chose). */
  window: number;
  /** Dialogues a new group runs now: as many as a group's history holds, as groups have reported it. */
  groupSize: number;
  /** The ask and answer endpoints as a worker last reported them, by name: requests open and waiting on that worker, its limit, requests it abandoned, and the workers sharing the endpoint. */
  endpoints: Record<string, EndpointStatus>;
  llmLatencyMs: number;
  usage: { ask: TokenUsage; answer: TokenUsage };
  llmCallsPerSecond: number;
  dialoguesPerSecond: number;
  etaSeconds: number | null;
  runs: number;
  historyLength: number;
  /** What this dataset has spent (reused dialogues not counted). */
  spent: Spend;
  /** The spend of every dialogue this dataset runs, at the mean so far; null before the first is done. */
  projected: Spend | null;
  budget: DatasetInput['budget'] | null;
  paused: boolean;
  stoppedBy: 'budget' | null;
  /** Each batched role's batches: totals, and each batch in flight (ID, status, requests, completed, failed, age). */
  batches: BatcherProgress[];
  /** Groups whose workflow task keeps failing (a bad deploy?); null: none. */
  stuck: StuckProgress | null;
  /** Rate-limited endpoints' task queues no worker polls (./unpolled-queues.ts); empty: none. */
  unpolledQueues: UnpolledQueue[];
}

/** The parent's current details: counts, rates, spend, endpoints, batches and what needs a hand. */
export function datasetDetails(p: DatasetProgress, seeds: SeedReport, batchLines: string[]): string {
  const eta = p.etaSeconds === null ? '?' : `${p.etaSeconds} s`;
  const skipped = seeds.skippedLines
    ? [
        `seeds: ${seeds.seeds} read, ${seeds.skippedLines} malformed lines skipped (first: ${seeds.firstSkipped
          .slice(0, 5)
          .map((l) => l.line)
          .join(', ')}; all in the result and manifest)`,
      ]
    : [];
  return [
    `**${p.phase}** · ${p.completed}/${p.requested} done · ${p.failed} failed · ${p.running} running (window ${p.window}) · ${p.remaining} remaining`,
    `${p.llmCallsPerSecond} LLM calls/s · ${p.llmLatencyMs} ms a call · ETA ${eta} · ${p.usage.ask.completionTokens + p.usage.answer.completionTokens} tokens generated · run ${p.runs}`,
    spendLine(p),
    ...endpointLines(p.endpoints),
    ...(p.paused ? ['**Paused**: no new dialogue starts (the `unpause` update resumes).'] : []),
    ...(p.stoppedBy
      ? ['**Stopped at its budget**: the dialogues in flight finish, then metrics and export.']
      : []),
    ...batchLines,
    ...(p.stuck ? [stuckLine(p.stuck)] : []),
    ...p.unpolledQueues.map((q) => `**No worker polls an endpoint's queue**: ${q.message}`),
    ...skipped,
  ].join('\n\n');
}

/** Stuck groups for the UI: what to do, and the first few with their failure. */
function stuckLine(stuck: StuckProgress): string {
  const first = stuck.sample
    .map((g) => `${g.id} since ${new Date(g.since).toISOString()}: ${g.reason}`)
    .join('; ');
  return `**Stuck**: ${stuck.message}. First: ${first}`;
}

/** Each endpoint as a worker last reported it, for the UI's current details. */
function endpointLines(endpoints: Record<string, EndpointStatus>): string[] {
  return Object.entries(endpoints).map(
    ([name, e]) =>
      `endpoint ${name}: ${e.inFlight} in flight · ${e.waiting} waiting · limit ${e.limit}${e.workers > 1 ? ` (one of ${e.workers} workers)` : ''} · ${e.abandoned} abandoned after sending${e.latencyMs ? ` · ${e.latencyMs} ms a call unqueued` : ''}`,
  );
}

/** Tokens and cost so far, the projected total, and the budget, for the UI's current details. */
function spendLine(p: DatasetProgress): string {
  const cost = (s: Spend) =>
    `${formatUsd(s.costUsd)}${s.unpricedCalls ? ` (+${Math.round(s.unpricedCalls)} unpriced calls)` : ''}`;
  const projected = p.projected
    ? ` · projected ${Math.round(p.projected.tokens)} tokens, ${cost(p.projected)}`
    : '';
  const budget = p.budget
    ? ` · budget ${[p.budget.maxTokens !== undefined && `${p.budget.maxTokens} tokens`, p.budget.maxCostUsd !== undefined && formatUsd(p.budget.maxCostUsd)].filter(Boolean).join(', ')}`
    : '';
  return `spent ${p.spent.tokens} tokens, ${cost(p.spent)}${projected}${budget}`;
}
