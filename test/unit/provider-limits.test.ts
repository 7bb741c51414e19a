// Provider limits without a server: the per-worker rate gate, the headers a 429 may carry, the
// endpoint registry, and completions with no usable text (activities against the FAKE LLM server).
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { MAX_UNUSABLE_TRIES } from '../../src/activities/llm';
import { parseDurationMs, retryAfterMs } from '../../src/providers/openai-provider';
import { RateGate } from '../../src/providers/rate-gate';
import { requestsPerSecond } from '../../src/config/task-queues';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from '../helpers/fake-openai-server';
import { TEST_ROOTS } from '../helpers/roots';

describe('rate gate (one worker, per endpoint)', () => {
  it('holds the tokens of the last 60 s under the tokens-per-minute limit, settled to real usage', () => {
    let now = 0;
    const gate = new RateGate({ tpm: 1000 }, () => now);
    const first = gate.reserve(600);
    assert.ok('ticket' in first);
    now = 10_000;
    assert.deepEqual(
      gate.reserve(500),
      { waitMs: 51_000 },
      'room only when the first call leaves the window',
    );
    gate.settle(first.ticket, 300); // it used only 300
    assert.ok('ticket' in gate.reserve(500));
    now = 62_000; // the first call has left the window; the 500 remain
    assert.ok('ticket' in gate.reserve(500));
    assert.deepEqual(
      gate.reserve(5000),
      { waitMs: 61_000 },
      'a call over the whole limit waits for an empty window',
    );
  });

  it('holds the calls of the last 60 s under the requests-per-minute limit', () => {
    let now = 0;
    const gate = new RateGate({ rpm: 2 }, () => now);
    assert.ok('ticket' in gate.reserve(1));
    now = 20_000;
    assert.ok('ticket' in gate.reserve(1));
    now = 30_000;
    assert.deepEqual(
      gate.reserve(1),
      { waitMs: 31_000 },
      'the third call waits until the first leaves the window',
    );
    now = 61_000;
    assert.ok('ticket' in gate.reserve(1));
    assert.deepEqual(gate.reserve(1), { waitMs: 20_000 });
  });

  it('makes every call wait out a 429 once one came', () => {
    let now = 0;
    const gate = new RateGate({}, () => now);
    assert.ok('ticket' in gate.reserve(1));
    gate.coolDown(3_000);
    assert.deepEqual(gate.reserve(1), { waitMs: 3_000 });
    now = 3_000;
    assert.ok('ticket' in gate.reserve(1));
  });
});

describe('429 delays', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('reads retry-after-ms, Retry-After, and OpenAI x-ratelimit-reset-* durations', () => {
    assert.equal(retryAfterMs(h({ 'retry-after-ms': '1500', 'retry-after': '9' })), 1500);
    assert.equal(retryAfterMs(h({ 'retry-after': '2' })), 2000);
    assert.equal(
      retryAfterMs(h({ 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' })),
      360_000,
    );
    assert.equal(retryAfterMs(h({ 'x-ratelimit-reset-tokens': '20ms' })), 20);
    assert.equal(retryAfterMs(h({})), undefined);
    assert.equal(parseDurationMs('1h2m3.5s'), 3_723_500);
    assert.equal(parseDurationMs('soon'), undefined);
  });
  it('sets a task queue rate under the limit by about one second of burst', () => {
    assert.equal(requestsPerSecond(600), 590 / 60);
    assert.equal(requestsPerSecond(1), 1 / 60);
  });
});

// The endpoint registry is what the worker checks at start-up.
describe('endpoint configuration', () => {
  it('reads limits and lists every problem, naming the variable', () => {
    const ok = loadEndpointRegistry({
      PARROT_ENDPOINT_A_URL: 'http://x/v1',
      PARROT_ENDPOINT_A_RPM: '500',
      PARROT_ENDPOINT_A_TPM: '90000',
    });
    assert.deepEqual(
      { ...ok.get('a') },
      { name: 'a', baseURL: 'http://x/v1', apiKey: 'none', rpm: 500, tpm: 90000 },
    );
    assert.throws(
      () =>
        loadEndpointRegistry({
          PARROT_ENDPOINT_B_API_KEY: 'k',
          PARROT_ENDPOINT_C_URL: 'ftp://x',
          PARROT_ENDPOINT_D_URL: 'http://d',
          PARROT_ENDPOINT_D_RPM: 'lots',
        }),
      (err: Error) => {
        assert.match(err.message, /PARROT_ENDPOINT_B_URL is not set/);
        assert.match(err.message, /PARROT_ENDPOINT_C_URL: 'ftp:\/\/x' is not an http\(s\) URL/);
        assert.match(err.message, /PARROT_ENDPOINT_D_RPM: 'lots' is not a positive integer/);
        return true;
      },
    );
  });
});

describe('empty and malformed completions', () => {
  // Activities called directly: a fake provider is all they need, no server or worker.
  let fake: FakeOpenAiServer;
  before(async () => {
    fake = await startFakeOpenAiServer();
  });
  after(async () => fake?.close());
  const answerInput = {
    settings: { endpoint: 'fake', model: FAKE_MODEL },
    dialogue: [{ role: 'user' as const, content: 'hi?' }],
  };
  const activities = () =>
    createActivities({
      endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
      roots: TEST_ROOTS,
    });

  it('retries a completion with no content, then gives up clearly at the last try', async () => {
    fake.failNext({ status: 200, message: 'not a completion' }, 2);
    await assert.rejects(
      new MockActivityEnvironment({ attempt: 1 }).run(activities().answer, answerInput),
      (err: ApplicationFailure) => err.type === 'MalformedCompletion' && !err.nonRetryable,
    );
    await assert.rejects(
      new MockActivityEnvironment({ attempt: MAX_UNUSABLE_TRIES }).run(activities().answer, answerInput),
      (err: ApplicationFailure) => {
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /no text, 5 times: giving up/);
        return true;
      },
    );
    const ok: { text: string } = await new MockActivityEnvironment({ attempt: 3 }).run(
      activities().answer,
      answerInput,
    );
    assert.equal(ok.text, 'Fake answer to: hi?');
  });
});
