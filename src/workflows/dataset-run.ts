// The state of one dataset while it runs: what a run of the parent carries to the next across
// continue-as-new, the groups in flight, and the counters the progress query reads.
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DatasetInput } from '../config/dataset-input';
import type { SeedReport } from '../seeds/seed-source';
import type { OpenedDataset } from '../activities/open-dataset';
import type { EndpointRoutes } from '../activities/llm';
import type {
  DatasetFailure,
  DatasetRunRef,
  DialogueSummary,
  EndpointStatus,
  GaveUp,
  TokenUsage,
} from '../types';
import { countOf, takeFirst, type IndexRanges } from '../index-ranges';
import { addUsage } from '../usage';
import {
  dialoguesPerGroup,
  initialHistorySizing,
  learnHistorySizing,
  maxGroupsInFlight,
  windowSize,
  type HistorySizing,
  type RoleLimits,
  type RoleStatus,
} from '../planning/fan-out';
import { batchDetails, batchProgress, type DatasetBatches } from './dataset-batches';
import type { BatcherView } from '../batch/batch-types';
import { PARROT_DATASET, PARROT_PHASE, type DatasetPhase } from './search-attributes';
import { datasetDetails, type DatasetProgress } from './dataset-view';
import type { DialogueOutcome, GroupOutcome } from './signals';
import { StuckGroups, type StuckGroup, type StuckProgress } from './stuck-groups';
import { QueueWatch } from './unpolled-queues';
import { countDialoguesFailed } from '../telemetry/dialogue-counters';
import {
  budgetAllowsStart,
  budgetReached,
  minusSpend,
  projectSpend,
  spendOf,
  type Spend,
} from '../planning/budget';

export type { DatasetProgress };

/** Failure details kept (the count is exact beyond it): keeps continue-as-new payloads small. */
const MAX_FAILURE_DETAILS = 1000;

/** What one run of the parent hands the next when it continues as new (what it learnt of group histories too). */
export interface DatasetRunState extends HistorySizing {
  /** Datasets whose stored dialogues count as this one's: itself, then those it resumed. */
  lineage: DatasetRunRef[];
  /** Dialogues already stored by resumed datasets: not run again. */
  reusedCount: number;
  /** Where the set of them is kept under the output (read a block at a time); absent when there are none. */
  reusedKey?: string;
  /**
   * Indices neither reused nor started yet, ascending: a block read from the reused set, at most
   * a few thousand ranges at any scatter (every index, as one range, when nothing is reused).
   */
  toRun: IndexRanges;
  /** Where the next block starts: every index below it is reused, started, or in `toRun`. */
  scannedTo: number;
  /** Dialogues this dataset has started. */
  launched: number;
  /** Groups started and not yet done: their dialogues not yet reported, and when they started (workflow time, ms). */
  inFlight: { id: string; indices: number[]; launchedAt: number }[];
  completed: number;
  failedCount: number;
  failures: DatasetFailure[];
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** Workflow time (ms) when the dataset started, for rates and the ETA. */
  startedAt: number;
  runs: number;
  /** The longest history of any run so far (events). */
  maxHistoryLength: number;
  seeds: SeedReport;
  /** Rate-limited endpoints: their task queues and limits, by role. */
  llmTaskQueues: { ask?: string; answer?: string };
  limits: RoleLimits;
  /** The ask and answer endpoints as a worker last reported them, by name (the endpointStatus activity). */
  endpoints: Record<string, EndpointStatus>;
  /** Mean provider time of an LLM call so far, from its request sent (ms, moving average); 0 before the first. */
  latencyMs: number;
  /** A dialogue's time in the window less what its calls waited to be sent (ms, moving average), and its calls; 0 before the first. */
  dialogueServiceMs: number;
  callsPerDialogue: number;
  /** What the reused dialogues had cost (left out of this dataset's spend and budget). */
  reusedUsage: { ask: TokenUsage; answer: TokenUsage };
  /** No new dialogue starts while paused (the `pause` and `unpause` updates). */
  paused?: boolean;
  /** Set once the budget stopped new dialogues; it stays set. */
  stoppedBy?: 'budget';
  /** Roles whose calls go through a batch API, their batchers and what they last reported (absent: all online). */
  batch?: DatasetBatches;
  /** Groups in flight marked stuck (./stuck-groups.ts); absent: none. */
  stuckGroups?: StuckGroup[];
  /** Stuck groups given up by the giveUpStuckGroups update; absent: none. */
  givenUp?: GaveUp;
}

/**
 * What a dataset has to run when it starts: every index, as one range, when nothing is reused;
 * else nothing yet, to be read a block at a time from the set of reused ones (at `reusedKey`).
 */
function toRunAtStart(
  count: number,
  reusedKey?: string,
): Pick<DatasetRunState, 'reusedKey' | 'toRun' | 'scannedTo' | 'launched'> {
  if (reusedKey) return { reusedKey, toRun: [], scannedTo: 0, launched: 0 };
  return { toRun: [[0, count - 1]], scannedTo: count, launched: 0 };
}

/** What the first run of a dataset learnt while opening: from the output, the seeds and the workers. */
export interface OpenedRun {
  opened: OpenedDataset;
  seeds: SeedReport;
  routes: EndpointRoutes;
  batch?: DatasetBatches;
}

/** The state a dataset's first run starts from: nothing counted but what the resumed datasets stored. */
export function initialRunState(
  input: DatasetInput,
  { opened, seeds, routes, batch }: OpenedRun,
): DatasetRunState {
  const ask = routes['ask.endpoint'];
  const answer = routes['answer.endpoint'];
  return {
    lineage: opened.lineage,
    reusedCount: opened.finishedCount,
    ...toRunAtStart(input.count, opened.finishedKey),
    inFlight: [],
    completed: opened.finishedCount,
    failedCount: 0,
    failures: [],
    usage: opened.finishedUsage,
    reusedUsage: opened.finishedUsage,
    startedAt: Date.now(),
    runs: 1,
    maxHistoryLength: 0,
    seeds,
    llmTaskQueues: { ask: ask?.taskQueue, answer: answer?.taskQueue },
    limits: { ask: ask?.rpm, answer: answer?.rpm, shared: input.ask.endpoint === input.answer.endpoint },
    endpoints: {},
    latencyMs: 0,
    dialogueServiceMs: 0,
    callsPerDialogue: 0,
    ...initialHistorySizing(),
    batch,
  };
}

export class DatasetRun {
  /** Groups in flight, with their dialogues not yet reported. */
  readonly groups: Map<string, Set<number>>;
  private readonly launchedAt: Map<string, number>;
  /** Groups this run started (the others were inherited from earlier runs). */
  readonly startedHere = new Set<string>();
  /** Groups whose start this run has asked for and not yet heard back about. */
  private starting = 0;
  /** Recoveries of groups that cannot report (activities) under way: the run does not continue as new before they end. */
  private recovering = 0;
  /** Groups being recovered: one recovery each. */
  readonly recoveringGroups = new Set<string>();
  /** Groups marked stuck: the dataset waits for them. */
  readonly stuck: StuckGroups;
  /** Whether workers poll the rate-limited endpoints' task queues. */
  readonly queueWatch: QueueWatch;
  phase: DatasetPhase = 'generating';
  /** Endpoint reports received by this run (the first one opens the window), for the loop that waits on them. */
  endpointReports = 0;
  /** Why a batch was rejected at validation: the dataset fails with it. */
  batchRejection?: string;

  constructor(
    readonly input: DatasetInput,
    readonly datasetId: string,
    readonly state: DatasetRunState,
  ) {
    this.groups = new Map(state.inFlight.map((g) => [g.id, new Set(g.indices)]));
    this.launchedAt = new Map(state.inFlight.map((g) => [g.id, g.launchedAt]));
    this.stuck = new StuckGroups(state.stuckGroups);
    this.queueWatch = new QueueWatch(state.llmTaskQueues, input);
    if (state.paused) this.phase = 'paused';
  }

  /** Dialogues a new group runs: as many as its history holds, as groups have reported it. */
  get groupSize(): number {
    return dialoguesPerGroup(this.input, this.state);
  }

  get running(): number {
    let n = 0;
    for (const indices of this.groups.values()) n += indices.size;
    return n;
  }

  get finished(): number {
    return this.state.completed + this.state.failedCount;
  }

  /** Dialogues not yet started (those the resumed datasets stored left out). */
  get toStart(): number {
    const s = this.state;
    return this.input.count - s.reusedCount - s.launched;
  }

  get hasWork(): boolean {
    if (this.batchRejection) return false; // the dataset fails: nothing more is waited for
    const s = this.state;
    const toStart = s.toRun.length > 0 || s.scannedTo < this.input.count;
    return (toStart && !s.stoppedBy) || this.groups.size > 0;
  }

  /** Whether `toRun` holds fewer than `n` indices while more are to be read from the reused set. */
  needsBlock(n: number): boolean {
    return this.state.scannedTo < this.input.count && countOf(this.state.toRun) < n;
  }

  /** A block of indices to run, read from the reused set from `scannedTo` on. */
  addBlock(ranges: IndexRanges, next: number) {
    this.state.toRun.push(...ranges);
    this.state.scannedTo = next;
  }

  /** The next `n` indices to run (fewer at the end), counted as started. */
  takeNext(n: number): number[] {
    const indices = takeFirst(this.state.toRun, n);
    this.state.launched += indices.length;
    return indices;
  }

  /** Whether a new group may start now: not paused, and the budget allows it. */
  mayStart(): boolean {
    if (this.state.paused || this.checkBudget()) return false;
    return budgetAllowsStart(this.input.budget, this.spent(), this.doneHere, this.running);
  }

  /** Pause (true) or unpause: changes counts the flips, for the loop that waits on them. */
  pauseChanges = 0;
  setPaused(paused: boolean) {
    if (!!this.state.paused === paused) return;
    this.state.paused = paused;
    this.pauseChanges++;
    this.setPhase(paused ? 'paused' : 'generating');
  }

  /** This dataset's own spend and the dialogues it completed itself. */
  spent(): Spend {
    const s = this.state;
    return minusSpend(spendOf(s.usage), spendOf(s.reusedUsage));
  }

  private get doneHere(): number {
    return this.state.completed - this.state.reusedCount;
  }

  /**
   * Whether the budget has stopped the dataset: what it spent reached it while dialogues were
   * left to start. Once so, it stays so. (What those in flight are expected to cost only holds
   * starts back, in mayStart: they may cost less, or fail.)
   */
  checkBudget(): boolean {
    const s = this.state;
    if (!s.stoppedBy && this.toStart > 0 && budgetReached(this.input.budget, this.spent(), this.doneHere, 0))
      s.stoppedBy = 'budget';
    return s.stoppedBy === 'budget';
  }

  window(): number {
    // A batch round takes minutes to hours whatever it holds: `auto` puts every dialogue it can in it.
    if (this.state.batch && this.input.concurrency === 'auto')
      return maxGroupsInFlight(this.input.maxEventsPerRun) * this.groupSize;
    const e = this.state.endpoints;
    const status: RoleStatus = { ask: e[this.input.ask.endpoint], answer: e[this.input.answer.endpoint] };
    // `auto` opens with the first report of the endpoints (none asked for yet: nothing in flight).
    if (!status.ask && !status.answer && this.endpointReports === 0 && this.input.concurrency === 'auto')
      return 0;
    return windowSize(
      this.input,
      this.state.limits,
      this.state,
      this.groupSize,
      this.input.maxEventsPerRun,
      status,
    );
  }

  /** A worker's report of the endpoints (absent: it could not be had this time). */
  reportEndpoints(endpoints?: Record<string, EndpointStatus>) {
    if (endpoints) this.state.endpoints = endpoints;
    this.endpointReports++;
  }

  /** A batcher's latest view, for progress and the UI. */
  batchViewed(view: BatcherView) {
    if (this.state.batch) this.state.batch.views[view.role] = view;
  }

  /** Groups in flight that started at least `ms` ago. */
  groupsInFlightFor(ms: number): string[] {
    const now = Date.now();
    return [...this.groups.keys()].filter((id) => now - (this.launchedAt.get(id) ?? now) >= ms);
  }

  started(id: string, indices: number[]) {
    this.groups.set(id, new Set(indices));
    this.launchedAt.set(id, Date.now());
    this.startedHere.add(id);
  }

  /** Outcomes from a group, by signal as they come or all in its result: each dialogue counted once. */
  settle(outcome: GroupOutcome) {
    if (outcome.history) Object.assign(this.state, learnHistorySizing(this.state, outcome.history));
    const waiting = this.groups.get(outcome.id);
    if (!waiting) return;
    const inWindowMs = Date.now() - (this.launchedAt.get(outcome.id) ?? Date.now());
    for (const o of outcome.outcomes) if (waiting.delete(o.index)) this.settleDialogue(o, inWindowMs);
    if (waiting.size === 0) {
      this.groups.delete(outcome.id);
      this.launchedAt.delete(outcome.id);
      this.stuck.unmark(outcome.id);
    }
  }

  /**
   * The export is the truth: a dialogue counted failed whose record it found (its group was
   * stopped between storing and reporting it) counts as completed. `storedAfterAll`: those the
   * export found, among the failures listed.
   */
  reconcileWithExport(storedAfterAll: readonly number[]) {
    const s = this.state;
    const stored = new Set(storedAfterAll);
    const failures = s.failures.filter((f) => !stored.has(f.index));
    const completedAfterAll = s.failures.length - failures.length;
    s.failures = failures;
    s.failedCount -= completedAfterAll;
    s.completed += completedAfterAll;
  }

  /** A group that ended without reporting them: its dialogues not yet reported count as failed. */
  failGroup(id: string, error: string) {
    const waiting = this.groups.get(id);
    if (!waiting) return;
    countDialoguesFailed('group-ended', waiting.size);
    this.settle({
      id,
      outcomes: [...waiting].map((index) => ({ index, id: `${this.datasetId}/${index}`, error })),
    });
  }

  private settleDialogue(o: DialogueOutcome, inWindowMs: number) {
    const s = this.state;
    if (o.summary) {
      s.completed++;
      s.usage = {
        ask: addUsage(s.usage.ask, o.summary.usage.ask),
        answer: addUsage(s.usage.answer, o.summary.usage.answer),
      };
      this.observeLatency(o.summary, inWindowMs);
    } else {
      s.failedCount++;
      if (s.failures.length < MAX_FAILURE_DETAILS)
        s.failures.push({ index: o.index, id: o.id, error: o.error ?? 'unknown error' });
    }
  }

  /** Moving averages for the window: a call's latency, and a dialogue's time in the window not spent waiting. */
  private observeLatency(summary: DialogueSummary, inWindowMs: number) {
    const s = this.state;
    const calls = summary.usage.ask.calls + summary.usage.answer.calls;
    if (!calls || !summary.llmMs) return;
    const average = (old: number, x: number) => (old ? 0.95 * old + 0.05 * x : x);
    s.latencyMs = average(s.latencyMs, summary.llmMs / calls);
    s.callsPerDialogue = average(s.callsPerDialogue, calls);
    s.dialogueServiceMs = average(s.dialogueServiceMs, Math.max(summary.llmMs, inWindowMs - summary.waitMs));
  }

  setPhase(phase: DatasetPhase) {
    this.phase = phase;
    upsertSearchAttributes([
      { key: PARROT_DATASET, value: this.datasetId },
      { key: PARROT_PHASE, value: phase },
    ]);
    this.showDetails();
  }

  progress(): DatasetProgress {
    const s = this.state;
    const spent = this.spent();
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const dialoguesPerSecond = (this.finished - s.reusedCount) / seconds;
    const remaining = this.input.count - this.finished;
    return {
      phase: this.phase,
      requested: this.input.count,
      started: s.reusedCount + s.launched,
      completed: s.completed,
      failed: s.failedCount,
      running: this.running,
      remaining,
      window: this.window(),
      groupSize: this.groupSize,
      endpoints: s.endpoints,
      llmLatencyMs: Math.round(s.latencyMs),
      usage: s.usage,
      llmCallsPerSecond: round(
        (s.usage.ask.calls + s.usage.answer.calls - s.reusedUsage.ask.calls - s.reusedUsage.answer.calls) /
          seconds,
      ),
      dialoguesPerSecond: round(dialoguesPerSecond),
      etaSeconds:
        remaining === 0 ? 0 : dialoguesPerSecond > 0 ? Math.round(remaining / dialoguesPerSecond) : null,
      runs: s.runs,
      historyLength: workflowInfo().historyLength,
      spent,
      projected: projectSpend(spent, this.doneHere, this.input.count - s.reusedCount) ?? null,
      budget: this.input.budget ?? null,
      paused: !!s.paused,
      stoppedBy: s.stoppedBy ?? null,
      batches: batchProgress(s.batch),
      stuck: this.stuckProgress(),
      unpolledQueues: this.queueWatch.progress(this.input.unpolledQueueSeconds),
    };
  }

  stuckProgress(): StuckProgress | null {
    return this.stuck.progress(this.groups);
  }

  /** The parent's current details in the UI (./dataset-view.ts). */
  showDetails() {
    setCurrentDetails(datasetDetails(this.progress(), this.state.seeds, batchDetails(this.state.batch)));
  }

  /** Waits for a group's start to be answered, counted meanwhile (the run does not close before). */
  async trackStart<T>(start: Promise<T>): Promise<T> {
    this.starting++;
    try {
      return await start;
    } finally {
      this.starting--;
    }
  }

  /** Runs a recovery (activities, signals to groups): the run does not continue as new before it ends. */
  async recovery<T>(work: () => Promise<T>): Promise<T> {
    this.recovering++;
    try {
      return await work();
    } finally {
      this.recovering--;
    }
  }

  /** No group start and no recovery under way: the run may continue as new. */
  get quiet(): boolean {
    return this.starting === 0 && this.recovering === 0;
  }

  /** Keeps the longest history of the dataset's runs, for the result. */
  noteHistoryLength() {
    this.state.maxHistoryLength = Math.max(this.state.maxHistoryLength, workflowInfo().historyLength);
  }

  /** Stuck groups given up by the update, added to those of earlier updates. */
  addGivenUp(result: GaveUp) {
    const total = this.state.givenUp ?? { groups: 0, completed: 0, failed: 0 };
    this.state.givenUp = {
      groups: total.groups + result.groups,
      completed: total.completed + result.completed,
      failed: total.failed + result.failed,
    };
  }

  /** What the next run starts from. */
  carry(): DatasetRunState {
    this.noteHistoryLength();
    return {
      ...this.state,
      inFlight: [...this.groups].map(([id, indices]) => ({
        id,
        indices: [...indices],
        launchedAt: this.launchedAt.get(id) ?? Date.now(),
      })),
      stuckGroups: this.stuck.size ? this.stuck.list() : undefined,
    };
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
