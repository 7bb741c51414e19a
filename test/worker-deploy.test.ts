// Deploying new workers while datasets run: a worker told to stop lets its LLM calls finish.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadEndpointRegistry } from '../src/config/endpoints';
import type { DialogueInput } from '../src/types';
import { createParrotWorkers, runWorkers, type ParrotWorkersOptions } from '../src/workers';
import { generateDialogue } from '../src/workflows';
import { FAKE_MODEL, startFakeLlmServer, type FakeLlmServer } from './helpers/fake-llm-server';
import { startTemporal, workflowBundle } from './helpers/temporal';

describe('deploying workers (fake LLM server)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeLlmServer;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-deploy-'));
  before(async () => {
    [env, fake] = await Promise.all([startTemporal(), startFakeLlmServer()]);
  });
  after(async () => {
    await fake?.close();
    await env?.teardown();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  /** The workers one parrot process runs, with the production defaults. */
  const parrotWorkers = async (taskQueue: string, extra: Partial<ParrotWorkersOptions> = {}): Promise<Worker[]> =>
    createParrotWorkers({
      connection: env.nativeConnection, taskQueue, deps: { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }) },
      workflows: { workflowBundle: await workflowBundle() }, ...extra,
    });

  it('lets the LLM calls in flight finish when a worker is told to stop', async () => {
    const taskQueue = 'deploy-grace';
    const input: DialogueInput = {
      datasetId: 'deploy-grace', index: 0, turns: 1, seeds: 'builtin', randomSeed: 3, output: pathToFileURL(outDir).href,
      ask: { endpoint: 'fake', model: FAKE_MODEL, mode: 'prompted' }, answer: { endpoint: 'fake', model: FAKE_MODEL },
    };
    fake.slowNext(3_000); // the one answer of a one-turn dialogue
    const calls = fake.requests.length;
    const old = await parrotWorkers(taskQueue);
    const oldRunning = runWorkers(old);
    const handle = await env.client.workflow.start(generateDialogue, { taskQueue, workflowId: 'deploy-grace/0', args: [input] });
    await until(() => fake.requests.length > calls);
    const stopping = Date.now();
    old.forEach((w) => w.shutdown()); // what SIGTERM does
    await oldRunning;
    assert.ok(Date.now() - stopping >= 2_500, `the worker stopped after ${Date.now() - stopping} ms, before its call ended`);
    const events = (await handle.fetchHistory()).events!;
    assert.equal(events.filter((e) => e.activityTaskCompletedEventAttributes).length, 2, 'pickSeeds and the answer completed');
    assert.equal(events.filter((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes).length, 0);

    const next = await parrotWorkers(taskQueue);
    const summary = await runUntil(next, () => handle.result());
    assert.deepEqual({ turns: summary.turns, answerCalls: summary.usage.answer.calls }, { turns: 1, answerCalls: 1 });
    assert.equal(fake.requests.length - calls, 1, 'the answer was asked for once');
  });
});

async function until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runUntil<R>(workers: Worker[], fn: () => Promise<R>): Promise<R> {
  const running = runWorkers(workers);
  try {
    return await fn();
  } finally {
    workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
    await running;
  }
}
