// How a dataset sizes its dialogue groups and its window (src/planning/fan-out.ts): exact values.
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import type { EndpointStatus } from '../../src/types';
import {
  assumedBytesPerTurnSquared,
  AUTO_WINDOW_UNLIMITED,
  callsInFlightLimit,
  callsPerSecondLimit,
  dialoguesPerGroup,
  GROUP_HISTORY_BYTES,
  groupHistoryBytes,
  initialHistorySizing,
  learnHistorySizing,
  maxGroupsInFlight,
  windowSize,
} from '../../src/planning/fan-out';

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
