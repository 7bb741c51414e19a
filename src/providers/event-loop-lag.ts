// How late this process runs its callbacks: a reply that arrives while the event loop is busy
// (a worker at full CPU) is seen late by that much, which says nothing of the endpoint. The
// concurrency limiter takes no time under twice this lag for a queue at the endpoint.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The lag is the 99th percentile of the delays over this long. */
const WINDOW_MS = 5_000;

let histogram: IntervalHistogram | undefined;
let measuredAt = 0;
let lagMs = 0;

/** The event loop's recent lag (ms): the 99th percentile of its delays over the last window. */
export function eventLoopLagMs(now = Date.now()): number {
  if (!histogram) {
    histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    measuredAt = now;
  }
  if (now - measuredAt >= WINDOW_MS) {
    lagMs = histogram.count ? histogram.percentile(99) / 1e6 : 0;
    histogram.reset();
    measuredAt = now;
  }
  return lagMs;
}
