// Groups that cannot report their dialogues: one stuck on a workflow task that keeps failing is
// terminated after stallCheckSeconds so the dataset finishes, and a group closed before
// reporting has its stored dialogues counted as completed, not failed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { createTestWorker, WORKFLOWS_PATH } from './helpers/temporal';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { TEST_ROOTS } from './helpers/roots';

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

  it('runs none of its dialogues', async () => {
    const settings = {
      datasetId: 'gone',
      seeds: 'builtin:',
      randomSeed: 0,
      output: pathToFileURL(path.join(outDir, 'gone')).href,
      ask: { endpoint: 'fake', model: FAKE_MODEL, mode: 'prompted' as const },
      answer: { endpoint: 'fake', model: FAKE_MODEL },
    };
    // The group's queue gets a worker only once the parent has closed.
    const late = await createTestWorker(
      t.env,
      { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: s.fake.url }), roots: TEST_ROOTS },
      { workflows: { workflowsPath: LEAVING_PARENT } },
    );
    await t.env.client.workflow.execute('startsAGroupAndLeaves', {
      taskQueue: t.taskQueue,
      workflowId: 'gone',
      args: [
        {
          settings,
          dialogues: [
            { index: 0, turns: 1, seed: 'a seed question?' },
            { index: 1, turns: 1, seed: 'another?' },
          ],
        },
        'gone/0-1',
        late.taskQueue,
      ],
    });
    const outcome = await late.worker.runUntil(() => t.env.client.workflow.getHandle('gone/0-1').result());
    assert.deepEqual(outcome, { id: 'gone/0-1', outcomes: [] });
    assert.equal(
      s.fake.requests.length,
      0,
      'the provider got requests from a group whose dataset had closed',
    );
  });
});
