// The one way a test waits for something to happen: poll until it holds, or fail at a deadline
// naming what did not happen. No test waits without a deadline.

export interface EventuallyOptions {
  /** What is awaited, for the error: "the dataset to be paused". */
  what: string;
  /** Give up after this long (ms); default 60 s, for a loaded machine. */
  timeout?: number;
  /** Between two checks (ms); default 100. */
  interval?: number;
}

/** What a check returns once it holds. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Thrown by a check to stop waiting at once: what it waits for can no longer happen (a server exited, say). */
export class GiveUp extends Error {}

/**
 * Calls `check` until it returns a truthy value, which it returns; throws after `timeout` ms with
 * the last value, or the last error `check` threw (a query between two runs of a workflow, say).
 * A `GiveUp` error ends the wait at once.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { what, timeout = 60_000, interval = 100 }: EventuallyOptions,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
      last = value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`, { cause: last });
    }
    await sleep(interval);
  }
}

/** A fixed pause: only to show that something does NOT happen in that time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
