// How a provider's HTTP answers and silences become Temporal failures: which 4xx are permanent,
// and a hung call given up at its timeout by the client itself; a call's timeout runs from when
// its request is sent, and a request is not sent when its caller's time is nearly up.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { LlmProvider, type CallRecord } from '../../src/providers/openai-provider';
import type { LlmReply } from '../../src/types';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from '../helpers/fake-openai-server';
import { TEST_ROOTS } from '../helpers/roots';
import { eventually } from '../helpers/eventually';

const PROXY_AUTH = 407;

describe('provider errors (fake LLM server)', () => {
  let fake: FakeOpenAiServer;
  before(async () => {
    fake = await startFakeOpenAiServer();
  });
  after(() => fake.close());
  const endpoint = () => loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }).get('fake')!;

  it("fails every 4xx at once, with the provider's message, except 408, 409 and 429", async () => {
    const retried: number[] = [];
    for (let status = 400; status < 500; status++) {
      if (status === PROXY_AUTH) continue;
      // Twice: fetch asks again, once, on a fresh connection after a 421 (Misdirected Request).
      fake.failNext({ status, message: `refused with ${status}` }, 2);
      // A fresh provider: a 429 would make the next calls wait out its cool-down.
      const err = await new LlmProvider()
        .chat(endpoint(), { model: FAKE_MODEL }, [{ role: 'user', content: 'hi?' }])
        .then(
          () => assert.fail(`HTTP ${status} was taken for an answer`),
          (e: unknown) => e,
        );
      assert.ok(err instanceof ApplicationFailure, `HTTP ${status}: ${String(err)}`);
      assert.match(err.message, new RegExp(`^fake: HTTP ${status}: .*refused with ${status}`));
      assert.equal(err.type, status === 429 ? 'RateLimited' : `Http${status}`);
      if (!err.nonRetryable) retried.push(status);
      fake.clearFailures();
    }
    assert.deepEqual(retried, [408, 409, 429]);
  });

  // The fetch standard turns a 407 into a network error before the client sees a status: it is
  // retried like a dropped connection (a proxy's doing, not the provider's).
  it('takes a 407 for a connection error', async () => {
    fake.failNext({ status: PROXY_AUTH });
    await assert.rejects(
      new LlmProvider().chat(endpoint(), { model: FAKE_MODEL }, [{ role: 'user', content: 'hi?' }]),
      (err: Error) => {
        assert.ok(!(err instanceof ApplicationFailure));
        assert.match(err.message, /Connection error/);
        return true;
      },
    );
  });

  it('retries 5xx', async () => {
    fake.failNext({ status: 503, message: 'overloaded' });
    await assert.rejects(
      new LlmProvider().chat(endpoint(), { model: FAKE_MODEL }, [{ role: 'user', content: 'hi?' }]),
      (err: ApplicationFailure) => {
        assert.equal(err.type, 'Http503');
        assert.equal(err.nonRetryable, false);
        return true;
      },
    );
  });

  /** An activity scheduled now, its timeouts the retry budget's (an hour), as the workflow sets them. */
  const activityEnv = () =>
    new MockActivityEnvironment({
      scheduledTimestampMs: Date.now(),
      startToCloseTimeoutMs: 3_600_000,
      scheduleToCloseTimeoutMs: 3_600_000,
    });
  const answerInput = (timeoutSeconds?: number) => ({
    settings: { endpoint: 'fake', model: FAKE_MODEL },
    dialogue: [{ role: 'user' as const, content: 'hi?' }],
    timeoutSeconds,
  });

  it('aborts a hung call at its timeout (llmCallTimeoutSeconds)', async () => {
    fake.failNext({ status: 0, hang: true });
    const activities = createActivities({
      endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
      roots: TEST_ROOTS,
    });
    const started = Date.now();
    const abandonedBefore = fake.abandoned.length;
    const call = activityEnv().run(activities.answer, answerInput(1));
    // Without the timeout the client would wait 10 minutes: give up on the test well before.
    const limit = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the call was still open after 5 s')), 5_000).unref(),
    );
    await assert.rejects(Promise.race([call, limit]), /timed out/i);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1_000 && elapsed < 2_000, `gave up after ${elapsed} ms`);
    await eventually(() => fake.abandoned.length === abandonedBefore + 1, {
      what: 'the client to close the connection',
      timeout: 2_000,
    });
  });

  it("gives a call that waited at its endpoint's gate its whole timeout, from when it is sent", async () => {
    // One request at a time: the second call waits for the first (1.5 s), then takes 0.3 s.
    const activities = createActivities({
      endpoints: loadEndpointRegistry({
        PARROT_ENDPOINT_FAKE_URL: fake.url,
        PARROT_ENDPOINT_FAKE_MAX_CONCURRENCY: '1',
      }),
      roots: TEST_ROOTS,
    });
    fake.slowNext(1_500);
    fake.slowNext(300);
    const [first, second] = await Promise.all([
      activityEnv()
        .run(activities.answer, answerInput(1))
        .catch((e: Error) => e),
      new Promise((r) => setTimeout(r, 50)).then((): Promise<LlmReply> =>
        activityEnv().run(activities.answer, answerInput(1)),
      ),
    ]);
    assert.ok(
      first instanceof Error && /timed out/i.test(first.message),
      'the first call hit its 1 s timeout',
    );
    assert.equal(
      second.text,
      'Fake answer to: hi?',
      'the second, sent after waiting ~1 s, had its whole second',
    );
    assert.ok(second.waitMs! >= 900, `it waited ${second.waitMs} ms at the gate, counted as waiting`);
    assert.ok(second.ms! < 1_000, `its request took ${second.ms} ms`);
  });

  it("sends no request when the caller's time left is shorter than the endpoint's calls take", async () => {
    const provider = new LlmProvider();
    const slow = { ...endpoint(), name: 'slow' };
    // 16 calls of 400 ms: the endpoint's time without a queue is known.
    fake.slowNext(400, 16);
    await Promise.all(
      Array.from({ length: 16 }, () =>
        provider.chat(slow, { model: FAKE_MODEL }, [{ role: 'user', content: 'hi?' }]),
      ),
    );
    assert.ok(provider.state(slow).latencyMs >= 390, `measured ${provider.state(slow).latencyMs} ms`);
    const requests = fake.stats.requests;
    await assert.rejects(
      provider.chat(slow, { model: FAKE_MODEL }, [{ role: 'user', content: 'hi?' }], {
        deadline: Date.now() + 200,
      }),
      (err: ApplicationFailure) => {
        assert.equal(err.type, 'RetryBudgetExhausted');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /slow: \d+ ms left of the call's retry budget .* not sent/);
        return true;
      },
    );
    assert.equal(fake.stats.requests, requests, 'no request went out');
    assert.equal(provider.state(slow).inFlight, 0, 'its place was given back');
  });

  it('tells the metrics how each call it sent ended', async () => {
    const seen: CallRecord[] = [];
    const call = (deadline?: number) =>
      new LlmProvider()
        .chat(endpoint(), { model: FAKE_MODEL }, [{ role: 'user', content: 'hi there?' }], {
          deadline,
          observe: (r) => seen.push(r),
        })
        .catch(() => undefined);
    await call();
    for (const status of [429, 503, 401]) {
      fake.failNext({ status });
      await call();
    }
    fake.failNext({ status: PROXY_AUTH }); // a connection error
    await call();
    fake.failNext({ status: 0, hang: true });
    await call(Date.now() + 300);
    assert.deepEqual(
      seen.map((r) => r.outcome),
      ['ok', '429', '5xx', 'permanent', 'error', 'timeout'],
    );
    assert.ok(
      seen.every((r) => r.endpoint === 'fake' && r.ms >= 0 && r.limitWaitMs >= 0 && r.rateWaitMs >= 0),
    );
    assert.ok(seen[0].promptTokens > 0 && seen[0].completionTokens > 0);
    assert.ok(seen.slice(1).every((r) => r.promptTokens === 0 && r.completionTokens === 0));
    assert.ok(seen[5].ms >= 250, `the hung call was given up after ${seen[5].ms} ms`);
    assert.equal(seen[5].state.abandoned, 1, 'given up after it was sent: counted as abandoned');
  });
});
