// How a worker finds how many requests an endpoint serves at once (src/providers/adaptive-concurrency.ts):
// its 429 cuts and its queue, exactly; and, on a simulated clock (test/helpers/limiter-sim.ts), what it
// does against a bounded server that queues (vLLM at its batch limit) and against open APIs.
import assert from 'node:assert/strict';
import { AdaptiveConcurrency, type Permit } from '../../src/providers/adaptive-concurrency';
import { simulate } from '../helpers/limiter-sim';

describe('adaptive concurrency', () => {
  it('grows by one per unqueued reply while in use (doubling per round trip), and cuts to 70% once per round trip on 429s and timeouts', async () => {
    let now = 0;
    const c = new AdaptiveConcurrency({ initial: 4, now: () => now });
    // A backlog of calls, as a busy worker has: each freed place is taken at once.
    const held: Permit[] = [];
    for (let i = 0; i < 200; i++) void c.acquire().then((p) => held.push(p));
    const tick = () => new Promise((r) => setImmediate(r));
    const round = async (outcome: 'ok' | 'rateLimited') => {
      now += 1_000;
      for (const p of held.splice(0)) c.release(p, outcome, 1_000);
      await tick();
      return c.limit;
    };
    await tick();
    assert.equal(c.active, 4);
    assert.deepEqual([await round('ok'), await round('ok')], [8, 16]);
    assert.equal(await round('rateLimited'), 11, 'one cut for a round of 16 429s: 16 × 0.7');
    assert.equal(c.active, 11);
    assert.equal(c.waiting, 200 - 4 - 8 - 16 - 11);
  });

  it('cuts on a timeout to 70% of what was in flight, on a 429 to 70% of the limit', async () => {
    const now = 0;
    const timedOut = new AdaptiveConcurrency({ initial: 100, now: () => now });
    const held = await Promise.all(Array.from({ length: 10 }, () => timedOut.acquire()));
    timedOut.release(held[0], 'timedOut');
    assert.equal(timedOut.limit, 7, 'a limit of 100 with 10 in flight: cut to 7 at once');
    const limited = new AdaptiveConcurrency({ initial: 100, now: () => now });
    limited.release(await limited.acquire(), 'rateLimited');
    assert.equal(limited.limit, 70);
  });

  it('holds callers past the limit until a place frees, and lets an aborted wait go', async () => {
    const c = new AdaptiveConcurrency({ initial: 1, max: 1 });
    const first = await c.acquire();
    let second = false;
    const waiting = c.acquire().then(() => (second = true));
    const abort = new AbortController();
    const third = c.acquire(abort.signal);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual({ second, waiting: c.waiting }, { second: false, waiting: 2 });
    abort.abort(new Error('cancelled'));
    await assert.rejects(third, /cancelled/);
    c.release(first, 'ok', 10);
    await waiting;
    assert.deepEqual(
      { second, active: c.active, waiting: c.waiting },
      { second: true, active: 1, waiting: 0 },
    );
  });

  it('lowers a declared upper bound at once (a maxConcurrency shared by more workers)', async () => {
    const c = new AdaptiveConcurrency({ initial: 16, max: 16 });
    const permits = await Promise.all(Array.from({ length: 16 }, () => c.acquire()));
    c.setMax(8);
    assert.equal(c.limit, 8);
    for (const p of permits.slice(0, 8)) c.release(p, 'other');
    const next = c.acquire();
    let granted = false;
    void next.then(() => (granted = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(granted, false, 'still 8 in flight: at the new bound');
  });
});

// The case: 16 at once, queued first come first served, 2 s a request: 8 calls/s at most.
describe('adaptive concurrency against simulated endpoints', () => {
  const capacityShare = (r: { callsPerSecond: number; capacityPerSecond?: number }) =>
    r.callsPerSecond / r.capacityPerSecond!;

  it('holds a bounded server (16 at once, 2 s a call) at its capacity with a short queue', async () => {
    for (const latencySigma of [0, 0.3]) {
      const r = await simulate({
        clients: 600,
        seconds: 240,
        latencyMedianMs: 2000,
        latencySigma,
        slots: 16,
      });
      assert.ok(
        capacityShare(r) >= 0.95,
        `σ ${latencySigma}: ${(100 * capacityShare(r)).toFixed(1)}% of capacity`,
      );
      assert.ok(r.queuePeak <= 32, `σ ${latencySigma}: ${r.queuePeak} queued at most`);
      assert.ok(r.queueMean <= 12, `σ ${latencySigma}: ${r.queueMean.toFixed(1)} queued on average`);
    }
  });

  it('keeps the queue of a large bounded server (64 at once, 10 s a call) far under a call timeout', async () => {
    const r = await simulate({
      clients: 4000,
      seconds: 600,
      latencyMedianMs: 10_000,
      latencySigma: 0.2,
      slots: 64,
    });
    assert.ok(capacityShare(r) >= 0.93, `${(100 * capacityShare(r)).toFixed(1)}% of capacity`);
    // A request waits queued × 10 s ÷ 64: at most a minute (its start-up overshoot), far under the
    // 600 s call timeout; on average under 10 s.
    assert.ok(r.queuePeak <= 6 * 64, `${r.queuePeak} queued at most`);
    assert.ok(r.queueMean <= 64, `${r.queueMean.toFixed(1)} queued on average`);
  });

  it('holds the queue bounded when two workers share the server, each with its own limiter', async () => {
    const r = await simulate({
      clients: 600,
      seconds: 240,
      latencyMedianMs: 2000,
      latencySigma: 0.3,
      slots: 16,
      workers: 2,
    });
    assert.ok(capacityShare(r) >= 0.95, `${(100 * capacityShare(r)).toFixed(1)}% of capacity`);
    assert.ok(
      r.queuePeak <= 64 && r.queueMean <= 32,
      `${r.queuePeak} queued at most, ${r.queueMean} on average`,
    );
  });

  it('never holds back an open API, whose latency does not depend on the load', async () => {
    // 300 callers at 2 s median, σ 1: 300 / 3.3 s ≈ 91 calls/s if nothing holds them back (the ramp
    // of the first round trips aside).
    for (const [clients, sigma, median] of [
      [300, 1, 2000],
      [30, 1, 2000],
      [1500, 0.5, 5000],
    ]) {
      const r = await simulate({
        clients,
        seconds: 400,
        latencyMedianMs: median,
        latencySigma: sigma,
        seed: 3,
      });
      const unlimited = clients / ((median / 1000) * Math.exp((sigma * sigma) / 2));
      assert.ok(
        r.callsPerSecond >= 0.85 * unlimited,
        `${clients} callers, σ ${sigma}: ${r.callsPerSecond.toFixed(1)} calls/s of ${unlimited.toFixed(1)}`,
      );
      assert.ok(
        r.limits.at(-1)! >= clients,
        `the limit ended at ${r.limits.at(-1)}, under ${clients} callers`,
      );
    }
  });
});
