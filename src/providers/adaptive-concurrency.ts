// How many requests one worker keeps open to an endpoint, found by probing as TCP does (AIMD):
// the limit doubles per round trip while calls succeed and use it (slow start), then grows by
// about one per round trip; a 429 cuts it to 70%, at most once per round trip, since a burst of
// 429s answers one overshoot. With no RPM declared this is what keeps parrot at the provider's
// limit; with one declared the server's dispatch rate binds first and this only backs off.

export interface AdaptiveConcurrencyOptions {
  initial?: number;
  min?: number;
  max?: number;
  now?: () => number;
}

const DECREASE = 0.7;

interface Waiter {
  grant: () => void;
}

export class AdaptiveConcurrency {
  private limitValue: number;
  private inFlight = 0;
  private slowStart = true;
  private lastCut = -Infinity;
  /** The latest round trip (ms): a cut counts once per round trip. */
  private roundTripMs = 1_000;
  /** Callers waiting for a place, first come first served. */
  private readonly waiters: Waiter[] = [];
  private readonly min: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor({ initial = 64, min = 1, max = 10_000, now = Date.now }: AdaptiveConcurrencyOptions = {}) {
    this.limitValue = initial;
    this.min = min;
    this.max = max;
    this.now = now;
  }

  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get active(): number {
    return this.inFlight;
  }

  /** Resolves with a place held (abortably while waiting); the caller must call `release` once after. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.waiters.length === 0 && this.inFlight < this.limit) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason as Error);
      };
      // The place is handed over here, so no newcomer can take it first.
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** After a call: `rateLimited` for a 429, `ok` for a reply; anything else leaves the limit alone. */
  release(outcome: 'ok' | 'rateLimited' | 'other', roundTripMs?: number): void {
    const wasSaturated = this.waiters.length > 0 || this.inFlight >= this.limit * 0.8;
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (roundTripMs !== undefined) this.roundTripMs = 0.9 * this.roundTripMs + 0.1 * roundTripMs;
    if (outcome === 'rateLimited') {
      const now = this.now();
      if (now - this.lastCut >= this.roundTripMs) {
        this.limitValue = Math.max(this.min, this.limitValue * DECREASE);
        this.slowStart = false;
        this.lastCut = now;
      }
    } else if (outcome === 'ok' && wasSaturated) {
      // Grown only while in use: an idle limit says nothing about the provider.
      this.limitValue = Math.min(this.max, this.limitValue + (this.slowStart ? 1 : 1 / this.limitValue));
    }
    while (this.waiters.length && this.inFlight < this.limit) {
      this.inFlight++;
      this.waiters.shift()!.grant();
    }
  }
}
