// How a dataset sizes its dialogue groups and its window (src/workflows/fan-out.ts), and how a
// worker probes an endpoint's concurrency (src/providers/adaptive-concurrency.ts): exact values.
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import {
  assumedBytesPerTurnSquared,
  AUTO_WINDOW_UNLIMITED,
  callsPerSecondLimit,
  dialoguesPerGroup,
  GROUP_HISTORY_BYTES,
  groupHistoryBytes,
  initialHistorySizing,
  learnHistorySizing,
  maxGroupsInFlight,
  windowSize,
} from '../../src/workflows/fan-out';
import { AdaptiveConcurrency } from '../../src/providers/adaptive-concurrency';

const models = { endpoint: 'a', model: 'm' };
const input = (extra: object = {}) =>
  parseDatasetInput({
    count: 40_000,
    turns: 8,
    output: 's3://parrot/x',
    ask: models,
    answer: models,
    ...extra,
  });
const none = { shared: true };

describe('fan-out sizing', () => {
  it('groups as many dialogues as fit 3 MiB of history before groups report: each turn at maxTokens (2,048 for an unset answer), through the codec', () => {
    // (256 + 2,048 tokens) × 7 bytes (5 a token, × 1.4 for the codec) + 1,000 for the events = 17,128 bytes a turn².
    assert.equal(assumedBytesPerTurnSquared(input()), 17_128);
    // 8 turns: 64 × 17,128 = 1,096,192 bytes a dialogue; 3 MiB / that = 2.
    assert.equal(dialoguesPerGroup(input()), 2);
    assert.equal(dialoguesPerGroup(input({ turns: 3 })), 20, '3 MiB / (9 × 17,128)');
    // maxTokens set: (64 + 256) × 7 + 1,000 = 3,240 a turn²; 3 MiB / (64 × 3,240) = 15.
    assert.equal(
      dialoguesPerGroup(input({ ask: { ...models, maxTokens: 64 }, answer: { ...models, maxTokens: 256 } })),
      15,
    );
    assert.equal(dialoguesPerGroup(input({ turns: { min: 2, max: 100 } })), 1, '100 turns: a workflow each');
    assert.equal(
      dialoguesPerGroup(input({ turns: { histogram: { 2: 5, 4: 1, 60: 0 } } })),
      11,
      'weight 0 is never drawn: 4 turns at most',
    );
    assert.equal(dialoguesPerGroup(input({ turns: 3, dialoguesPerWorkflow: 7 })), 7);
    assert.equal(
      dialoguesPerGroup(input({ turns: 3, dialoguesPerWorkflow: 120 })),
      20,
      'held to the history budget',
    );
  });

  it('sizes groups from the history bytes groups report, within 3,000 events, at most 50', () => {
    const learnt = (historyBytesPerTurnSquared: number, groupHistoryBytes = GROUP_HISTORY_BYTES) => ({
      historyBytesPerTurnSquared,
      groupHistoryBytes,
    });
    // Short texts (940 bytes a turn² measured at 3 turns): capped at 50.
    assert.equal(dialoguesPerGroup(input({ turns: 3 }), learnt(940)), 50);
    assert.equal(
      dialoguesPerGroup(input({ turns: 3, dialoguesPerWorkflow: 120 }), learnt(940)),
      62,
      'past the default cap, within 3,000 events (48 a dialogue of 3 turns)',
    );
    // 8 turns of 540 bytes a turn²: 3 MiB holds 91, but 3,000 events only 27 (12 a turn + 12).
    assert.equal(dialoguesPerGroup(input(), learnt(540)), 27);
    assert.equal(
      maxGroupsInFlight(8_000) * dialoguesPerGroup(input(), learnt(540)),
      27_000,
      'in flight in one run',
    );
    // 3,000-token answers through the codec (about 20,000 bytes a turn²), 4 turns, under a server
    // that suggested continue-as-new at 1 MiB: 786,432 / 320,000 = 2.
    assert.equal(dialoguesPerGroup(input({ turns: 4 }), learnt(20_000)), 9);
    assert.equal(dialoguesPerGroup(input({ turns: 4 }), learnt(20_000, 786_432)), 2);
  });

  it('learns bytes a turn² as a moving average of reports, and the history a group may fill from where one had to hand on', () => {
    let sizing = initialHistorySizing();
    sizing = learnHistorySizing(sizing, { bytes: 2_000_000, turnsSquared: 100 });
    assert.deepEqual(
      sizing,
      { historyBytesPerTurnSquared: 20_000, groupHistoryBytes: 0 },
      'the first report replaces the assumption; the budget stays the default (0)',
    );
    assert.equal(groupHistoryBytes(sizing), GROUP_HISTORY_BYTES);
    sizing = learnHistorySizing(sizing, { bytes: 1_000_000, turnsSquared: 100 });
    assert.equal(sizing.historyBytesPerTurnSquared, 18_000, '0.8 × 20,000 + 0.2 × 10,000');
    assert.equal(
      learnHistorySizing(sizing, { bytes: 50_000, turnsSquared: 0 }).historyBytesPerTurnSquared,
      18_000,
      'no turns yet: nothing learnt',
    );
    // Handed on at 1 MiB (the server suggested continue-as-new): groups are sized to 3/4 of it.
    sizing = learnHistorySizing(sizing, { bytes: 2_000_000, turnsSquared: 100, handedOnAt: 1024 * 1024 });
    assert.equal(sizing.groupHistoryBytes, 786_432);
    sizing = learnHistorySizing(sizing, { bytes: 7_000_000, turnsSquared: 350, handedOnAt: 6 * 1024 * 1024 });
    assert.equal(sizing.groupHistoryBytes, 786_432, 'never raised');
    sizing = learnHistorySizing(sizing, { bytes: 200_000, turnsSquared: 10, handedOnAt: 100_000 });
    assert.equal(sizing.groupHistoryBytes, 256 * 1024, 'never below 256 KiB');
  });

  it("keeps what the declared RPM needs in flight (Little's law), a large window without, a pinned number as given", () => {
    const calls = (latencyMs: number) => ({ latencyMs, dialogueServiceMs: 0, callsPerDialogue: 0 });
    assert.equal(windowSize(input(), none, calls(5_000), 17, 8_000), AUTO_WINDOW_UNLIMITED);
    // 1,200 rpm = 20 calls/s; × 5 s × 2 = 200.
    assert.equal(
      windowSize(input(), { ask: 1200, answer: 1200, shared: true }, calls(5_000), 17, 8_000),
      200,
    );
    // Before any latency is known, 10 s is assumed: 40 calls/s (two endpoints) × 10 s × 2.
    assert.equal(windowSize(input(), { answer: 1200, shared: false }, calls(0), 17, 8_000), 800);
    assert.equal(windowSize(input(), { ask: 60, shared: true }, calls(100), 17, 8_000), 1, 'at least one');
    // Once dialogues have finished: 20 calls/s ÷ 15 calls a dialogue × 180 s in the window × 1.2 = 288, above 20 × 5 s × 2 = 200.
    assert.equal(
      windowSize(
        input(),
        { ask: 1200, shared: true },
        { latencyMs: 5_000, dialogueServiceMs: 180_000, callsPerDialogue: 15 },
        17,
        8_000,
      ),
      288,
    );
    assert.equal(
      windowSize(
        input(),
        { ask: 1200, shared: true },
        { latencyMs: 5_000, dialogueServiceMs: 60_000, callsPerDialogue: 15 },
        17,
        8_000,
      ),
      200,
    );
    assert.equal(windowSize(input({ concurrency: 300 }), none, calls(5_000), 17, 8_000), 300);
    // A pinned window still fits the groups a run may hold: (100 − 80) / 5 = 4 groups of 17.
    assert.equal(windowSize(input({ concurrency: 300 }), none, calls(5_000), 17, 100), 68);
    assert.equal(maxGroupsInFlight(8_000), 1_000);
  });

  it('counts ask and answer calls against one shared limit, or twice the slower of two', () => {
    assert.equal(callsPerSecondLimit({ shared: true }), undefined);
    assert.equal(callsPerSecondLimit({ ask: 600, answer: 600, shared: true }), 10);
    assert.equal(callsPerSecondLimit({ ask: 600, answer: 1200, shared: false }), 20);
  });
});

describe('adaptive concurrency (AIMD)', () => {
  it('doubles per round trip while saturated, cuts to 70% once per round trip on 429s, then grows by one per round trip', async () => {
    let now = 0;
    const c = new AdaptiveConcurrency({ initial: 4, now: () => now });
    // A backlog of calls, as a busy worker has: each freed place is taken at once.
    for (let i = 0; i < 200; i++) void c.acquire();
    const tick = () => new Promise((r) => setImmediate(r));
    const round = async (outcome: 'ok' | 'rateLimited') => {
      now += 1_000;
      for (let n = c.active; n > 0; n--) c.release(outcome, 1_000);
      await tick();
      return c.limit;
    };
    await tick();
    assert.equal(c.active, 4);
    assert.deepEqual([await round('ok'), await round('ok')], [8, 16]);
    assert.equal(await round('rateLimited'), 11, 'one cut for a round of 16 429s: 16 × 0.7');
    assert.equal(await round('ok'), 12, 'after the first cut, one more per round trip');
    assert.equal(c.active, 12);
  });

  it('holds callers past the limit until a place frees, and lets an aborted wait go', async () => {
    const c = new AdaptiveConcurrency({ initial: 1, max: 1 });
    await c.acquire();
    let second = false;
    const waiting = c.acquire().then(() => (second = true));
    const abort = new AbortController();
    const third = c.acquire(abort.signal);
    await new Promise((r) => setImmediate(r));
    assert.equal(second, false);
    abort.abort(new Error('cancelled'));
    await assert.rejects(third, /cancelled/);
    c.release('ok');
    await waiting;
    assert.deepEqual({ second, active: c.active }, { second: true, active: 1 });
  });
});
