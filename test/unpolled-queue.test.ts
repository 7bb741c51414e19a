// An endpoint with a request limit has its own task queue, fixed when the dataset starts. When the
// workers are replaced by ones without the endpoint's _RPM, nobody polls it: the dataset warns,
// then fails the dialogues waiting there with an error naming the endpoint and the variable,
// instead of letting them wait out their retry budget; a resume with the variable set runs them.
import { TEST_ROOTS } from './helpers/roots';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { generateDataset, pauseUpdate, progressQuery, unpauseUpdate } from '../src/workflows';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { testTemporal } from './global-fixtures';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { createTestWorker } from './helpers/temporal';
import { eventually } from './helpers/eventually';
import { progressWhen } from './helpers/progress';
import { fakeDatasetInput } from './helpers/inputs';

describe("an endpoint's task queue that no worker polls (fake LLM server)", () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-unpolled-'));
  before(async () => {
    env = await testTemporal();
    fake = await startFakeOpenAiServer();
  });
  after(async () => {
    await fake?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('warns in progress and the UI, then fails the dialogues waiting on it with a clear error; a resume runs them', async function () {
    this.timeout(300_000); // a queue counts as unpolled after 90 s without a poll
    const taskQueue = `unpolled-${process.pid}`;
    const endpoints = { PARROT_ENDPOINT_FAKE_URL: fake.url, PARROT_ENDPOINT_LIMITED_URL: fake.url };
    const workers = (rpm: boolean) =>
      createTestWorker(
        env,
        {
          endpoints: loadEndpointRegistry({
            ...endpoints,
            ...(rpm && { PARROT_ENDPOINT_LIMITED_RPM: '6000' }),
          }),
          roots: TEST_ROOTS,
        },
        { taskQueue },
      );
    const input = fakeDatasetInput(outDir, {
      count: 2,
      turns: 1,
      dialoguesPerWorkflow: 2,
      unpolledQueueSeconds: 10,
      answer: { endpoint: 'limited', model: FAKE_MODEL },
    });
    // Opened by workers with the limit (the answers' queue is fixed then), paused so that no dialogue runs there.
    const start = new WithStartWorkflowOperation(generateDataset, {
      workflowId: 'unpolled',
      taskQueue,
      workflowIdConflictPolicy: 'FAIL',
      args: [input],
    });
    const handle = await (
      await workers(true)
    ).worker.runUntil(async () => {
      await env.client.workflow.executeUpdateWithStart(pauseUpdate, { startWorkflowOperation: start });
      const dataset = await start.workflowHandle();
      await eventually(() => dataset.query(progressQuery), { what: 'the dataset to open' });
      return dataset;
    });
    // Replaced by workers without PARROT_ENDPOINT_LIMITED_RPM.
    const result = await (
      await workers(false)
    ).worker.runUntil(async () => {
      await handle.executeUpdate(unpauseUpdate);
      const p = await progressWhen(handle, (p) => p.unpolledQueues.length > 0, {
        what: 'the warning',
        timeout: 180_000,
      });
      const [warning] = p.unpolledQueues;
      assert.deepEqual(
        { ...warning, message: undefined, silentSeconds: undefined },
        {
          taskQueue: `${taskQueue}-llm-limited`,
          endpoint: 'limited',
          roles: ['answer'],
          failing: false,
          message: undefined,
          silentSeconds: undefined,
        },
      );
      assert.match(
        warning.message,
        /^no worker has polled task queue '\S+-llm-limited' of endpoint 'limited' \(answer\) for \d+ s: start workers with PARROT_ENDPOINT_LIMITED_RPM set; the dialogues waiting on it fail in \d+ s$/,
      );
      assert.equal(p.running, 2, 'the dialogues wait while the dataset warns');
      const { currentDetails } = await handle.query<{ currentDetails: string }>(
        '__temporal_workflow_metadata',
      );
      assert.match(currentDetails, /No worker polls an endpoint's queue.*PARROT_ENDPOINT_LIMITED_RPM/);
      return handle.result();
    });
    assert.deepEqual([result.completed, result.failedCount], [0, 2]);
    for (const f of result.failed)
      assert.match(
        f.error,
        /no worker polls task queue '\S+-llm-limited' of endpoint 'limited' \(none for \d+ s, unpolledQueueSeconds 10\): start workers with PARROT_ENDPOINT_LIMITED_RPM set, then resume the dataset/,
      );
    assert.equal(fake.requests.length, 0);

    // Resumable: with the limit set again, a resume runs both.
    const resumed = await (
      await workers(true)
    ).worker.runUntil(() =>
      env.client.workflow.execute(generateDataset, {
        workflowId: 'unpolled-resumed',
        taskQueue,
        args: [{ ...input, resumeFrom: 'unpolled' }],
      }),
    );
    assert.deepEqual([resumed.completed, resumed.failedCount], [2, 0]);
  });
});
