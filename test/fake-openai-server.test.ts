// The fake server the tests and benchmarks share: its limits and faults must behave as the
// benchmarks' figures assume (test/helpers/fake-openai-server.ts).
import assert from 'node:assert/strict';
import {
  FAKE_MODEL,
  startFakeOpenAiServer,
  type FakeOpenAiOptions,
  type FakeOpenAiServer,
} from './helpers/fake-openai-server';
import { eventually } from './helpers/eventually';

describe('the fake OpenAI-compatible server', () => {
  const servers: FakeOpenAiServer[] = [];
  const start = async (opts?: FakeOpenAiOptions) => {
    const s = await startFakeOpenAiServer(opts);
    servers.push(s);
    return s;
  };
  const chat = (s: FakeOpenAiServer, content = 'What is a hash map?', signal?: AbortSignal) =>
    fetch(`${s.url}/chat/completions`, {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: FAKE_MODEL, messages: [{ role: 'user', content }] }),
    });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('answers, counting a token a word, and keeps stats', async () => {
    const s = await start();
    const r = await chat(s);
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.choices[0].message.content, 'Fake answer to: What is a hash map?');
    assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 8, total_tokens: 0 });
    assert.equal(s.stats.ok, 1);
    assert.deepEqual(s.stats.okTokens, [13]);
    assert.equal(s.requests.length, 1);
  });

  it('refuses past its requests per minute with a Retry-After, and past its tokens per minute with Retry-After-Ms', async () => {
    const rpm = await start({ rpm: 2 });
    assert.deepEqual([(await chat(rpm)).status, (await chat(rpm)).status], [200, 200]);
    const refused = await chat(rpm);
    assert.equal(refused.status, 429);
    assert.ok(
      Number(refused.headers.get('retry-after')) >= 59,
      `retry-after ${refused.headers.get('retry-after')}`,
    );
    assert.equal(rpm.stats.rateLimited, 1);

    const tpm = await start({ tpm: 60, completionTokens: 20 }); // 5 + 20 tokens a call: two fit
    assert.deepEqual(
      [(await chat(tpm)).status, (await chat(tpm)).status, (await chat(tpm)).status],
      [200, 200, 429],
    );
    assert.ok(Number((await chat(tpm)).headers.get('retry-after-ms')) > 50_000);
  });

  it('fails, hangs and delays on demand, and times its latency', async () => {
    const s = await start({ latencyMs: 150, recordRequests: false });
    s.failNext({ status: 500, message: 'boom' });
    assert.equal((await chat(s)).status, 500);
    s.burst({ kind: 'status', status: 429, retryAfterSeconds: 7 }, 10_000);
    const burst = await chat(s);
    assert.deepEqual([burst.status, burst.headers.get('retry-after')], [429, '7']);
    s.burst({ kind: 'hang' }, 10_000);
    await assert.rejects(chat(s, 'hang', AbortSignal.timeout(300)), /aborted|timeout/i);
    s.burst({ kind: 'hang' }, 0);
    s.slowNext(200);
    const t0 = Date.now();
    assert.equal((await chat(s)).status, 200);
    assert.ok(Date.now() - t0 >= 340, `answered after ${Date.now() - t0} ms, not 150 + 200`);
    assert.ok(s.stats.okHeldMs[0] >= 340);
    assert.deepEqual(
      { errors: s.stats.errors, rateLimited: s.stats.rateLimited, hung: s.stats.hung, ok: s.stats.ok },
      { errors: 1, rateLimited: 1, hung: 1, ok: 1 },
    );
    await eventually(() => s.abandoned.length === 1, {
      what: 'the hung request to be given up by the client',
      timeout: 2_000,
    });
    assert.equal(s.stats.inFlight, 0);
    assert.equal(s.requests.length, 0, 'requests not recorded');
  });

  it('serves a bounded number at once and queues the rest in order, counting work abandoned and requests dropped', async () => {
    const s = await start({ slots: 2, latencyMedianMs: 300, latencySigma: 0, recordRequests: false });
    const t0 = Date.now();
    const times = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        assert.equal((await chat(s)).status, 200);
        return Date.now() - t0;
      }),
    );
    times.sort((a, b) => a - b);
    assert.ok(
      times[1] < 550 && times[2] >= 580,
      `two at a time, in order: answered after ${times.join(', ')} ms`,
    );
    let b = s.stats.bounded!;
    assert.deepEqual(
      { served: b.served, queuePeak: b.queuePeak, abandoned: b.abandoned, dropped: b.dropped },
      { served: 4, queuePeak: 2, abandoned: 0, dropped: 0 },
    );
    assert.ok(b.busyMs >= 4 * 290, `${b.busyMs} ms of slot time`);

    // Two clients started (they leave at 200 ms of their 300: abandoned), then one queued behind
    // them that leaves at 100 ms, while they still hold both slots (dropped).
    const leaving = (ms: number) =>
      assert.rejects(chat(s, 'bye', AbortSignal.timeout(ms)), /aborted|timeout/i);
    const started = [leaving(200), leaving(200)];
    await eventually(() => s.stats.inFlight === 2, { what: 'both slots taken', timeout: 2_000, interval: 5 });
    await Promise.all([...started, leaving(100)]);
    await eventually(
      () => {
        b = s.stats.bounded!;
        assert.deepEqual(
          { abandoned: b.abandoned, dropped: b.dropped, queued: b.queued },
          { abandoned: 2, dropped: 1, queued: 0 },
        );
        return true;
      },
      { what: 'the server to count the clients that left', timeout: 2_000, interval: 20 },
    );
    const t1 = Date.now();
    assert.equal((await chat(s)).status, 200);
    assert.ok(Date.now() - t1 < 550, 'the aborting server freed the slots at once');
  });

  it('keeps working on a started request after its client left, when it does not abort', async () => {
    const s = await start({ slots: 1, latencyMedianMs: 400, latencySigma: 0, abortOnClientLeave: false });
    await assert.rejects(chat(s, 'bye', AbortSignal.timeout(100)), /aborted|timeout/i);
    const t1 = Date.now();
    assert.equal((await chat(s)).status, 200);
    assert.ok(
      Date.now() - t1 >= 650,
      `the slot stayed busy to the end: answered after ${Date.now() - t1} ms`,
    );
    const b = s.stats.bounded!;
    assert.deepEqual({ abandoned: b.abandoned, served: b.served }, { abandoned: 1, served: 1 });
    assert.ok(b.wastedMs >= 390, `${b.wastedMs} ms of work wasted`);
  });
});
