// A batch dataset survives its worker killed (SIGKILL) mid-batch, twice, with the batch finishing
// while no worker runs: the export holds every dialogue once, and the FAKE batch API saw every
// request submitted exactly once. The worker (its own process) serves the batch metrics too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generateDataset } from '../src/workflows';
import { startFakeOpenAiServer, FAKE_MODEL, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { freePort } from './helpers/minio-server';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { testTemporal } from './global-fixtures';

describe('batch mode: worker killed mid-batch (worker in a child process, FAKE batch API)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  let worker: WorkerProcess | undefined;
  let bind: string;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-batch-kill-'));
  const taskQueue = `batch-kill-${process.pid}`;
  const startWorker = async () =>
    (worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      PARROT_TASK_QUEUE: taskQueue,
      PARROT_ENDPOINT_FAKE_URL: fake.url,
      PARROT_METRICS_BIND: bind,
    }));

  before(async () => {
    env = await testTemporal();
    fake = await startFakeOpenAiServer();
    bind = `127.0.0.1:${await freePort()}`;
    await startWorker();
  });
  after(async () => {
    await worker?.stop();
    await fake?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('loses nothing and submits nothing twice; the batch series count what ran', async () => {
    const count = 12;
    fake.batch.holdMs = 4_000;
    const handle = await env.client.workflow.start(generateDataset, {
      taskQueue,
      workflowId: `batch-kill-${Date.now()}`,
      args: [
        {
          count,
          turns: 3,
          dialoguesPerWorkflow: 4,
          output: pathToFileURL(outDir).href,
          ask: { endpoint: 'fake', model: FAKE_MODEL },
          answer: { endpoint: 'fake', model: FAKE_MODEL, batch: { fillSeconds: 30, pollSeconds: 1 } },
        },
      ],
    });
    for (const round of [1, 2]) {
      // Read at the fake, not through a query: a query slowed by the restarted worker (10 s while
      // the server gives up its sticky queue) can miss a batch that is in progress for 4 s.
      await until(async () => {
        const id = fake.batch.created.at(-1);
        return (
          fake.batch.created.length === round && fake.batch.api.batches.get(id!)?.status === 'in_progress'
        );
      });
      const batchId = fake.batch.created.at(-1)!;
      await worker!.kill();
      // The batch finishes while no worker runs.
      await until(async () => fake.batch.api.batches.get(batchId)?.status === 'completed');
      await startWorker();
    }
    fake.batch.holdMs = 0;
    const result = await handle.result();
    assert.equal(result.completed, count);
    const ids = result.export.shards.flatMap((shard) =>
      fs
        .readFileSync(new URL(shard.uri), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id as string),
    );
    assert.equal(ids.length, count);
    assert.equal(new Set(ids).size, count);
    assert.equal(fake.batch.duplicates(), 0);
    assert.equal(fake.batch.submitted.size, result.usage.answer.calls);
    assert.equal(fake.batch.created.length, 3, 'one batch a turn');

    // The last worker's metrics: it collected the last two rounds at least.
    const text = await (await fetch(`http://${bind}/metrics`)).text();
    const sum = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(name) && l.includes('role="answer"'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    assert.ok(sum('parrot_batch_request_outcomes') >= 2 * count, text.slice(0, 2000));
    assert.match(text, /parrot_batch_turnaround_bucket\{/);
  });

  async function until(ok: () => Promise<boolean | undefined>) {
    const deadline = Date.now() + 120_000;
    while (!(await ok())) {
      if (Date.now() >= deadline)
        console.log(
          'WORKER LOG',
          worker?.log().slice(-6000),
          JSON.stringify(await (globalThis as any).lastP?.()),
        );
      assert.ok(Date.now() < deadline, 'timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
