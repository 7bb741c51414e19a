// A discrete-event simulation of one worker's concurrency limiter (src/providers/adaptive-concurrency.ts)
// against an endpoint, on a simulated clock: `clients` callers each make calls one after another
// (a dialogue's calls), through the limiter, to either an open API (its latency does not depend
// on the load) or a bounded server (`slots` at once, the rest queued in order, as vLLM does).
// Seeded, so a test's figures are exact and take no wall-clock time.
import {
  AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
} from '../../src/providers/adaptive-concurrency';
import { prng } from '../../src/random';

export interface SimOptions {
  clients: number;
  /** Simulated seconds. */
  seconds: number;
  /** A call's time at the endpoint once served (ms): `median × exp(sigma × N(0,1))`. */
  latencyMedianMs: number;
  latencySigma?: number;
  /** A bounded server: this many at once, the rest queued first come first served. Absent: open. */
  slots?: number;
  /** Time between one call's reply and the caller's next call (ms). */
  thinkMs?: number;
  /** The endpoint's times grow linearly to this many times by the end (longer prompts as dialogues grow). */
  drift?: number;
  limiter?: AdaptiveConcurrencyOptions;
  /** Workers, each with its own limiter and an equal share of the callers, against the one endpoint. */
  workers?: number;
  seed?: number;
}

export interface SimResult {
  /** Replies a second over the run, and the most the bounded server could give. */
  callsPerSecond: number;
  capacityPerSecond?: number;
  /** Requests queued at the server: the most at once, and the mean over time. */
  queuePeak: number;
  queueMean: number;
  /** The limit at the end of each simulated second (summed over the workers). */
  limits: number[];
}

export async function simulate(o: SimOptions): Promise<SimResult> {
  const rand = prng(o.seed ?? 1);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const latency = () =>
    o.latencyMedianMs *
    (1 + ((o.drift ?? 1) - 1) * (now / (o.seconds * 1000))) *
    Math.exp((o.latencySigma ?? 0) * gaussian());
  let now = 0;
  const limiters = Array.from(
    { length: o.workers ?? 1 },
    () => new AdaptiveConcurrency({ ...o.limiter, now: () => now }),
  );
  const events: { at: number; fire: () => void }[] = [];
  const at = (t: number, fire: () => void) => {
    let i = events.length;
    while (i > 0 && events[i - 1].at > t) i--;
    events.splice(i, 0, { at: t, fire });
  };
  const sleep = (ms: number) => new Promise<void>((r) => at(now + ms, r));

  // The bounded server: slots busy and its queue; time-weighted queue length.
  let busy = 0;
  const queue: (() => void)[] = [];
  let queuePeak = 0;
  let queueArea = 0;
  let lastChange = 0;
  const queueChanged = () => {
    queueArea += queue.length * (now - lastChange);
    lastChange = now;
    queuePeak = Math.max(queuePeak, queue.length);
  };
  const serve = async () => {
    if (o.slots === undefined) return sleep(latency());
    if (busy >= o.slots) {
      queueChanged();
      await new Promise<void>((r) => queue.push(r));
      queueChanged();
    } else busy++;
    await sleep(latency());
    const next = queue.shift();
    if (next)
      next(); // the slot passes to the next in line
    else busy--;
  };

  let replies = 0;
  const end = o.seconds * 1000;
  const client = async (limiter: AdaptiveConcurrency) => {
    while (now < end) {
      const permit = await limiter.acquire();
      const sent = now;
      await serve();
      replies++;
      limiter.release(permit, 'ok', now - sent);
      if (o.thinkMs) await sleep(o.thinkMs);
    }
  };
  const limits: number[] = [];
  for (let s = 1; s <= o.seconds; s++)
    at(s * 1000, () => limits.push(limiters.reduce((n, l) => n + l.limit, 0)));
  const clients = Array.from({ length: o.clients }, (_, i) => client(limiters[i % limiters.length]));
  while (events.length && events[0].at <= end) {
    const e = events.shift()!;
    now = e.at;
    e.fire();
    await new Promise((r) => setImmediate(r));
  }
  queueChanged();
  void clients;
  return {
    callsPerSecond: replies / o.seconds,
    capacityPerSecond:
      o.slots === undefined
        ? undefined
        : (o.slots * 1000) / (o.latencyMedianMs * Math.exp((o.latencySigma ?? 0) ** 2 / 2)),
    queuePeak,
    queueMean: queueArea / end,
    limits,
  };
}
