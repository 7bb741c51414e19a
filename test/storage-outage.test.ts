// Paid work survives S3 outages: with S3 down past 20 tries (the old cap of the parent's storage
// steps) while a dataset opens (writes its seeds into its output), and again while its dialogues are stored, the dataset completes
// with every dialogue exported exactly once. The retry budget is compressed to 30 s (backoff
// capped at 500 ms) so that 20 tries take seconds. A missing bucket fails the run at once.
// FAKE LLM server; the shared dev server and a real MinIO of this suite's own, stopped and
// restarted (the shared one stays up for the suites running beside it).
import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { loadEndpointRegistry } from '../src/config/endpoints';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { STORAGE_CONFIG_ERROR } from '../src/storage/storage-errors';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { startDataset, useTemporalWorker } from './helpers/temporal';
import { startMinio, type MinioServer } from './helpers/minio-server';
import { TEST_ROOTS } from './helpers/roots';
import { eventually } from './helpers/eventually';
import { fakeDatasetInput } from './helpers/inputs';

const BUDGET_SECONDS = 30;
/** Tries of the parent's storage steps before this change (maximumAttempts). */
const OLD_ATTEMPT_CAP = 20;

describe('S3 outages and storage configuration errors (fake LLM server)', () => {
  let fake: FakeOpenAiServer;
  const bucket = 'outage-test';
  let minio: MinioServer;
  const testMinio = () => minio;
  /** Takes this suite's MinIO down, keeping its data; the function returned brings it back on the same port. */
  async function stopTestMinio(): Promise<() => Promise<void>> {
    const { port, dir } = minio;
    await minio.stop({ keepData: true });
    return async () => {
      minio = await startMinio({ port, dir });
    };
  }
  let sharedEndpoint: string | undefined;
  before(async () => {
    sharedEndpoint = process.env.PARROT_S3_ENDPOINT;
    [fake, minio] = await Promise.all([startFakeOpenAiServer(), startMinio()]);
    await minio.createBucket(bucket);
    // The worker's storage reads its endpoint from the environment, as in production.
    process.env.PARROT_S3_ENDPOINT = minio.endpoint;
  });
  after(async () => {
    if (sharedEndpoint === undefined) delete process.env.PARROT_S3_ENDPOINT;
    else process.env.PARROT_S3_ENDPOINT = sharedEndpoint;
    await Promise.all([fake?.close(), minio?.stop()]);
  });
  const t = useTemporalWorker(() => ({
    endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
    roots: TEST_ROOTS,
  }));

  const input = (output: string): DatasetInputJson =>
    fakeDatasetInput(output, {
      count: 4,
      turns: 1,
      concurrency: 16,
      dialoguesPerWorkflow: 4,
      llmRetryBudgetSeconds: BUDGET_SECONDS,
      storageRetryBudgetSeconds: BUDGET_SECONDS,
    });

  /** Polls until `activity` is pending in the workflow past `attempts` tries. */
  async function untilRetriedPast(handle: WorkflowHandle, activity: string, attempts: number) {
    await eventually(
      async () =>
        (await handle.describe()).raw.pendingActivities?.some(
          (a) => a.activityType?.name === activity && (a.attempt ?? 0) > attempts,
        ),
      { what: `${activity} to pass ${attempts} tries`, timeout: (BUDGET_SECONDS - 5) * 1000, interval: 250 },
    );
  }

  /** By activity type: the most tries one took, and the retry policies it was scheduled with. */
  async function activitiesOf(handle: WorkflowHandle) {
    const events = (await handle.fetchHistory()).events ?? [];
    const typeOf = new Map<number, string>();
    const seen: Record<
      string,
      { maxAttempt: number; maximumAttempts: Set<number>; scheduleToCloseSeconds: Set<number> }
    > = {};
    for (const e of events) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        const name = s.activityType!.name!;
        typeOf.set(Number(e.eventId), name);
        seen[name] ??= { maxAttempt: 0, maximumAttempts: new Set(), scheduleToCloseSeconds: new Set() };
        seen[name].maximumAttempts.add(s.retryPolicy?.maximumAttempts ?? 0);
        seen[name].scheduleToCloseSeconds.add(Number(s.scheduleToCloseTimeout?.seconds ?? 0));
      }
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const name = typeOf.get(Number(started.scheduledEventId))!;
        seen[name].maxAttempt = Math.max(seen[name].maxAttempt, started.attempt ?? 0);
      }
    }
    return seen;
  }

  it('completes with every dialogue exported exactly once after S3 is down past 20 tries, twice', async () => {
    const workflowId = 'outage';
    const minio = testMinio();
    let restart = await stopTestMinio();
    try {
      // Down from the start: the dataset cannot write its seeds into its output.
      const handle = await startDataset(t, workflowId, input(`s3://${bucket}/outage`));
      await untilRetriedPast(handle, 'inspectSeeds', OLD_ATTEMPT_CAP);
      // Each dialogue's answer fails twice (1 s, then 2 s of backoff): S3 goes down again before any is stored.
      fake.failNext({ status: 500 }, 8);
      await restart();
      await waitForObject(`outage/lineage/${workflowId}.json`);
      // Once the group has read its seeds (from the output) and called the provider.
      const requests = fake.requests.length;
      await eventually(() => fake.requests.length > requests, {
        what: 'a call to the provider',
        interval: 50,
      });
      restart = await stopTestMinio();
      const group = t.env.client.workflow.getHandle(`${workflowId}/0-3`);
      await untilRetriedPast(group, 'storeDialogue', OLD_ATTEMPT_CAP);
      await restart();
      restart = async () => {};
      const result = await handle.result();

      assert.deepEqual(result.failed, []);
      assert.equal(result.completed, 4);
      assert.deepEqual(
        result.export.shards.map((s) => [s.key, s.dialogues]),
        [['data/part-00000.jsonl', 4]],
      );
      const rows = (await readObject('outage/data/part-00000.jsonl'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id);
      assert.deepEqual(
        rows,
        [0, 1, 2, 3].map((i) => `${workflowId}/${i}`),
        'each dialogue once',
      );
      const manifest = JSON.parse(await readObject('outage/manifest.json'));
      assert.deepEqual(
        { exported: manifest.exported, missing: manifest.missing.count, failures: manifest.failures },
        { exported: 4, missing: 0, failures: [] },
      );

      // The tries it took, and that every storage step (export, text metrics and report too) has no cap but the budget.
      const parent = await activitiesOf(handle);
      const groupSteps = await activitiesOf(group);
      assert.ok(
        parent.inspectSeeds.maxAttempt > OLD_ATTEMPT_CAP,
        `inspectSeeds: ${parent.inspectSeeds.maxAttempt} tries`,
      );
      assert.ok(
        groupSteps.storeDialogue.maxAttempt > OLD_ATTEMPT_CAP,
        `storeDialogue: ${groupSteps.storeDialogue.maxAttempt} tries`,
      );
      // endpointStatus is no storage step: a report missed is replaced by the next (src/workflows/endpoint-watch.ts).
      const { endpointStatus, ...parentSteps } = parent;
      assert.ok(endpointStatus, 'the dataset watched its endpoints');
      const steps = {
        ...parentSteps,
        pickSeeds: groupSteps.pickSeeds,
        storeDialogue: groupSteps.storeDialogue,
      };
      assert.deepEqual(Object.keys(steps).sort(), [
        'batchRoutes',
        'checkEndpoints',
        'checkRoots',
        'computeMetrics',
        'exportDataset',
        'inspectSeeds',
        'openDataset',
        'pickSeeds',
        'storeDialogue',
        'writeReport',
      ]);
      for (const [name, s] of Object.entries(steps)) {
        assert.deepEqual(
          { name, maximumAttempts: [...s.maximumAttempts], scheduleToClose: [...s.scheduleToCloseSeconds] },
          { name, maximumAttempts: [0], scheduleToClose: [BUDGET_SECONDS] },
        );
      }
    } finally {
      await restart();
    }
    assert.notEqual(testMinio(), minio, 'MinIO was restarted');
  });

  it('fails at once, non-retryable, naming the bucket, when the output bucket does not exist', async () => {
    const started = Date.now();
    const handle = await startDataset(t, 'no-bucket', input('s3://no-such-bucket-parrot/x'));
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
      const cause = err.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure, String(err.cause));
      assert.deepEqual(
        { type: cause.type, nonRetryable: cause.nonRetryable, message: cause.message },
        {
          type: STORAGE_CONFIG_ERROR,
          nonRetryable: true,
          message:
            "storage: bucket 'no-such-bucket-parrot' does not exist (NoSuchBucket on s3://no-such-bucket-parrot/x/seeds/no-bucket/00000.jsonl)",
        },
      );
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
    const first = (await activitiesOf(handle)).inspectSeeds; // the first step that writes to the output
    assert.equal(first.maxAttempt, 1, 'tried once');
  });

  it('fails at once, naming the bucket, when the seed file is in a bucket that does not exist', async () => {
    const started = Date.now();
    const handle = await startDataset(t, 'no-seed-bucket', {
      ...input(`s3://${bucket}/no-seed-bucket`),
      seeds: 's3://no-such-seeds-parrot/seeds.jsonl',
    });
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
      const cause = err.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure, String(err.cause));
      assert.equal(cause.type, STORAGE_CONFIG_ERROR);
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /bucket 'no-such-seeds-parrot' does not exist/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
  });

  async function readObject(key: string): Promise<string> {
    const r = await testMinio()
      .client()
      .send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return r.Body!.transformToString('utf8');
  }

  function waitForObject(key: string) {
    return eventually(() => readObject(key), { what: `${key} to be stored`, interval: 50 });
  }
});
