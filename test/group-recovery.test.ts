// Groups that cannot report their dialogues: one stuck on a workflow task that keeps failing is
// terminated after stallCheckSeconds so the dataset finishes, and a group closed before
// reporting has its stored dialogues counted as completed, not failed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { generateDataset, pauseUpdate, progressQuery, unpauseUpdate } from '../src/workflows';
import { dialoguesFinishedSignal } from '../src/workflows/signals';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { createTestWorker, WORKFLOWS_PATH } from './helpers/temporal';
import { loadEndpointRegistry } from '../src/config/endpoints';

const models = {
  ask: { endpoint: 'fake', model: FAKE_MODEL },
  answer: { endpoint: 'fake', model: FAKE_MODEL },
};

describe('groups that cannot report (fake LLM server)', () => {
  const s = useFakeLlmSuite('recovery', {
    // Every workflow task of the group that runs dialogue 3 fails, as after a bad deploy.
    worker: {
      workflows: { workflowsPath: WORKFLOWS_PATH },
      tuning: { interceptors: { workflowModules: [require.resolve('./helpers/stuck-group-interceptor')] } },
    },
  });
  const { t, outDir } = s;

  it('terminates a group whose workflow task keeps failing, and the dataset finishes', async () => {
    const result = await t.env.client.workflow.execute(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'stuck',
      args: [
        {
          count: 6,
          turns: 1,
          concurrency: 6,
          dialoguesPerWorkflow: 1,
          stallCheckSeconds: 2,
          output: pathToFileURL(path.join(outDir, 'stuck')).href,
          ...models,
        },
      ],
    });
    assert.equal(result.completed, 5);
    assert.equal(result.failedCount, 1);
    assert.equal(result.failed[0].index, 3);
    assert.match(result.failed[0].error, /stuck: its workflow task has failed \d+ times/);
    const group = await t.env.client.workflow.getHandle('stuck/3').describe();
    assert.equal(group.status.name, 'TERMINATED');
    assert.equal(result.export.exported, 5);
  });

  it('counts the stored dialogues of a group terminated before it reported them', async () => {
    const out = path.join(outDir, 'terminated');
    s.fake.failNext({ status: 0, hang: true }); // one of the two dialogues never gets its answer
    const handle = await t.env.client.workflow.start(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'terminated-group',
      args: [
        {
          count: 2,
          turns: 1,
          concurrency: 8,
          dialoguesPerWorkflow: 2,
          llmCallTimeoutSeconds: 3600,
          output: pathToFileURL(out).href,
          ...models,
        },
      ],
    });
    // The other one is stored; its report waits a few seconds to share a signal, and the group is terminated before.
    const records = path.join(out, 'records');
    const stored = () => fs.existsSync(records) && fs.readdirSync(records).some((f) => f.endsWith('.json')); // not a temp file
    while (!stored()) await new Promise((r) => setTimeout(r, 50));
    await t.env.client.workflow.getHandle('terminated-group/0-1').terminate('by hand, in a test');
    const result = await handle.result();
    assert.equal(result.completed, 1, 'the stored dialogue counts');
    assert.equal(result.failedCount, 1);
    assert.match(result.failed[0].error, /terminated/i);
    assert.equal(result.export.exported, 1);
    assert.equal(result.usage.answer.calls, 1, 'its usage is counted from its record');
  });
});

describe('a group started after its dataset closed (fake LLM server)', () => {
  const LEAVING_PARENT = require.resolve('./helpers/leaving-parent-workflows');
  const s = useFakeLlmSuite('late-group', { worker: { workflows: { workflowsPath: LEAVING_PARENT } } });
  const { t, outDir } = s;
  /** The endpoint of late groups: any request it gets is one a late group should not have made. */
  let lateFake: FakeOpenAiServer;
  before(async () => {
    lateFake = await startFakeOpenAiServer();
  });
  after(() => lateFake?.close());

  const groupSettings = (datasetId: string) => ({
    datasetId,
    seeds: 'builtin:',
    randomSeed: 0,
    output: pathToFileURL(path.join(outDir, datasetId)).href,
    ask: { endpoint: 'late', model: FAKE_MODEL, mode: 'prompted' as const },
    answer: { endpoint: 'late', model: FAKE_MODEL },
  });
  const twoDialogues = [
    { index: 0, turns: 1, seed: 'a seed question?' },
    { index: 1, turns: 1, seed: 'another?' },
  ];
  /** A worker for the late group's queue, run only once its parent has closed. */
  const lateWorker = () =>
    createTestWorker(
      t.env,
      { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_LATE_URL: lateFake.url }) },
      { workflows: { workflowsPath: LEAVING_PARENT } },
    );

  it('runs none of its dialogues', async () => {
    const late = await lateWorker();
    await t.env.client.workflow.execute('startsAGroupAndLeaves', {
      taskQueue: t.taskQueue,
      workflowId: 'gone',
      args: [{ settings: groupSettings('gone'), dialogues: twoDialogues }, 'gone/0-1', late.taskQueue],
    });
    const outcome = await late.worker.runUntil(() => t.env.client.workflow.getHandle('gone/0-1').result());
    assert.deepEqual(outcome, { id: 'gone/0-1', outcomes: [] });
    assert.equal(
      lateFake.requests.length,
      0,
      'the provider got requests from a group whose dataset had closed',
    );
  });

  it('runs none of its dialogues when a new dataset with the same workflow ID runs meanwhile', async () => {
    const workflowId = 'reborn';
    const late = await lateWorker();
    const old = await t.env.client.workflow.start('startsAGroupAndWaits', {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        { settings: groupSettings(workflowId), dialogues: twoDialogues },
        `${workflowId}/late`,
        late.taskQueue,
      ],
    });
    await waitUntil(() =>
      t.env.client.workflow
        .getHandle(`${workflowId}/late`)
        .describe()
        .then(
          () => true,
          () => false,
        ),
    );
    await old.cancel();
    await assert.rejects(old.result());
    // The same workflow ID at once, paused (update-with-start) so that it is surely running when the late group starts.
    const start = new WithStartWorkflowOperation(generateDataset, {
      workflowId,
      taskQueue: t.taskQueue,
      workflowIdConflictPolicy: 'FAIL',
      args: [
        {
          count: 2,
          turns: 1,
          dialoguesPerWorkflow: 2,
          output: pathToFileURL(path.join(outDir, workflowId)).href,
          ...models,
        },
      ],
    });
    await t.env.client.workflow.executeUpdateWithStart(pauseUpdate, { startWorkflowOperation: start });
    const dataset = await start.workflowHandle();
    const outcome = await late.worker.runUntil(() =>
      t.env.client.workflow.getHandle(`${workflowId}/late`).result(),
    );
    assert.deepEqual(outcome, { id: `${workflowId}/late`, outcomes: [] });
    assert.equal(lateFake.requests.length, 0, 'the late group of the cancelled dataset called the provider');
    await dataset.executeUpdate(unpauseUpdate);
    const result = await dataset.result();
    assert.deepEqual([result.completed, result.failedCount, result.export.exported], [2, 0, 2]);
  });

  it('counts no outcome sent by a group of another run of its workflow ID', async () => {
    const workflowId = 'foreign-outcome';
    s.fake.failNext({ status: 0, hang: true }); // the group stays in flight for a call's timeout
    const dataset = await t.env.client.workflow.start(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        {
          count: 1,
          turns: 1,
          llmCallTimeoutSeconds: 3,
          output: pathToFileURL(path.join(outDir, workflowId)).href,
          ...models,
        },
      ],
    });
    await waitUntil(async () => (await dataset.query(progressQuery).catch(() => undefined))?.running === 1);
    // What a late group of an earlier dataset with this workflow ID sends: same group ID, another run.
    await dataset.signal(dialoguesFinishedSignal, {
      id: `${workflowId}/0`,
      datasetRunId: 'an earlier run',
      outcomes: [{ index: 0, id: `${workflowId}/0`, error: 'failed in a group of another run' }],
    });
    const p = await dataset.query(progressQuery);
    assert.deepEqual([p.failed, p.running], [0, 1], 'the outcome of a foreign group was counted');
    const result = await dataset.result();
    assert.deepEqual([result.completed, result.failedCount], [1, 0]);
  });
});

/** Resolves once `check` holds, trying every 200 ms for a minute. */
async function waitUntil(check: () => Promise<boolean>, what = 'the condition'): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
