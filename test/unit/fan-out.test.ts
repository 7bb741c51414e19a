// How a dataset sizes its dialogue groups and its window (src/workflows/fan-out.ts): exact values.
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import type { EndpointStatus } from '../../src/types';
import {
  AUTO_WINDOW_UNLIMITED,
  callsInFlightLimit,
  callsPerSecondLimit,
  dialoguesPerGroup,
  maxGroupsInFlight,
  windowSize,
} from '../../src/workflows/fan-out';

const input = (extra: object = {}) =>
  parseDatasetInput({
    count: 40_000,
    turns: 8,
    output: 's3://parrot/x',
    ask: { endpoint: 'a', model: 'm' },
    answer: { endpoint: 'a', model: 'm' },
    ...extra,
  });
const none = { shared: true };

describe('fan-out sizing', () => {
  it('groups as many dialogues as keep a group history small: fewer as dialogues grow longer', () => {
    // 8 turns of 256 + 512 tokens: 8² × 768 × 5 bytes = 245,760 bytes a dialogue; 8 MiB / that = 34.
    assert.equal(dialoguesPerGroup(input()), 34);
    // A run's 1,000 groups then hold 34,000 dialogues of 8 turns in flight: past 20,000.
    assert.equal(maxGroupsInFlight(8_000) * dialoguesPerGroup(input()), 34_000);
    assert.equal(dialoguesPerGroup(input({ turns: 3 })), 50, 'capped');
    assert.equal(dialoguesPerGroup(input({ turns: { min: 2, max: 100 } })), 1, '100 turns: a workflow each');
    assert.equal(
      dialoguesPerGroup(input({ turns: { histogram: { 2: 5, 4: 1, 60: 0 } } })),
      50,
      'weight 0 is never drawn',
    );
    assert.equal(dialoguesPerGroup(input({ dialoguesPerWorkflow: 7 })), 7);
    assert.equal(dialoguesPerGroup(input({ dialoguesPerWorkflow: 200 })), 34, 'held to the history budget');
    assert.equal(
      dialoguesPerGroup(input({ turns: 3, dialoguesPerWorkflow: 120 })),
      120,
      'past the default cap, within the budget',
    );
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

  // An endpoint as a worker reports it: its limiter's limit, its workers, its tokens a minute.
  const status = (limit: number, extra: Partial<EndpointStatus> = {}): EndpointStatus => ({
    inFlight: limit,
    waiting: 0,
    limit,
    abandoned: 0,
    latencyMs: 2_000,
    workers: 1,
    tokensPerCall: 0,
    ...extra,
  });

  it('keeps in flight what the workers have learned the endpoint serves at once, not a fixed 4,000', () => {
    const o = (latencyMs = 0, dialogueServiceMs = 0, callsPerDialogue = 0) => ({
      latencyMs,
      dialogueServiceMs,
      callsPerDialogue,
    });
    // A bounded server whose limiter settled at 28: before any dialogue finished, twice that.
    assert.equal(windowSize(input(), none, o(), 17, 8_000, { ask: status(28), answer: status(28) }), 56);
    // Once they have: 3 calls of 4 s in 30 s in the window = 2.5 times its calls' time; × 1.2.
    assert.equal(
      windowSize(input(), none, o(4_000, 30_000, 3), 17, 8_000, { ask: status(28), answer: status(28) }),
      84,
    );
    // Never under twice the calls: the limiter must have calls waiting to grow.
    assert.equal(
      windowSize(input(), none, o(4_000, 12_000, 3), 17, 8_000, { ask: status(28), answer: status(28) }),
      56,
    );
    // Two workers, each with half: the same.
    const half = status(14, { workers: 2 });
    assert.equal(windowSize(input(), none, o(), 17, 8_000, { ask: half, answer: half }), 56);
    // Two endpoints: ask and answer calls alternate, twice the smaller.
    const two = { ask: status(10), answer: status(40) };
    assert.equal(windowSize(input(), { shared: false }, o(), 17, 8_000, two), 40);
    // Nothing known (the estimate, before any worker reported): the old cap.
    assert.equal(windowSize(input(), none, o(), 17, 8_000), AUTO_WINDOW_UNLIMITED);
    // A fast endpoint, 5 ms a call: a dialogue is assumed to spend 200 ms between calls, 41 times
    // its calls' time: 24 × 41 × 1.2.
    assert.equal(windowSize(input(), none, o(), 17, 8_000, { ask: status(24, { latencyMs: 5 }) }), 1181);
    // An open API's limiter grows with what it is given: the window grows with it.
    assert.equal(windowSize(input(), none, o(), 17, 8_000, { ask: status(3_000) }), 6_000);
  });

  it("keeps a tokens-per-minute endpoint's window at what its tokens allow, not at its high RPM", () => {
    // 150,000 tokens a minute at 500 tokens a call: 5 calls/s; × 2 s × 2 = 20, where 100,000 rpm allows 6,667.
    const tpm = status(10_000, { tpm: 150_000, tokensPerCall: 500 });
    const o = { latencyMs: 2_000, dialogueServiceMs: 0, callsPerDialogue: 0 };
    assert.equal(
      callsPerSecondLimit({ ask: 100_000, answer: 100_000, shared: true }, { ask: tpm, answer: tpm }),
      5,
    );
    assert.equal(
      windowSize(input(), { ask: 100_000, answer: 100_000, shared: true }, o, 17, 8_000, {
        ask: tpm,
        answer: tpm,
      }),
      20,
    );
    assert.equal(callsInFlightLimit({ shared: true }, { ask: tpm, answer: tpm }), 10_000);
  });

  it('counts ask and answer calls against one shared limit, or twice the slower of two', () => {
    assert.equal(callsPerSecondLimit({ shared: true }), undefined);
    assert.equal(callsPerSecondLimit({ ask: 600, answer: 600, shared: true }), 10);
    assert.equal(callsPerSecondLimit({ ask: 600, answer: 1200, shared: false }), 20);
  });
});
