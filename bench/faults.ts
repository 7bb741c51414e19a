// `npm run faults [-- --only worker-sigkill,server-restart --count 40 --turns 4]`
// Scripted, repeatable fault injection against real parts: a Temporal dev server on a file
// database (so it can be stopped and started again), MinIO, the worker in its own process, and
// the FAKE OpenAI-compatible provider (test/helpers/fake-openai-server.ts) with 100–200 ms latency.
// Each scenario runs one dataset, small enough per run that it continues as new several times,
// injects its fault once a third of the dialogues are done (the S3 export one: just before the
// end), lets the run finish (the cancel and terminate ones: resumes it), then reads the export
// back from S3 and counts dialogues lost, duplicated, and LLM calls made twice (answered by the
// provider but not in the dataset's usage; calls the provider refused or left hanging were
// retried too, but cost no tokens), and, when the provider turned into a bounded server, the
// generations it started for a client that left, which must stay within the calls in flight then. Calls redone must stay within what the fault could cost:
// the calls in flight when it hit (one at most a dialogue in flight), or, when the dataset was
// stopped, every call of its dialogues in flight.
// The batch-* scenarios run the same dataset with its answers through the fake's Batches API
// (answer.batch), a batch held 2 s in progress, and inject their fault while a batch is in
// progress; they also count requests the fake saw submitted twice (must be 0).
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { DatasetProgress } from '../src/workflows/dataset';
import type { DatasetResult } from '../src/types';
import { freePort, startMinio, type MinioServer } from '../test/helpers/minio-server';
import { MINIO_BIN, requireTool } from '../test/helpers/tools';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../test/helpers/fake-openai-server';
import { sleep, spawnWorker, startTemporalServer, stopProcess, waitForServer } from './dev-stack';
import { isFinished } from '../src/batch/batch-types';

const { values: arg } = parseArgs({
  options: {
    only: { type: 'string' },
    count: { type: 'string', default: '40' },
    turns: { type: 'string', default: '4' },
  },
  strict: true,
});
const COUNT = Number(arg.count);
const TURNS = Number(arg.turns);
const CONCURRENCY = 8;
/** Small, so that every scenario's dataset continues as new a few times. */
const MAX_EVENTS_PER_RUN = 200;
const BUCKET = 'faults';

interface Stack {
  temporalPort: number;
  dbFile: string;
  temporal?: ChildProcess;
  minio: MinioServer;
  provider: FakeOpenAiServer;
  worker?: ChildProcess;
  client: Client;
}

async function startWorker(stack: Stack): Promise<ChildProcess> {
  stack.worker = await spawnWorker({
    TEMPORAL_ADDRESS: `127.0.0.1:${stack.temporalPort}`,
    PARROT_TASK_QUEUE: 'faults',
    PARROT_ALLOWED_ROOTS: `s3://${BUCKET}`,
    PARROT_ENDPOINT_FAKE_URL: stack.provider.url,
    PARROT_S3_ENDPOINT: stack.minio.endpoint,
    AWS_ACCESS_KEY_ID: stack.minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.minio.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  return stack.worker;
}

/** The dataset a scenario runs, and how to start one that resumes it. */
interface Run {
  handle: WorkflowHandle;
  resume(): Promise<WorkflowHandle>;
}

/**
 * Each fault: what it does to the stack, and when (a share of the dialogues done). `stops`: it
 * stops the dataset, whose dialogues in flight are then lost work, and it returns the dataset
 * that resumes it.
 */
interface Scenario {
  at: number;
  stops?: boolean;
  /** Answers through the batch API; the fault waits for a batch in progress too. */
  batch?: boolean;
  inject(s: Stack, run: Run): Promise<WorkflowHandle | void>;
}

/** The batch the fake is running now (the last one created). */
const batchInFlight = (s: Stack) => s.provider.batch.api.batches.get(s.provider.batch.created.at(-1) ?? '');

async function untilBatchFinished(s: Stack, id: string) {
  for (
    let i = 0;
    i < 600 &&
    !['completed', 'expired', 'cancelled', 'failed'].includes(
      s.provider.batch.api.batches.get(id)?.status ?? '',
    );
    i++
  )
    await sleep(100);
}

const SCENARIOS: Record<string, Scenario> = {
  'worker-sigkill': {
    at: 1 / 3,
    async inject(s) {
      await stopProcess(s.worker, 'SIGKILL');
      await sleep(2000);
      await startWorker(s);
    },
  },
  'server-restart': {
    at: 1 / 3,
    async inject(s) {
      await stopProcess(s.temporal, 'SIGKILL');
      await sleep(3000);
      s.temporal = startTemporalServer(s.temporalPort, s.dbFile);
      await waitForServer(`127.0.0.1:${s.temporalPort}`);
    },
  },
  'provider-429-burst': {
    at: 1 / 3,
    async inject(s) {
      s.provider.burst({ kind: 'status', status: 429, retryAfterSeconds: 2 }, 6000);
    },
  },
  'provider-500-burst': {
    at: 1 / 3,
    async inject(s) {
      s.provider.burst({ kind: 'status', status: 500 }, 6000);
    },
  },
  // For 15 s a server that serves 2 requests at once, 1 s each, and queues the rest (as vLLM at
  // its batch limit, aborting a request whose client leaves): 8 dialogues' calls at once would
  // queue for 4 s, past their 3 s timeout, and be thrown away again and again.
  'provider-queues': {
    at: 1 / 3,
    async inject(s) {
      s.provider.bound(2, { serviceMs: 1000 });
      await sleep(15_000);
      s.provider.bound(undefined);
    },
  },
  'provider-hangs': {
    at: 1 / 3,
    async inject(s) {
      s.provider.burst({ kind: 'hang' }, 6000); // calls time out after llmCallTimeoutSeconds (3 s) and are retried
    },
  },
  's3-down-during-export': {
    at: 0.95,
    async inject(s) {
      const { port, dir } = s.minio;
      await s.minio.stop({ keepData: true });
      await sleep(10_000);
      s.minio = await startMinio({ port, dir });
    },
  },
  // Cancelled: every group stops (also those of earlier runs), the provider hears no more; then resumed.
  'cancel-then-resume': {
    at: 1 / 3,
    stops: true,
    async inject(s, run) {
      await run.handle.cancel();
      await run.handle.result().then(
        () => {
          throw new Error('the cancelled dataset completed');
        },
        (err) => {
          if (!(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure)) throw err;
        },
      );
      await untilNoGroupRuns(s.client, run.handle.workflowId);
      const requests = s.provider.stats.requests;
      await sleep(2000);
      if (s.provider.stats.requests !== requests)
        throw new Error('the provider got requests after the dataset was cancelled');
      return run.resume();
    },
  },
  // Terminated: its groups run on; resuming it at once fences them (cancels them) before it counts what is stored.
  'terminate-then-resume': {
    at: 1 / 3,
    stops: true,
    async inject(s, run) {
      await run.handle.terminate('fault script');
      return run.resume();
    },
  },
  // Killed while a batch is in progress; the batch completes while no worker runs.
  'batch-worker-sigkill': {
    at: 1 / 3,
    batch: true,
    async inject(s) {
      const id = batchInFlight(s)!.id;
      await stopProcess(s.worker, 'SIGKILL');
      await untilBatchFinished(s, id);
      await startWorker(s);
    },
  },
  'batch-server-restart': {
    at: 1 / 3,
    batch: true,
    async inject(s) {
      await SCENARIOS['server-restart'].inject(s, undefined as never);
    },
  },
  // Lines of the next batches expire: they are asked again in later ones (a line expires at
  // most 4 times, under the scenario's maxTries of 5).
  'batch-expired-lines': {
    at: 1 / 3,
    batch: true,
    async inject(s) {
      s.provider.batch.expireNext(4);
    },
  },
  // Cancelled with a batch in flight: the provider batch is cancelled; then resumed.
  'batch-cancel-then-resume': {
    at: 1 / 3,
    stops: true,
    batch: true,
    async inject(s, run) {
      const id = batchInFlight(s)!.id;
      const cancelledAt = Date.now() / 1000;
      await SCENARIOS['cancel-then-resume'].inject(s, { ...run, resume: async () => run.handle });
      // The batcher cancels its batches once the dataset's cancel reaches it, which may be after
      // the dataset has closed; a batch that completed before the cancel had nothing to cancel.
      const batch = () => s.provider.batch.api.batches.get(id);
      for (let waited = 0; waited < 60_000 && !isFinished(batch()?.status ?? 'in_progress'); waited += 500)
        await sleep(500);
      const b = batch();
      const completedFirst = b?.status === 'completed' && (b.completed_at ?? Infinity) <= cancelledAt + 1;
      if (b?.status !== 'cancelled' && !completedFirst)
        throw new Error(`the provider batch ${id} was not cancelled with the dataset (${b?.status})`);
      return run.resume();
    },
  },
};

/** The answer batcher's rounds, as its query says. */
async function batchRounds(s: Stack, handle: WorkflowHandle): Promise<number> {
  const view = await s.client.workflow
    .getHandle(`${handle.workflowId}/batch/answer`)
    .query<{ rounds: number }>('batches')
    .catch(() => undefined);
  return view?.rounds ?? NaN;
}

async function untilNoGroupRuns(client: Client, datasetId: string) {
  const deadline = Date.now() + 60_000;
  while (
    (await client.workflow.count(`ParrotDataset="${datasetId}" AND ExecutionStatus="Running"`)).count > 0
  ) {
    if (Date.now() > deadline)
      throw new Error(`groups of ${datasetId} still run a minute after it was cancelled`);
    await sleep(250);
  }
}

async function readExport(minio: MinioServer, prefix: string, result: DatasetResult): Promise<string[]> {
  const ids: string[] = [];
  for (const shard of result.export.shards) {
    const r = await minio
      .client()
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${shard.key}` }));
    for (const line of (await r.Body!.transformToString('utf8')).split('\n'))
      if (line.trim()) ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

async function runScenario(stack: Stack, name: string): Promise<Record<string, string | number>> {
  const scenario = SCENARIOS[name];
  const okBefore = stack.provider.stats.ok;
  const refused = () =>
    stack.provider.stats.rateLimited + stack.provider.stats.errors + stack.provider.stats.hung;
  const refusedBefore = refused();
  const boundedBefore = stack.provider.stats.bounded;
  const workflowId = `faults-${name}-${Date.now()}`;
  const input = {
    count: COUNT,
    turns: TURNS,
    concurrency: CONCURRENCY,
    maxEventsPerRun: MAX_EVENTS_PER_RUN,
    output: `s3://${BUCKET}/${name}`,
    llmCallTimeoutSeconds: 3,
    llmRetryBudgetSeconds: 600,
    ask: { endpoint: 'fake', model: 'fake' },
    answer: {
      endpoint: 'fake',
      model: 'fake',
      ...(scenario.batch && { batch: { fillSeconds: 20, pollSeconds: 1, maxTries: 5 } }),
    },
  };
  stack.provider.batch.holdMs = scenario.batch ? 2_000 : 0;
  const answeredBefore = stack.provider.batch.answered;
  const twiceBefore = stack.provider.batch.duplicates();
  const start = (id: string, extra = {}) =>
    stack.client.workflow.start('generateDataset', {
      taskQueue: 'faults',
      workflowId: id,
      args: [{ ...input, ...extra }],
    });
  const handle = await start(workflowId);
  const started = Date.now();
  let running: number;
  for (;;) {
    const p = await handle.query<DatasetProgress>('progress').catch(() => undefined);
    const batchReady = !scenario.batch || batchInFlight(stack)?.status === 'in_progress';
    if (p && p.completed + p.failed >= Math.floor(scenario.at * COUNT) && batchReady) {
      running = p.running;
      break;
    }
    await sleep(250);
  }
  const injectedAt = (Date.now() - started) / 1000;
  const resumed = await scenario.inject(stack, {
    handle,
    resume: () => start(`${workflowId}-resumed`, { resumeFrom: workflowId }),
  });
  // The client's connection rides out a server restart: result() long-polls and retries.
  const result = (await (resumed ?? handle).result()) as DatasetResult;
  const ids = await readExport(stack.minio, name, result);
  const unique = new Set(ids);
  const made = stack.provider.stats.ok - okBefore + stack.provider.batch.answered - answeredBefore;
  const recorded = result.usage.ask.calls + result.usage.answer.calls;
  // What the fault may cost: the calls in flight (a dialogue has at most one), or every call of
  // the dialogues it stopped (each question asked up to 4 times when the filters reject it).
  // The window refills between the sample and the fault, so it counts, not the sample.
  const inFlight = Math.max(running, CONCURRENCY);
  const allowed = scenario.stops ? inFlight * (TURNS + 4 * (TURNS - 1)) : inFlight;
  // A server that turned bounded: generations it started and then lost their client.
  const bounded = stack.provider.stats.bounded !== boundedBefore ? stack.provider.stats.bounded : undefined;
  return {
    fault: name,
    'injected at': `${injectedAt.toFixed(1)} s`,
    wall: `${((Date.now() - started) / 1000).toFixed(1)} s`,
    'parent runs': result.runs,
    'dialogues exported': `${result.export.exported} / ${COUNT}`,
    failed: result.failedCount,
    lost: COUNT - unique.size,
    duplicates: ids.length - unique.size,
    'LLM calls made / in dataset': `${made} / ${recorded}`,
    'calls refused or hung': refused() - refusedBefore,
    'calls redone': made - recorded,
    'redone allowed': allowed,
    // Started, then left by their client: at most the calls in flight when the server turned
    // bounded (the workers learn from that round). Requests left while queued cost it nothing.
    'generations abandoned': bounded?.abandoned ?? 0,
    'dropped from its queue': bounded?.dropped ?? 0,
    ...(scenario.batch && {
      'batch rounds': await batchRounds(stack, resumed ?? handle),
      'batch requests submitted twice': stack.provider.batch.duplicates() - twiceBefore,
    }),
  };
}

async function main() {
  const only = arg.only ? arg.only.split(',') : Object.keys(SCENARIOS);
  for (const n of only)
    if (!SCENARIOS[n])
      throw new Error(`unknown scenario '${n}' (known: ${Object.keys(SCENARIOS).join(', ')})`);
  requireTool(MINIO_BIN);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-faults-'));
  const temporalPort = await freePort();
  const dbFile = path.join(dir, 'temporal.db');
  const [minio, provider] = await Promise.all([
    startMinio(),
    startFakeOpenAiServer({ latencyMs: 100, jitterMs: 100, recordRequests: false }),
  ]);
  await minio.createBucket(BUCKET);
  const temporal = startTemporalServer(temporalPort, dbFile);
  await waitForServer(`127.0.0.1:${temporalPort}`);
  const stack: Stack = {
    temporalPort,
    dbFile,
    temporal,
    minio,
    provider,
    client: new Client({ connection: await Connection.connect({ address: `127.0.0.1:${temporalPort}` }) }),
  };
  await startWorker(stack);

  const rows: Record<string, string | number>[] = [];
  try {
    for (const name of only) {
      console.log(`fault: ${name} …`);
      rows.push(await runScenario(stack, name));
      console.log(rows.at(-1));
    }
  } finally {
    await stopProcess(stack.worker, 'SIGTERM');
    await stack.client.connection.close();
    await stopProcess(stack.temporal, 'SIGTERM');
    await stack.minio.stop();
    await provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  const bad = rows.filter(
    (r) =>
      r.lost !== 0 ||
      r.duplicates !== 0 ||
      r.failed !== 0 ||
      Number(r['calls redone']) > Number(r['redone allowed']) ||
      Number(r['generations abandoned']) > Number(r['redone allowed']) ||
      Number(r['batch requests submitted twice'] ?? 0) !== 0,
  );
  if (bad.length) {
    console.error(
      `FAILED: ${bad.map((r) => r.fault).join(', ')}: lost, duplicated or failed dialogues, more calls redone or generations abandoned than the fault could cost, or batch requests submitted twice`,
    );
    process.exit(1);
  }
  // A stopped dataset's row shows its resume, which is short; every other one must have crossed.
  const stayed = rows.filter((r) => !SCENARIOS[String(r.fault)].stops && Number(r['parent runs']) < 2);
  if (stayed.length) {
    console.error(`FAILED: ${stayed.map((r) => r.fault).join(', ')}: did not cross continue-as-new`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
