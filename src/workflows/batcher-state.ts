// The state of one batcher (./batch-batcher.ts): the pieces of requests waiting for a batch, the
// batches in flight at the provider, and when to submit or poll next. Everything it carries
// across continue-as-new is here; the requests themselves are in storage.
import type { AnswerSettings, AskSettings, BatchSettings } from '../config/dataset-input';
import { piecesForBatch, queued } from '../batch/batch-plan';
import type {
  BatcherView,
  BatchInFlight,
  BatchPlace,
  BatchRoute,
  CollectedBatch,
  PieceRef,
  PolledBatch,
} from '../batch/batch-types';
import type { BatcherControl } from './batch-signals';

export interface BatcherInput {
  datasetId: string;
  place: BatchPlace;
  route: BatchRoute;
  settings: BatchSettings;
  /** The role's settings (personas left out): what judges a batched question. */
  roleSettings: AskSettings | AnswerSettings;
  storageRetryBudgetSeconds: number;
  llmRetryBudgetSeconds: number;
  /** Continue as new past this many history events. */
  maxEventsPerRun: number;
}

export interface BatcherState {
  nextSeq: number;
  pending: PieceRef[];
  /** Workflow time (ms) the oldest pending piece arrived. */
  firstPendingAt?: number;
  /** Groups started or given results that have not sent requests or said they are done since: a batch waits for them (up to fillSeconds). */
  expected: string[];
  /** Whether any group was ever expected: until then a batch waits its fill. */
  delivered: boolean;
  inFlight: BatchInFlight[];
  paused: boolean;
  finishing: boolean;
  lastPollAt: number;
  /** Refused for the provider's queue limit: no submission until a batch in flight finishes, or `until`. */
  hold?: { until: number; backoffs: number; note: string };
  totals: { rounds: number; batches: number; requests: number; completed: number; failed: number };
  /** Workflow time (ms) anything last happened: an idle batcher checks its dataset still runs. */
  lastActivityAt: number;
}

/** Longest wait after a quota refusal before trying again. */
const MAX_HOLD_MS = 3_600_000;

export class Batcher {
  readonly state: BatcherState;
  /** Counts what wakes the loop: signals and controls. */
  wakes = 0;
  /** The view changed since the dataset was last told. */
  dirty = true;

  constructor(
    readonly input: BatcherInput,
    carried?: BatcherState,
  ) {
    const now = Date.now();
    this.state = carried ?? {
      nextSeq: 1,
      pending: [],
      expected: [],
      delivered: false,
      inFlight: [],
      paused: false,
      finishing: false,
      lastPollAt: now,
      totals: { rounds: 0, batches: 0, requests: 0, completed: 0, failed: 0 },
      lastActivityAt: now,
    };
  }

  add(piece: PieceRef) {
    const s = this.state;
    if (s.pending.some((p) => p.key === piece.key)) return;
    s.pending.push(piece);
    s.firstPendingAt ??= Date.now();
    this.heard(piece.group);
  }

  /** Groups to wait for (started, or given results): those with requests queued already are in. */
  expect(groups: string[]) {
    const s = this.state;
    const queuedFrom = new Set(s.pending.map((p) => p.group));
    s.expected = [...new Set([...s.expected, ...groups.filter((g) => !queuedFrom.has(g))])];
    s.delivered = true;
    this.wakes++;
  }

  /** A group sent requests or is done: the batch need not wait for it. */
  heard(group: string) {
    this.state.expected = this.state.expected.filter((g) => g !== group);
    this.state.lastActivityAt = Date.now();
    this.wakes++;
    this.dirty = true;
  }

  control(c: BatcherControl) {
    if (c === 'finish') this.state.finishing = true;
    else this.state.paused = c === 'pause';
    this.wakes++;
    this.dirty = true;
  }

  private get fillMs() {
    return this.input.settings.fillSeconds * 1000;
  }

  /** Whether to submit now: something waits, nothing holds it, and the batch is full, or has waited its fill, or everyone expected is in. */
  shouldSubmit(): boolean {
    const s = this.state;
    if (!s.pending.length || s.paused || s.finishing || this.held()) return false;
    const q = queued(s.pending);
    const { maxRequests, maxBytes } = this.input.route;
    return (
      q.requests >= maxRequests ||
      q.bytes >= maxBytes ||
      Date.now() >= (s.firstPendingAt ?? 0) + this.fillMs ||
      (s.delivered && s.expected.length === 0)
    );
  }

  private held(): boolean {
    const h = this.state.hold;
    return !!h && Date.now() < h.until;
  }

  /** Pieces the next batch takes (none: the provider's queue has no room yet). */
  nextPieces(): PieceRef[] {
    const { route } = this.input;
    const inQueue = this.state.inFlight.reduce((n, b) => n + b.tokens, 0);
    const room = {
      maxRequests: route.maxRequests,
      maxBytes: route.maxBytes,
      tokens: route.maxEnqueuedTokens === undefined ? Infinity : route.maxEnqueuedTokens - inQueue,
    };
    return this.state.pending.slice(
      0,
      piecesForBatch(this.state.pending, room, this.state.inFlight.length === 0),
    );
  }

  submitted(seq: number, pieces: PieceRef[], batch: PolledBatch) {
    const s = this.state;
    const keys = new Set(pieces.map((p) => p.key));
    s.pending = s.pending.filter((p) => !keys.has(p.key));
    s.firstPendingAt = s.pending.length ? Date.now() : undefined;
    const q = queued(pieces);
    s.inFlight.push({
      ...batch,
      total: batch.total || q.requests,
      seq,
      createdAt: Date.now(),
      tokens: q.tokens,
      groups: [...new Set(pieces.map((p) => p.group))],
    });
    s.totals.batches++;
    s.totals.requests += q.requests;
    s.hold = undefined;
    this.changed();
  }

  /** A new round: the batches submitted together. */
  roundSubmitted() {
    this.state.totals.rounds++;
  }

  /** Statuses polled; returns the batches whose status changed (the view changes with their counts too). */
  polled(batches: PolledBatch[]): BatchInFlight[] {
    this.state.lastPollAt = Date.now();
    const changed: BatchInFlight[] = [];
    for (const p of batches) {
      const b = this.state.inFlight.find((x) => x.id === p.id);
      if (!b) continue;
      if (b.status !== p.status) changed.push(b);
      if (b.status !== p.status || b.completed !== p.completed || b.failed !== p.failed) this.dirty = true;
      Object.assign(b, {
        status: p.status,
        completed: p.completed,
        failed: p.failed,
        total: p.total || b.total,
      });
    }
    if (changed.length) this.changed();
    return changed;
  }

  /** A batch whose outcomes reached its groups (or that was refused): it leaves the queue. */
  finished(b: BatchInFlight, c: CollectedBatch) {
    const s = this.state;
    s.inFlight = s.inFlight.filter((x) => x.id !== b.id);
    s.totals.completed += c.ok;
    s.totals.failed += c.failed;
    if (c.quota) {
      s.pending.unshift(...c.quota.pieces);
      s.firstPendingAt = Date.now();
      s.totals.requests -= queued(c.quota.pieces).requests;
      this.holdForQuota(`${this.input.place.role} batch ${b.id} refused for quota (${c.quota.message})`);
    } else if (!c.rejection) {
      this.expect(c.results.map((r) => r.group));
      if (s.hold) s.hold.until = Date.now(); // room at the provider again
    }
    this.changed();
  }

  /** The provider's queue is full: wait for a batch in flight to finish, or a backoff (pollSeconds doubling, 1 h at most). */
  holdForQuota(note: string) {
    const s = this.state;
    const backoffs = (s.hold?.backoffs ?? 0) + 1;
    const wait = Math.min(MAX_HOLD_MS, this.input.settings.pollSeconds * 1000 * 2 ** (backoffs - 1));
    s.hold = {
      until: Date.now() + wait,
      backoffs,
      note: `${note}: submitting again when a batch in flight finishes, or in ${Math.round(wait / 1000)} s`,
    };
    this.changed();
  }

  /** When the loop must wake on its own, in ms from now: the fill's end, the next poll, a hold's end. */
  nextWakeMs(idleCheckMs: number): number {
    const s = this.state;
    const now = Date.now();
    const at: number[] = [s.lastActivityAt + idleCheckMs];
    if (s.pending.length && !s.paused) at.push((s.firstPendingAt ?? now) + this.fillMs, s.hold?.until ?? now);
    if (s.inFlight.length) at.push(s.lastPollAt + this.input.settings.pollSeconds * 1000);
    return Math.max(1, Math.min(...at) - now);
  }

  pollDue(): boolean {
    const s = this.state;
    return s.inFlight.length > 0 && Date.now() >= s.lastPollAt + this.input.settings.pollSeconds * 1000;
  }

  private changed() {
    this.state.lastActivityAt = Date.now();
    this.dirty = true;
  }

  view(): BatcherView {
    const s = this.state;
    const { place } = this.input;
    return {
      role: place.role,
      endpoint: place.endpoint,
      ...s.totals,
      queued: queued(s.pending).requests,
      inFlight: s.inFlight.slice(0, MAX_VIEWED).map(({ groups: _, ...b }) => ({ ...b, groups: [] })),
      paused: s.paused,
      ...(s.hold && Date.now() < s.hold.until && { note: s.hold.note }),
    };
  }
}

/** Batches a view lists (the totals count them all). */
const MAX_VIEWED = 20;
