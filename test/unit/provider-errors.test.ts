// How a provider's HTTP answers and silences become Temporal failures: which 4xx are permanent,
// and a hung call given up at the call timeout by the client itself.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { loadEndpointRegistry } from '../../src/config/endpoints';
import { LlmProvider, type CallRecord } from '../../src/providers/openai-provider';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from '../helpers/fake-openai-server';
import { TEST_ROOTS } from '../helpers/roots';

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

  it("aborts a hung call at the activity's start-to-close timeout (llmCallTimeoutSeconds)", async () => {
    fake.failNext({ status: 0, hang: true });
    const activities = createActivities({
      endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
      roots: TEST_ROOTS,
    });
    const started = Date.now();
    const call = new MockActivityEnvironment({ startToCloseTimeoutMs: 1_000 }).run(activities.answer, {
      settings: { endpoint: 'fake', model: FAKE_MODEL },
      dialogue: [{ role: 'user' as const, content: 'hi?' }],
    });
    // Without the timeout the client would wait 10 minutes: give up on the test well before.
    const limit = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the call was still open after 5 s')), 5_000).unref(),
    );
    await assert.rejects(Promise.race([call, limit]), /timed out/i);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1_000 && elapsed < 2_000, `gave up after ${elapsed} ms`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fake.abandoned.length, 1, 'the client closed the connection');
    assert.ok(fake.abandoned[0].at - started < 2_000);
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
      seen.every((r) => r.endpoint === 'fake' && r.ms >= 0 && r.windowWaitMs >= 0 && r.rateWaitMs >= 0),
    );
    assert.ok(seen[0].promptTokens > 0 && seen[0].completionTokens > 0);
    assert.ok(seen.slice(1).every((r) => r.promptTokens === 0 && r.completionTokens === 0));
    assert.ok(seen[5].ms >= 250, `the hung call was given up after ${seen[5].ms} ms`);
  });
});
