// What one worker does, per endpoint, to stay under a provider's limits between calls:
// - a tokens-per-minute bucket (the endpoint's `tpm`): a call waits until its estimated tokens
//   fit, and its real usage is settled afterwards;
// - a cool-down after a 429: every call to the endpoint waits until the provider's Retry-After
//   has passed, instead of each one hitting the limit again on its own.
// Requests per minute are held by the Temporal server across all workers (see src/workers.ts).

export class RateGate {
  private tokens: number;
  private refilledAt: number;
  private coolUntil = 0;
  /** Running mean of completion tokens: the estimate for calls with no maxTokens. */
  private meanCompletion = 256;

  constructor(
    private readonly tpm: number | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = tpm ?? 0;
    this.refilledAt = now();
  }

  /** Estimated tokens of a call: prompt characters / 4, plus the completion it may write. */
  estimate(promptChars: number, maxTokens?: number): number {
    return Math.ceil(promptChars / 4) + (maxTokens ?? Math.ceil(this.meanCompletion));
  }

  /** How long a call of `tokens` must wait before it may go (0: now); takes the tokens if 0. */
  reserve(tokens: number): number {
    const now = this.now();
    if (now < this.coolUntil) return this.coolUntil - now;
    if (!this.tpm) return 0;
    this.tokens = Math.min(this.tpm, this.tokens + ((now - this.refilledAt) * this.tpm) / 60_000);
    this.refilledAt = now;
    const need = Math.min(tokens, this.tpm); // a call larger than the whole budget waits for a full bucket
    if (this.tokens >= need) {
      this.tokens -= tokens;
      return 0;
    }
    return Math.ceil(((need - this.tokens) * 60_000) / this.tpm);
  }

  /** After the call: gives back what was over-estimated, or takes what was under. */
  settle(estimated: number, used: number, completion: number): void {
    if (this.tpm) this.tokens += estimated - used;
    this.meanCompletion = 0.9 * this.meanCompletion + 0.1 * completion;
  }

  /** A 429 came anyway: every call through this gate waits `ms`. */
  coolDown(ms: number): void {
    this.coolUntil = Math.max(this.coolUntil, this.now() + ms);
  }

  /** Waits (abortably) until a call of `tokens` may go. */
  async admit(tokens: number, signal?: AbortSignal): Promise<void> {
    for (let wait = this.reserve(tokens); wait > 0; wait = this.reserve(tokens)) {
      await abortableSleep(Math.min(wait, 5_000), signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
