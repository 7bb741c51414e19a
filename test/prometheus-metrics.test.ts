// PARROT_METRICS_BIND: the worker serves the SDK's metrics and parrot's on one Prometheus
// endpoint. Runtime.install runs once per process (the test process has its own, without
// metrics), so the worker runs as a child process, as `npm run worker:dev` runs it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generateDataset } from '../src/workflows';
import type { DatasetResult } from '../src/types';
import { testTemporal } from './global-fixtures';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { freePort } from './helpers/minio-server';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { fakeDatasetInput } from './helpers/inputs';

/** One sample of a Prometheus text scrape: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `where`. */
const sum = (samples: Sample[], name: string, where: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe('Prometheus metrics (PARROT_METRICS_BIND, worker in a child process, fake LLM server)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  let worker: WorkerProcess | undefined;
  let metricsUrl: string;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-prom-'));
  const taskQueue = `prometheus-${process.pid}`;

  before(async () => {
    env = await testTemporal();
    fake = await startFakeOpenAiServer();
    const bind = `127.0.0.1:${await freePort()}`;
    metricsUrl = `http://${bind}/metrics`;
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      PARROT_TASK_QUEUE: taskQueue,
      PARROT_ENDPOINT_FAKE_URL: fake.url,
      PARROT_METRICS_BIND: bind,
    });
    assert.match(worker.log(), new RegExp(`metrics on ${metricsUrl.replace(/[.]/g, '\\.')}`));
  });
  after(async () => {
    await worker?.stop();
    await fake?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('serves the LLM and dialogue series next to the SDK’s, with counts that match the dataset', async () => {
    // Two 429s (with a short Retry-After), a 500 and a 401 (that dialogue fails) before the fake
    // answers normally; a question the filters reject, and a user who takes leave.
    fake.failNext({ status: 429, headers: { 'retry-after-ms': '100' } }, 2);
    fake.failNext({ status: 500 });
    fake.failNext({ status: 401, message: 'bad key' });
    fake.failNext({ status: 0, hang: true }); // given up after its 3 s timeout: abandoned
    fake.replyNext('As an AI language model, what else can I help you with?');
    fake.replyNext("Thanks, that's all!");
    const workflowId = `prometheus-${Date.now()}`;
    const result: DatasetResult = await env.client.workflow
      .execute(generateDataset, {
        taskQueue,
        workflowId,
        workflowExecutionTimeout: '2 minutes',
        args: [fakeDatasetInput(outDir, { count: 5, turns: 3, concurrency: 2, llmCallTimeoutSeconds: 3 })],
      })
      .catch((err) => {
        throw new Error(`the dataset failed: ${err}\nworker log:\n${worker!.log()}`);
      });
    assert.equal(result.completed, 4);
    assert.equal(result.failedCount, 1);

    const scrape = await fetch(metricsUrl);
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    const samples = parsePrometheusText(text);
    const fakeEndpoint = { endpoint: 'fake' };

    // The SDK's own series, on the same endpoint.
    for (const name of [
      'temporal_activity_schedule_to_start_latency_count',
      'temporal_workflow_task_schedule_to_start_latency_count',
      'temporal_worker_task_slots_used',
    ])
      assert.ok(
        samples.some((x) => x.name === name),
        `${name} missing from the scrape:\n${text.slice(0, 2000)}`,
      );

    // Calls by outcome: every successful call is one the dataset counted; the faults, as injected.
    for (const role of ['ask', 'answer'] as const) {
      const ok = { ...fakeEndpoint, role, outcome: 'ok' };
      assert.equal(sum(samples, 'parrot_llm_calls', ok), result.usage[role].calls, `${role} calls`);
      assert.equal(sum(samples, 'parrot_llm_call_latency_count', ok), result.usage[role].calls);
      assert.equal(
        sum(samples, 'parrot_llm_prompt_tokens', { ...fakeEndpoint, role }),
        result.usage[role].promptTokens,
      );
      assert.equal(
        sum(samples, 'parrot_llm_completion_tokens', { ...fakeEndpoint, role }),
        result.usage[role].completionTokens,
      );
    }
    assert.ok(result.usage.ask.calls > 0 && result.usage.answer.calls > 0);
    assert.equal(sum(samples, 'parrot_llm_calls', { outcome: '429' }), 2);
    assert.equal(sum(samples, 'parrot_llm_calls', { outcome: '5xx' }), 1);
    assert.equal(sum(samples, 'parrot_llm_calls', { outcome: 'permanent' }), 1);
    assert.equal(sum(samples, 'parrot_llm_calls', { outcome: 'timeout' }), 1);
    assert.equal(
      sum(samples, 'parrot_llm_abandoned', fakeEndpoint),
      1,
      'the hung call, given up after it was sent',
    );
    assert.equal(sum(samples, 'parrot_llm_calls'), fake.stats.requests);
    for (const gate of ['window', 'rate'])
      assert.equal(
        sum(samples, 'parrot_llm_gate_wait_count', { ...fakeEndpoint, gate }),
        fake.stats.requests,
      );
    assert.ok(samples.some((x) => x.name === 'parrot_llm_call_latency_bucket' && x.labels.le === '60000'));
    assert.ok(sum(samples, 'parrot_llm_concurrency_limit', fakeEndpoint) > 0);
    assert.ok(samples.some((x) => x.name === 'parrot_llm_waiting' && x.labels.endpoint === 'fake'));

    // Question filters and dialogues by how they ended, as the dataset counted them.
    assert.equal(result.metrics!.questionFilterHits?.assistantSpeak, 1);
    assert.equal(
      sum(samples, 'parrot_question_filter_rejections', { ...fakeEndpoint, filter: 'assistantSpeak' }),
      1,
    );
    assert.equal(sum(samples, 'parrot_question_filter_rejections'), 1);
    assert.equal(sum(samples, 'parrot_dialogues_completed'), result.completed);
    for (const [reason, n] of Object.entries(result.metrics!.dialoguesEndedBy ?? {}))
      assert.equal(sum(samples, 'parrot_dialogues_completed', { reason }), n, reason);
    assert.equal(sum(samples, 'parrot_dialogues_completed', { reason: 'user-done' }), 1);
    assert.equal(sum(samples, 'parrot_dialogues_failed', { reason: 'Http401' }), 1);
    assert.equal(sum(samples, 'parrot_dialogues_failed'), 1);

    // Stuck groups (a bad deploy): none, reported by the dataset as it finished.
    const stuck = samples.filter((x) => x.name === 'parrot_stuck_groups');
    assert.deepEqual(
      stuck.map((x) => x.value),
      [0],
      'parrot_stuck_groups',
    );

    // Few-valued labels only: no dataset or dialogue ID anywhere.
    for (const x of samples.filter((s) => s.name.startsWith('parrot_')))
      for (const [k, v] of Object.entries(x.labels))
        assert.ok(!v.includes(workflowId), `${x.name} ${k}=${v}`);
    const parrotLabels = new Set(
      samples.filter((s) => s.name.startsWith('parrot_')).flatMap((s) => Object.keys(s.labels)),
    );
    assert.deepEqual([...parrotLabels].sort(), [
      'endpoint',
      'filter',
      'gate',
      'le',
      'namespace',
      'outcome',
      'reason',
      'role',
      'taskQueue',
      'workflowType',
    ]);
  });
});
