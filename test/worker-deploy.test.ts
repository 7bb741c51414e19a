// Deploying new workers while datasets run: a worker told to stop lets its LLM calls finish, and a
// dataset started on one worker deployment version finishes on the next (Worker Versioning).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadEndpointRegistry } from '../src/config/endpoints';
import type { DatasetResult } from '../src/types';
import { createParrotWorkers, runWorkers, type ParrotWorkersOptions } from '../src/workers';
import { generateDataset, generateDialogue, progressQuery } from '../src/workflows';
import { promoteVersion } from '../src/cli/promote';
import { versioningOptions, workerDeploymentFromEnv } from '../src/config/worker-deployment';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { runWorkersUntil, startTemporal, workflowBundle } from './helpers/temporal';
import { TEST_ROOTS } from './helpers/roots';
import { eventually } from './helpers/eventually';
import { fakeDatasetInput, fakeDialogueInput } from './helpers/inputs';

describe('deploying workers (fake LLM server)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-deploy-'));
  // Its own dev server, not the shared one: it sets current versions of worker deployments and
  // lets old workers drain, state that outlives the suite on a server and that no other suite
  // should find there.
  before(async () => {
    [env, fake] = await Promise.all([startTemporal(), startFakeOpenAiServer()]);
  });
  after(async () => {
    await fake?.close();
    await env?.teardown();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  /** The workers one parrot process runs, with the production defaults. */
  const parrotWorkers = async (
    taskQueue: string,
    extra: Partial<ParrotWorkersOptions> = {},
  ): Promise<Worker[]> =>
    createParrotWorkers({
      connection: env.nativeConnection,
      taskQueue,
      deps: { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }), roots: TEST_ROOTS },
      workflows: { workflowBundle: await workflowBundle() },
      ...extra,
    });

  it('lets the LLM calls in flight finish when a worker is told to stop', async () => {
    const taskQueue = 'deploy-grace';
    const input = fakeDialogueInput(outDir, { datasetId: 'deploy-grace', index: 0, randomSeed: 3 });
    fake.slowNext(3_000); // the one answer of a one-turn dialogue
    const calls = fake.requests.length;
    const old = await parrotWorkers(taskQueue);
    const oldRunning = runWorkers(old);
    const handle = await env.client.workflow.start(generateDialogue, {
      taskQueue,
      workflowId: 'deploy-grace/0',
      args: [input],
    });
    await eventually(() => fake.requests.length > calls, {
      what: 'the answer to be asked for',
      interval: 50,
    });
    const stopping = Date.now();
    old.forEach((w) => w.shutdown()); // what SIGTERM does
    await oldRunning;
    assert.ok(
      Date.now() - stopping >= 2_500,
      `the worker stopped after ${Date.now() - stopping} ms, before its call ended`,
    );
    const events = (await handle.fetchHistory()).events!;
    assert.equal(
      events.filter((e) => e.activityTaskCompletedEventAttributes).length,
      2,
      'pickSeeds and the answer completed',
    );
    assert.equal(
      events.filter((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes)
        .length,
      0,
    );

    const next = await parrotWorkers(taskQueue);
    const summary = await runWorkersUntil(next, () => handle.result());
    assert.deepEqual(
      { turns: summary.turns, answerCalls: summary.usage.answer.calls },
      { turns: 1, answerCalls: 1 },
    );
    assert.equal(fake.requests.length - calls, 1, 'the answer was asked for once');
  });

  /**
   * A dataset started on workers of build `from` (undefined: unversioned workers), then, in the
   * middle of it, workers of build `to` started, promoted, and the old ones stopped.
   */
  async function deployMidRun(workflowId: string, from: string | undefined, to: string) {
    const version = (buildId: string) => ({ deploymentName: workflowId, buildId });
    const taskQueue = workflowId;
    const count = 24;
    const old = await parrotWorkers(taskQueue, { deployment: from ? version(from) : undefined });
    const oldRunning = runWorkers(old);
    // The dialogues' calls after the first 30 wait at the provider until the new build is
    // promoted: the deploy surely happens in the middle of the run.
    const held = fake.holdAfter(30);
    let result: DatasetResult;
    try {
      if (from)
        assert.equal(
          await promoteVersion(env.client, version(from)),
          undefined,
          `${from} is the first version`,
        );
      const handle = await env.client.workflow.start(generateDataset, {
        taskQueue,
        workflowId,
        args: [
          fakeDatasetInput(path.join(outDir, workflowId), {
            count,
            turns: 2,
            concurrency: 4,
            dialoguesPerWorkflow: 2,
            maxEventsPerRun: 100,
          }),
        ],
      });
      await eventually(() => held.waiting() > 0, { what: 'a dialogue to wait for its call' });

      result = await runWorkersUntil(
        await parrotWorkers(taskQueue, { deployment: version(to) }),
        async () => {
          assert.equal(await promoteVersion(env.client, version(to)), from);
          old.forEach((w) => w.shutdown()); // the deploy stops the old workers: their calls in flight finish first
          held.release();
          await oldRunning;
          const requests = fake.requests.length;
          assert.ok(
            (await handle.query(progressQuery)).completed < count,
            'the old workers stopped in the middle of the run',
          );
          const done = await handle.result();
          assert.ok(fake.requests.length > requests, 'no call was made after the old workers stopped');
          return done;
        },
      );
    } finally {
      held.release();
      old.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
      await oldRunning;
    }
    assert.deepEqual(
      { completed: result.completed, failed: result.failedCount, exported: result.export.exported },
      { completed: count, failed: 0, exported: count },
    );
    const lines = fs
      .readFileSync(path.join(outDir, workflowId, 'data/part-00000.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      lines.map((l) => Number(JSON.parse(l).id.split('/').at(-1))).sort((x, y) => x - y),
      [...Array(count).keys()],
      'every dialogue exported once',
    );
    await assertNeverBack(workflowId, from ?? '-', to);
  }

  /** Each run of the dataset and of its groups: the old build's workflow tasks, then the new one's; never the old's after the new's. */
  async function assertNeverBack(workflowId: string, from: string, to: string) {
    const builds: string[] = [];
    for await (const wf of env.client.workflow.list({
      query: `WorkflowId="${workflowId}" OR ParrotDataset="${workflowId}"`,
    })) {
      const events = (await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events!;
      const run = events
        .filter((e) => e.workflowTaskCompletedEventAttributes)
        .map((e) => e.workflowTaskCompletedEventAttributes!.deploymentVersion?.buildId || '-');
      assert.match(
        run.join(''),
        new RegExp(`^${from}*${to}*$`),
        `${wf.workflowId} (${wf.runId}): workflow tasks by ${run.join(',')}`,
      );
      builds.push(...run);
    }
    assert.ok(builds.includes(from) && builds.includes(to), 'both builds ran the dataset');
  }

  it('finishes a dataset started on version A after the workers move to version B, every dialogue exported once', () =>
    deployMidRun('deploy-versions', 'A', 'B'));

  it('moves a dataset started on unversioned workers to the first versioned build', () =>
    deployMidRun('deploy-first-version', undefined, 'A'));
});

describe('worker deployment settings', () => {
  it('versions workers only when both PARROT_DEPLOYMENT and PARROT_BUILD_ID are set, every workflow auto-upgrading', () => {
    assert.equal(workerDeploymentFromEnv({}), undefined);
    assert.deepEqual(versioningOptions(undefined), {});
    const version = workerDeploymentFromEnv({ PARROT_DEPLOYMENT: 'parrot', PARROT_BUILD_ID: 'abc123' });
    assert.deepEqual(version, { deploymentName: 'parrot', buildId: 'abc123' });
    assert.deepEqual(versioningOptions(version), {
      workerDeploymentOptions: {
        version,
        useWorkerVersioning: true,
        defaultVersioningBehavior: 'AUTO_UPGRADE',
      },
    });
    assert.throws(
      () => workerDeploymentFromEnv({ PARROT_BUILD_ID: 'abc123' }),
      /PARROT_DEPLOYMENT and PARROT_BUILD_ID go together/,
    );
    assert.throws(() => workerDeploymentFromEnv({ PARROT_DEPLOYMENT: 'parrot' }), /go together/);
  });
});
