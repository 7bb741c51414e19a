// What one worker does, per endpoint, to stay under a provider's limits between calls (its share
// of them, when several workers call the endpoint: see setShare):
// - tokens per minute (the endpoint's `tpm`): the tokens of the calls sent in the last 60 s,
//   estimated before and settled to the real usage after, may not pass the limit (a sliding
//   window, as providers count; a token bucket would let up to twice the limit through in the
//   first minute);
// - a cool-down after a 429: every call to the endpoint waits until the provider's Retry-After
//   has passed, instead of each one hitting the limit again on its own.
// - requests per minute (the endpoint's `rpm`): at most that many calls sent in the last 60 s.
//   For the dialogue activities the Temporal server already holds RPM across all workers (see
//   src/workers.ts), so this one never binds there; it holds the metrics activity's embedding
//   and judge calls, which run on the main task queue.

export interface Ticket {
  at: number;
  tokens: number;
}

/** A minute and a second: a call leaves our window only after it surely left the provider's. */
const WINDOW_MS = 61_000;

export class RateGate {
  private readonly window: Ticket[] = [];
  private windowTokens = 0;
  private coolUntil = 0;
  /** Running mean of completion tokens: the estimate for calls with no maxTokens. */
  private meanCompletion = 256;
  /** Running mean of the tokens a call used (prompt and completion); 0 before one has. */
  meanTokens = 0;
  /** This worker's share of the endpoint's limits. */
  private share = 1;

  constructor(
    private readonly limits: { tpm?: number; rpm?: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** This worker's share of the limits (1 / the workers calling the endpoint). */
  setShare(share: number): void {
    this.share = share;
  }

  /** Estimated tokens of a call: prompt characters / 4, plus the completion it may write. */
  estimate(promptChars: number, maxTokens?: number): number {
    return Math.ceil(promptChars / 4) + (maxTokens ?? Math.ceil(this.meanCompletion));
  }

  /** Takes `tokens` for a call now (a ticket), or says how long to wait before asking again. */
  reserve(tokens: number): { ticket: Ticket } | { waitMs: number } {
    const now = this.now();
    if (now < this.coolUntil) return { waitMs: this.coolUntil - now };
    while (this.window.length && this.window[0].at <= now - WINDOW_MS)
      this.windowTokens -= this.window.shift()!.tokens;
    const rpm = this.limits.rpm && Math.max(1, Math.floor(this.limits.rpm * this.share));
    const tpm = this.limits.tpm && Math.max(1, Math.floor(this.limits.tpm * this.share));
    if (rpm && this.window.length >= rpm)
      return { waitMs: this.window[this.window.length - rpm].at + WINDOW_MS - now };
    if (tpm) {
      const need = Math.min(tokens, tpm); // a call larger than the whole limit waits for an empty window
      let free = tpm - this.windowTokens;
      if (free < need) {
        for (const t of this.window) {
          free += t.tokens;
          if (free >= need) return { waitMs: t.at + WINDOW_MS - now };
        }
      }
    }
    const ticket = { at: now, tokens };
    this.window.push(ticket);
    this.windowTokens += tokens;
    return { ticket };
  }

  /** After the call: its ticket holds what it really used (0 if nothing reached the provider). */
  settle(ticket: Ticket, used: number, completion?: number): void {
    this.windowTokens += used - ticket.tokens;
    ticket.tokens = used;
    if (completion === undefined) return;
    this.meanCompletion = 0.9 * this.meanCompletion + 0.1 * completion;
    this.meanTokens = this.meanTokens ? 0.9 * this.meanTokens + 0.1 * used : used;
  }

  /** A 429 came anyway: every call through this gate waits `ms`. */
  coolDown(ms: number): void {
    this.coolUntil = Math.max(this.coolUntil, this.now() + ms);
  }

  /** Waits (abortably) until a call of `tokens` may go. */
  async admit(tokens: number, signal?: AbortSignal): Promise<Ticket> {
    for (;;) {
      const r = this.reserve(tokens);
      if ('ticket' in r) return r.ticket;
      await abortableSleep(Math.min(r.waitMs, 5_000), signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
