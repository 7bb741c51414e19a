// How many requests one worker keeps open to an endpoint. It finds the most the endpoint serves
// without a queue from two signals:
// - overload: a 429 cuts the limit to 70%, a request that timed out to 70% of what was in flight,
//   at most once per round trip (a burst of them answers one overshoot).
// - latency: a self-hosted server (vLLM, TGI, llama.cpp) serves a fixed number of requests at once
//   and queues the rest in order; it never answers 429, and a queued request comes back late by
//   the time it waited. Calls are taken in rounds (consecutive sends, as many as make the round's
//   median steady however widely times vary); each round's median is compared with the fastest
//   recent clean round's. Twice as slow (and by more than a busy machine's jitter) means a queue:
//   the limit falls to what the endpoint serves at once (the calls the latest replies kept in
//   flight × fastest time ÷ their median time, as TCP Vegas and BBR estimate it), and once a queue
//   has been seen it grows only up to 1.5 times that. An open API's latency does not depend on
//   the load: its rounds stay near the fastest and nothing is cut.
// - a probe: rounds that stay somewhat slow (1.25 times) may hide a queue the estimate has taken
//   for the endpoint's own time. Every 30 s of the clock, the same moments on every worker, such a
//   limit takes a quarter off what is in flight and measures the fastest time again: workers that
//   share an endpoint drain its queue together.
// It grows by one for each reply that came back unqueued while the limit was in use (two while
// no round has shown a queue and the last ones were clean): it doubles or triples per round trip
// against an open API and stops as soon as replies come back queued. Times run
// from the request sent: waits at the worker's own gates are not the endpoint's.

export interface AdaptiveConcurrencyOptions {
  initial?: number;
  min?: number;
  max?: number;
  now?: () => number;
  /** How late the process runs callbacks now (ms): a reply is seen late by up to that (src/providers/event-loop-lag.ts). */
  lagMs?: () => number;
}

/** What a caller holds while its call runs; handed back to `release`. */
export interface Permit {
  readonly round: Round;
}

/** Consecutive sends, judged together once most have come back. */
interface Round {
  /** Calls it takes, and those sent so far. */
  size: number;
  sent: number;
  startedAt: number;
  /** Times (ms) of its calls that came back with a reply, and how many ended without one. */
  times: number[];
  failed: number;
  judged: boolean;
}

/** A 429 or a timeout: the limit falls to this share of itself. */
const DECREASE = 0.7;
/** A round's median this many times the fastest recent round's means a queue at the server... */
const QUEUE_RATIO = 2;
/** ...and a reply this many times as slow is not grown on (it may have queued). */
const GROW_RATIO = 1.5;
/** ...when also slower by this much (ms): below it, a busy machine's jitter, not a queue. */
const NOISE_MS = 500;
/**
 * A round this many times as slow is not clean. A limit whose last UNCLEAN_ROUNDS rounds were not
 * is probed at the next multiple of PROBE_MS on the clock: down to PROBE_DRAIN of what is in flight.
 */
const CLEAN_RATIO = 1.25;
const UNCLEAN_ROUNDS = 3;
const PROBE_MS = 30_000;
const PROBE_DRAIN = 0.75;
/** Once the endpoint has queued, the limit grows only while calls in flight are under this many times what it serves at once. */
const QUEUE_MARGIN = 1.5;
/**
 * Calls in a round: enough for its median to be within this much (standard error of its log,
 * 1.25 σ / √n) of the truth, at least MIN_ROUND, at most MAX_ROUND.
 */
const MEDIAN_ERROR = 0.12;
const MIN_ROUND = 16;
const MAX_ROUND = 256;
/** A round is judged once this share of its calls have come back (its median is then known). */
const JUDGED_AT = 0.75;
/** The fastest of the last clean rounds is the endpoint's time without a queue. */
const BASELINE_ROUNDS = 10;

interface Waiter {
  grant: (permit: Permit) => void;
}

export class AdaptiveConcurrency {
  private limitValue: number;
  private inFlight = 0;
  private lastCut = -Infinity;
  /** The latest round trip (ms), smoothed: an overload cut counts once per round trip. */
  private roundTripMs = 1_000;
  private round: Round;
  /** Medians of recent clean rounds (ms), and rounds since the last clean one. */
  private readonly medians: number[] = [];
  private unclean = 0;
  /** Clean rounds in a row. */
  private cleanRounds = 0;
  /** The clock's PROBE_MS period of the last probe check. */
  private probePeriod = -1;
  /** What the endpoint serves at once, as of the last round judged. */
  private servedEstimate = Infinity;
  /** Whether a round has shown a queue: the endpoint serves a bounded number at once. */
  private queueSeen = false;
  /** Mean and variance of log reply times (moving): how widely the endpoint's times vary. */
  private logMean = 0;
  private logVariance = 0;
  /** When the latest replies came and their times (ms). */
  private readonly replies: { at: number; ms: number }[] = [];
  /** Callers waiting for a place, first come first served. */
  private readonly waiters: Waiter[] = [];
  private readonly min: number;
  private maxValue: number;
  private readonly now: () => number;
  private readonly lagMs: () => number;

  constructor({
    initial = 24,
    min = 1,
    max = 10_000,
    now = Date.now,
    lagMs = () => 0,
  }: AdaptiveConcurrencyOptions = {}) {
    this.limitValue = Math.min(initial, max);
    this.min = min;
    this.maxValue = max;
    this.now = now;
    this.lagMs = lagMs;
    this.round = this.newRound();
  }

  get limit(): number {
    return Math.max(this.min, Math.floor(this.limitValue));
  }

  get active(): number {
    return this.inFlight;
  }

  /** Callers waiting for a place now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** The endpoint's time without a queue, as far as known (ms); undefined before a round was judged. */
  get baselineMs(): number | undefined {
    return this.medians.length ? Math.min(...this.medians) : undefined;
  }

  /** Moves the upper bound (a declared maxConcurrency shared by a changing number of workers). */
  setMax(max: number): void {
    this.maxValue = Math.max(this.min, max);
    this.limitValue = Math.min(this.limitValue, this.maxValue);
    this.grantWaiting();
  }

  /** Resolves with a place held (abortably while waiting); the caller must `release` it once after. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (this.waiters.length === 0 && this.inFlight < this.limit) return Promise.resolve(this.take());
    return new Promise<Permit>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason as Error);
      };
      // The place is handed over here, so no newcomer can take it first.
      const waiter: Waiter = {
        grant: (permit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(permit);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * After a call: `ok` for a reply, with its time from the request sent (ms); `rateLimited` for a
   * 429; `timedOut` for a request that timed out; `other` for anything else (it says nothing of
   * the endpoint).
   */
  release(permit: Permit, outcome: 'ok' | 'rateLimited' | 'timedOut' | 'other', ms?: number): void {
    const saturated = this.waiters.length > 0 || this.inFlight >= this.limit * 0.9;
    const inFlight = this.inFlight;
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (outcome === 'ok' && ms !== undefined) this.observe(permit, ms, saturated);
    else {
      permit.round.failed++;
      if (outcome === 'rateLimited') this.cutForOverload(this.limitValue);
      if (outcome === 'timedOut') this.cutForOverload(Math.min(this.limitValue, inFlight));
    }
    this.judge(permit.round);
    this.grantWaiting();
  }

  private take(): Permit {
    this.inFlight++;
    const now = this.now();
    // A round left short (few calls to send) is closed after two round trips, to be judged.
    if (this.round.sent >= this.round.size || now - this.round.startedAt > 2 * this.roundTripMs) {
      this.round.size = this.round.sent;
      this.judge(this.round);
      this.round = this.newRound();
    }
    this.round.sent++;
    return { round: this.round };
  }

  /** Calls a round takes: as many as make its median as steady as MEDIAN_ERROR says, however widely times vary. */
  private newRound(): Round {
    const needed = Math.ceil(((1.25 * Math.sqrt(this.logVariance)) / MEDIAN_ERROR) ** 2);
    const size = Math.min(MAX_ROUND, Math.max(MIN_ROUND, needed, Math.ceil(this.limit / 4)));
    return { size, sent: 0, startedAt: this.now(), times: [], failed: 0, judged: false };
  }

  private grantWaiting() {
    while (this.waiters.length && this.inFlight < this.limit) this.waiters.shift()!.grant(this.take());
  }

  /**
   * To 70% of `from`: the limit on a 429 (the rate gate's cool-down holds a rate limit; the limit
   * backs off as TCP's window does), what was in flight on a timeout (a server queueing past the
   * call timeout, which a limit far above what is in flight would take many cuts to reach).
   */
  private cutForOverload(from: number) {
    const now = this.now();
    if (now - this.lastCut < this.roundTripMs) return;
    this.limitValue = Math.max(this.min, from * DECREASE);
    this.lastCut = now;
  }

  /**
   * Growth a reply: one (doubling per round trip); two (tripling) while the endpoint has shown no
   * queue in any round judged, its last ones clean: an open API is reached sooner. A bounded
   * server shows its queue in the second round already (the first round's overflow queued).
   */
  private step(): number {
    return !this.queueSeen && this.cleanRounds >= 2 && this.unclean === 0 ? 2 : 1;
  }

  /** Once a queue was seen, the limit stays within a margin of what the endpoint serves at once. */
  private mayGrow(): boolean {
    return !this.queueSeen || this.inFlight < QUEUE_MARGIN * this.servedEstimate;
  }

  /**
   * What the endpoint serves at once, from the latest replies: the calls they kept in flight
   * (replies a millisecond × their mean time, by Little's law) × the endpoint's time without a
   * queue ÷ their median time (as TCP Vegas estimates it).
   */
  private served(base: number): number {
    const r = this.replies;
    const n = Math.min(r.length, this.round.size * 2);
    if (n < 2) return Infinity;
    const latest = r.slice(r.length - n).map((x) => x.ms);
    const perMs = (n - 1) / Math.max(1, r[r.length - 1].at - r[r.length - n].at);
    const mean = latest.reduce((a, b) => a + b, 0) / n;
    return (perMs * mean * base) / nth(latest, n >> 1);
  }

  private observe(permit: Permit, ms: number, saturated: boolean) {
    this.roundTripMs = 0.9 * this.roundTripMs + 0.1 * ms;
    const log = Math.log(Math.max(1, ms));
    if (this.replies.length === 0) this.logMean = log;
    const x = log - this.logMean;
    this.logMean += 0.05 * x;
    this.logVariance = 0.95 * (this.logVariance + 0.05 * x * x);
    this.replies.push({ at: this.now(), ms });
    if (this.replies.length > 2 * MAX_ROUND) this.replies.shift();
    const base = this.baselineMs;
    // Grown only while in use (an idle limit says nothing of the endpoint) and by unqueued replies;
    // blindly before the first round was judged, not after a probe.
    const unqueued =
      base === undefined ? !this.queueSeen : !this.slower(ms, base, GROW_RATIO) && this.mayGrow();
    if (saturated && unqueued) this.limitValue = Math.min(this.maxValue, this.limitValue + this.step());
    permit.round.times.push(ms);
  }

  /**
   * Whether a probe may happen now: once per PROBE_MS, at the same moments on every worker's
   * clock, so that workers sharing an endpoint probe it together.
   */
  private probeDue(now: number): boolean {
    const period = Math.floor(now / PROBE_MS);
    if (period === this.probePeriod) return false;
    this.probePeriod = period;
    return true;
  }

  /**
   * Whether a time of `ms` is `ratio` times the endpoint's time without a queue, and slower by
   * more than noise: a busy machine's jitter, or twice the lag of this process's event loop.
   */
  private slower(ms: number, base: number, ratio: number): boolean {
    return ms >= base * ratio && ms - base > Math.max(NOISE_MS, 2 * this.lagMs());
  }

  /** Once most of a round's calls are back: its median against the fastest recent clean round's. */
  private judge(round: Round) {
    const back = round.times.length + round.failed;
    if (round.judged || round.sent < round.size || back < Math.ceil(JUDGED_AT * round.size)) return;
    round.judged = true;
    // Sent before the last cut: queued behind the overshoot that the cut answered.
    if (round.startedAt < this.lastCut || round.times.length < MIN_ROUND / 2) return;
    // The round's (lower) median: the calls not back yet are its slowest.
    const median = nth(round.times, Math.floor((round.size - round.failed - 1) / 2));
    const base = this.baselineMs;
    if (base !== undefined) this.servedEstimate = this.served(base);
    if (base === undefined || !this.slower(median, base, CLEAN_RATIO)) {
      // Only clean rounds make the baseline, so that a lasting queue cannot raise it.
      this.medians.push(median);
      if (this.medians.length > BASELINE_ROUNDS) this.medians.shift();
      this.unclean = 0;
      this.cleanRounds++;
      return;
    }
    this.unclean++;
    this.cleanRounds = 0;
    const probe = this.probeDue(this.now()) && this.unclean >= UNCLEAN_ROUNDS;
    if (probe || this.slower(median, base, QUEUE_RATIO)) this.cut(probe);
  }

  /** To what the endpoint serves at once, where its queue drains; a probe also takes a quarter off what is in flight. */
  private cut(probe: boolean) {
    const target = probe ? Math.min(this.servedEstimate, PROBE_DRAIN * this.inFlight) : this.servedEstimate;
    this.limitValue = Math.max(this.min, Math.min(this.limitValue, target));
    this.lastCut = this.now();
    this.queueSeen = true;
    // After a probe the endpoint's time is measured again, from the rounds sent after it: the
    // endpoint may itself have become slower.
    if (probe) [this.medians.length, this.unclean] = [0, 0];
  }
}

/** The `k`-th smallest of `xs` (0-based; the largest if past the end). */
function nth(xs: number[], k: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(k, s.length - 1)];
}
