// The one way a test waits for something to happen: poll until it holds, or fail at a deadline
// naming what did not happen. No test waits without a deadline.

export interface EventuallyOptions {
  /** Give up after this long (ms); default 30 s. */
  timeout?: number;
  /** Between two checks (ms); default 100. */
  interval?: number;
  /** What is awaited, for the error: "the dataset to be paused". */
  what?: string;
}

/**
 * Calls `check` until it returns a truthy value, which it returns; throws after `timeout` ms with
 * the last value, or the last error `check` threw.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeout = 30_000, interval = 100, what = 'the condition' }: EventuallyOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
