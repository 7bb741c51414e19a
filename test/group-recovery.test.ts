// Groups that cannot report their dialogues: one stuck on a workflow task that keeps failing is
// marked, never terminated unasked, until a rollback lets it finish or the giveUpStuckGroups
// update gives it up; a group closed before reporting has its stored dialogues counted as
// completed, not failed; a group started late, after its dataset closed, runs nothing.
import { dialogueSettingsSchema } from '../src/config/dataset-input';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import {
  generateDataset,
  giveUpStuckGroupsUpdate,
  pauseUpdate,
  progressQuery,
  unpauseUpdate,
} from '../src/workflows';
import type { GaveUp } from '../src/types';
import { STUCK_GROUPS_METRIC } from '../src/telemetry/stuck-groups';
import { dialoguesFinishedSignal } from '../src/workflows/signals';
import { FAKE_MODEL, startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { eventually, sleep } from './helpers/eventually';
import { progressWhen } from './helpers/progress';
import { createTestWorker, startDataset, WORKFLOWS_PATH } from './helpers/temporal';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { TEST_ROOTS } from './helpers/roots';
import { fakeDatasetInput } from './helpers/inputs';

/** Every workflow task of the group that runs dialogue 3 fails, as after a bad deploy; all groups of `bad-deploy*` datasets too. */
const BAD_DEPLOY = {
  workflows: { workflowsPath: WORKFLOWS_PATH },
  tuning: { interceptors: { workflowModules: [require.resolve('./helpers/stuck-group-interceptor')] } },
};

describe('groups that cannot report (fake LLM server)', () => {
  const s = useFakeLlmSuite('recovery', { worker: BAD_DEPLOY });
  const { t, outDir } = s;
  const input = (name: string, count = 6) =>
    fakeDatasetInput(path.join(outDir, name), {
      count,
      turns: 1,
      concurrency: count,
      dialoguesPerWorkflow: 1,
      stallCheckSeconds: 1,
    });
  const status = async (id: string) => (await t.env.client.workflow.getHandle(id).describe()).status.name;

  it('marks a stuck group, terminates nothing, and finishes with every dialogue after a rollback', async () => {
    const workflowId = 'stuck-rollback';
    const taskQueue = `rollback-${process.pid}`;
    const gauge: number[] = [];
    const deps = () => ({
      endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: s.fake.url }),
      roots: TEST_ROOTS,
    });
    const bad = await createTestWorker(t.env, deps(), {
      ...BAD_DEPLOY,
      taskQueue,
      metricMeter: recording(gauge),
    });
    const handle = await t.env.client.workflow.start(generateDataset, {
      taskQueue,
      workflowId,
      args: [input(workflowId)],
    });
    await bad.worker.runUntil(async () => {
      await waitForStuck(handle, 1);
      await sleep(4_000); // several stall checks (1 s) more
      const p = await handle.query(progressQuery);
      assert.deepEqual([p.phase, p.completed, p.failed, p.running], ['generating', 5, 0, 1]);
      assert.equal(p.stuck?.sample[0].id, `${workflowId}/3`);
      assert.match(p.stuck.sample[0].reason, /^stuck: its workflow task has failed \d+ times .*a bad deploy/);
      assert.match(p.stuck.message, /^1 of 1 groups stuck \(1 dialogues\)/);
      assert.equal(await status(`${workflowId}/3`), 'RUNNING', 'a stuck group was terminated unasked');
      const { currentDetails } = await handle.query<{ currentDetails: string }>(
        '__temporal_workflow_metadata',
      );
      assert.match(currentDetails, /\*\*Stuck\*\*: 1 of 1 groups stuck .*stuck-rollback\/3 since/);
      assert.equal(gauge.at(-1), 1, 'parrot_stuck_groups');
    });
    // The rollback: the same task queue, workers without the bad deploy.
    const good = await createTestWorker(t.env, deps(), { taskQueue, metricMeter: recording(gauge) });
    const result = await good.worker.runUntil(() => handle.result());
    assert.deepEqual([result.completed, result.failedCount, result.export.exported], [6, 0, 6]);
    assert.equal(result.givenUp, undefined);
    assert.equal(gauge.at(-1), 0, 'parrot_stuck_groups once the dataset is done');
  });

  it('gives up on a stuck group with the update: terminated, its dialogues counted, the dataset finishes', async () => {
    const workflowId = 'stuck-give-up';
    const handle = await startDataset(t, workflowId, input(workflowId));
    await waitForStuck(handle, 1);
    // As the Temporal CLI sends it without --input: no argument.
    const gaveUp = await handle.executeUpdate<GaveUp, []>('giveUpStuckGroups');
    assert.deepEqual(gaveUp, { groups: 1, completed: 0, failed: 1 });
    const result = await handle.result();
    assert.deepEqual([result.completed, result.failedCount, result.export.exported], [5, 1, 5]);
    assert.equal(result.failed[0].index, 3);
    assert.match(result.failed[0].error, /^stuck: its workflow task has failed \d+ times .*; given up/);
    assert.deepEqual(result.givenUp, gaveUp);
    assert.equal(await status(`${workflowId}/3`), 'TERMINATED');
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, workflowId, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.givenUp, gaveUp);
  });

  it('says "bad deploy?" when most groups are stuck, and gives them up only when forced', async () => {
    const workflowId = 'bad-deploy';
    const handle = await startDataset(t, workflowId, input(workflowId, 4));
    const p = await waitForStuck(handle, 4);
    assert.equal(p.stuck?.badDeploy, true);
    assert.match(p.stuck.message, /^bad deploy\? 4 of 4 groups stuck/);
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(currentDetails, /bad deploy\? 4 of 4 groups stuck/);
    await assert.rejects(handle.executeUpdate(giveUpStuckGroupsUpdate, { args: [{}] }), (err: Error) => {
      assert.match((err.cause as Error).message, /^bad deploy\?.*"force": true/);
      return true;
    });
    for (const i of [0, 1, 2, 3]) assert.equal(await status(`${workflowId}/${i}`), 'RUNNING');
    const gaveUp = await handle.executeUpdate(giveUpStuckGroupsUpdate, { args: [{ force: true }] });
    assert.deepEqual(gaveUp, { groups: 4, completed: 0, failed: 4 });
    const result = await handle.result();
    assert.deepEqual([result.completed, result.failedCount], [0, 4]);
  });

  it('counts the stored dialogues of a group terminated before it reported them', async () => {
    const out = path.join(outDir, 'terminated');
    s.fake.failNext({ status: 0, hang: true }); // one of the two dialogues never gets its answer
    const handle = await startDataset(
      t,
      'terminated-group',
      fakeDatasetInput(out, {
        count: 2,
        turns: 1,
        concurrency: 8,
        dialoguesPerWorkflow: 2,
        llmCallTimeoutSeconds: 3600,
      }),
    );
    // The other one is stored; its report waits a few seconds to share a signal, and the group is terminated before.
    const records = path.join(out, 'records');
    const stored = () => fs.existsSync(records) && fs.readdirSync(records).some((f) => f.endsWith('.json')); // not a temp file
    await eventually(stored, { what: 'a stored dialogue record', interval: 50 });
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
    // The models' settings, timeouts and budgets as the dataset schema fills them in.
    ...dialogueSettingsSchema.parse({
      ask: { endpoint: 'late', model: FAKE_MODEL },
      answer: { endpoint: 'late', model: FAKE_MODEL },
    }),
  });
  const twoDialogues = [
    { index: 0, turns: 1, seed: 'a seed question?' },
    { index: 1, turns: 1, seed: 'another?' },
  ];
  /** A worker for the late group's queue, run only once its parent has closed. */
  const lateWorker = () =>
    createTestWorker(
      t.env,
      { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_LATE_URL: lateFake.url }), roots: TEST_ROOTS },
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
    await eventually(() => t.env.client.workflow.getHandle(`${workflowId}/late`).describe(), {
      what: 'the late group to start',
    });
    await old.cancel();
    await assert.rejects(old.result());
    // The same workflow ID at once, paused (update-with-start) so that it is surely running when the late group starts.
    const start = new WithStartWorkflowOperation(generateDataset, {
      workflowId,
      taskQueue: t.taskQueue,
      workflowIdConflictPolicy: 'FAIL',
      args: [
        fakeDatasetInput(path.join(outDir, workflowId), { count: 2, turns: 1, dialoguesPerWorkflow: 2 }),
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
    const dataset = await startDataset(
      t,
      workflowId,
      fakeDatasetInput(path.join(outDir, workflowId), { count: 1, turns: 1, llmCallTimeoutSeconds: 3 }),
    );
    await progressWhen(dataset, (p) => p.running === 1, { what: 'the one dialogue to run' });
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

/** The progress once `groups` groups are marked stuck. */
function waitForStuck(handle: WorkflowHandle, groups: number) {
  return progressWhen(handle, (p) => p.stuck?.groups === groups, { what: `${groups} stuck groups` });
}

/** A meter that records the values the parrot_stuck_groups gauge is set to. */
function recording(values: number[]): MetricMeter {
  const meter: MetricMeter = {
    createCounter: (...args) => noopMetricMeter.createCounter(...args),
    createHistogram: (...args) => noopMetricMeter.createHistogram(...args),
    createGauge: (name, ...rest) => {
      const gauge = noopMetricMeter.createGauge(name, ...rest);
      if (name !== STUCK_GROUPS_METRIC) return gauge;
      return { ...gauge, withTags: () => gauge, set: (v: number) => void values.push(v) };
    },
    withTags: () => meter,
  };
  return meter;
}
