// OTEL_EXPORTER_OTLP_ENDPOINT turns on tracing (src/telemetry/tracing.ts): the worker sends
// spans of its workflows and activities over OTLP/HTTP, one trace from the dataset down to each
// LLM call. A stand-in collector records what arrives. The worker runs as its own process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateDataset } from '../src/workflows';
import { testTemporal } from './global-fixtures';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { fakeDatasetInput } from './helpers/inputs';

interface ExportedSpan {
  name: string;
  traceId: string;
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT, worker in a child process)', () => {
  let fake: FakeOpenAiServer;
  let collector: http.Server;
  let worker: WorkerProcess | undefined;
  const spans: ExportedSpan[] = [];
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-otel-'));
  const taskQueue = `tracing-${process.pid}`;

  before(async () => {
    fake = await startFakeOpenAiServer();
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
          };
          for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const { port } = collector.address() as AddressInfo;
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: (await testTemporal()).address,
      TEMPORAL_NAMESPACE: 'default',
      PARROT_TASK_QUEUE: taskQueue,
      PARROT_ENDPOINT_FAKE_URL: fake.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    assert.match(worker.log(), /traces over OTLP/);
  });
  after(async () => {
    await worker?.stop();
    await fake?.close();
    collector?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('sends one trace from the dataset workflow down to each LLM activity', async () => {
    const result = await (
      await testTemporal()
    ).client.workflow.execute(generateDataset, {
      taskQueue,
      workflowId: `tracing-${Date.now()}`,
      workflowExecutionTimeout: '2 minutes',
      args: [fakeDatasetInput(outDir, { count: 2, turns: 2, concurrency: 2 })],
    });
    assert.equal(result.completed, 2);
    await worker!.stop(); // flushes the spans still buffered
    const names = new Set(spans.map((s) => s.name));
    const root = spans.find((s) => s.name === 'RunWorkflow:generateDataset');
    assert.ok(root, `no dataset span among: ${[...names].join(', ')}`);
    const answers = spans.filter((s) => s.name === 'RunActivity:answer');
    const asks = spans.filter((s) => s.name === 'RunActivity:ask');
    assert.equal(answers.length, result.usage.answer.calls, [...names].join(', '));
    assert.equal(asks.length, result.usage.ask.calls);
    assert.ok(names.has('RunWorkflow:generateDialogues'));
    assert.ok(
      [...answers, ...asks].every((s) => s.traceId === root.traceId),
      'every LLM call in the dataset’s trace',
    );
  });
});
