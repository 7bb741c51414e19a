// Flow control against a bounded server (the FAKE server's bounded mode: a few requests at once,
// the rest queued in order, as vLLM at its batch limit) with nothing declared: the worker finds
// its capacity from latency, a call's timeout runs from its request sent, and no generation is
// thrown away; across two workers a declared maxConcurrency holds for the endpoint as a whole.
// Timings are generous: only counts are asserted.
import { TEST_ROOTS } from './helpers/roots';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { startDataset, useTemporalWorker } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { testTemporal } from './global-fixtures';
import { sampleProgress } from './helpers/progress';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-flow-'));
after(() => fs.rmSync(outDir, { recursive: true, force: true }));

/** A dataset of `count` dialogues of `turns` on `endpoint`, its calls timing out after `timeoutSeconds`. */
const datasetInput = (
  id: string,
  endpoint: string,
  count: number,
  turns: number,
  timeoutSeconds: number,
) => ({
  count,
  turns,
  llmCallTimeoutSeconds: timeoutSeconds,
  output: pathToFileURL(path.join(outDir, id)).href,
  ask: { endpoint, model: FAKE_MODEL },
  answer: { endpoint, model: FAKE_MODEL },
});

/** A fake server that serves 4 requests at once, each in `latencyMs`, and queues the rest. */
const startBoundedFake = (latencyMs: number) =>
  startFakeOpenAiServer({ slots: 4, latencyMedianMs: latencyMs, latencySigma: 0, recordRequests: false });

describe('flow control against a bounded server, nothing declared (fake LLM server)', () => {
  // 4 at once, 500 ms each (8 calls/s). 100 one-call dialogues sent at once queue for up to
  // 12.5 s, past their calls' 10 s timeout: what the old flow control did (the old window held
  // them all, and nothing told the worker the server queued).
  let fake: FakeOpenAiServer;
  before(async () => {
    fake = await startBoundedFake(500);
  });
  after(() => fake?.close());
  const t = useTemporalWorker(() => ({
    endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_BOUNDED_URL: fake.url }),
    roots: TEST_ROOTS,
  }));

  it("throws no generation away and keeps the server's queue short", async () => {
    const id = `flow-bounded-${Date.now()}`;
    const handle = await startDataset(t, id, datasetInput(id, 'bounded', 100, 1, 10));
    const { samples: seen, stop } = sampleProgress(handle);
    const result = await handle.result().finally(stop);
    assert.equal(result.completed, 100);
    const b = fake.stats.bounded!;
    assert.deepEqual(
      { abandoned: b.abandoned, dropped: b.dropped, requests: fake.stats.requests },
      { abandoned: 0, dropped: 0, requests: result.usage.answer.calls },
      'every request sent was answered and used: none timed out, none redone',
    );
    // The worker's first requests (24, and one more per reply before it knows the endpoint's
    // time) queue up to ~32 here; then the limiter holds the queue short.
    assert.ok(b.queuePeak <= 40, `${b.queuePeak} requests queued at most`);
    // The window follows what the worker learned (twice its limit of 24 at first, then by
    // Little's law on the dialogues), not a fixed 4,000; the calls waiting in the worker stay few.
    const generating = seen.filter((p) => p.phase === 'generating' && p.window > 0);
    assert.ok(generating.length > 0, 'progress was sampled while generating');
    assert.ok(generating[0].window <= 2 * 24, `first window ${generating[0].window}`);
    assert.ok(
      generating.every((p) => p.window < 4_000 && p.endpoints.bounded.waiting <= 2 * 24),
      JSON.stringify(generating.map((p) => [p.window, p.endpoints.bounded.waiting])),
    );
    const endpoint = generating.at(-1)!.endpoints.bounded;
    assert.ok(
      endpoint.limit >= 1 && endpoint.workers === 1 && endpoint.abandoned === 0,
      JSON.stringify(endpoint),
    );
  });
});

describe('a declared maxConcurrency across two workers (fake LLM server)', () => {
  let fake: FakeOpenAiServer;
  const workers: WorkerProcess[] = [];
  before(async () => {
    fake = await startBoundedFake(300);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await fake?.close();
  });

  it('holds the endpoint as a whole to it: each worker takes its share', async () => {
    const env = await testTemporal();
    const taskQueue = `flow-two-workers-${process.pid}`;
    // Two worker processes: they count each other within 10 s (src/workers.ts).
    for (let i = 0; i < 2; i++)
      workers.push(
        await startWorkerProcess({
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: 'default',
          PARROT_TASK_QUEUE: taskQueue,
          PARROT_ENDPOINT_FOUR_URL: fake.url,
          PARROT_ENDPOINT_FOUR_MAX_CONCURRENCY: '4',
        }),
      );
    await new Promise((r) => setTimeout(r, 12_000));
    const id = `flow-two-workers-${Date.now()}`;
    const handle = await env.client.workflow.start(generateDataset, {
      taskQueue,
      workflowId: id,
      args: [datasetInput(id, 'four', 40, 2, 30)],
    });
    const { samples, stop } = sampleProgress(handle);
    const result = await handle.result().finally(stop);
    const reports = samples.flatMap((p) => p.endpoints.four ?? []);
    assert.equal(result.completed, 40);
    assert.ok(fake.stats.peakInFlight <= 4, `${fake.stats.peakInFlight} requests open at once`);
    assert.equal(fake.stats.bounded!.queuePeak, 0);
    assert.ok(
      reports.length > 0 && reports.every((e) => e.workers === 2 && e.limit <= 2),
      JSON.stringify(reports.at(-1)),
    );
  });
});
