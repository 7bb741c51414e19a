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
import { spawn, type ChildProcess } from 'node:child_process';
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
import { MINIO_BIN, requireTool, TEMPORAL_BIN } from '../test/helpers/tools';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../test/helpers/fake-openai-server';

const ROOT = path.resolve(__dirname, '..');
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stack {
  temporalPort: number;
  dbFile: string;
  temporal?: ChildProcess;
  minio: MinioServer;
  provider: FakeOpenAiServer;
  worker?: ChildProcess;
  client: Client;
}

function startTemporalServer(stack: Pick<Stack, 'temporalPort' | 'dbFile'>): ChildProcess {
  return spawn(
    requireTool(TEMPORAL_BIN),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(stack.temporalPort),
      '--db-filename',
      stack.dbFile,
      '--search-attribute',
      'ParrotDataset=Keyword',
      '--search-attribute',
      'ParrotPhase=Keyword',
      '--search-attribute',
      'ParrotDialogues=KeywordList',
      '--log-level',
      'error',
      '--dynamic-config-value',
      'system.enableActivityEagerExecution=true',
    ],
    { stdio: 'ignore' },
  );
}

async function waitForServer(address: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.healthService.check({});
      await c.close();
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`Temporal at ${address} did not come up`);
}

function startWorker(stack: Stack): Promise<ChildProcess> {
  const worker = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/worker.ts')], {
    env: {
      ...process.env,
      PARROT_LOG_LEVEL: 'ERROR',
      TEMPORAL_ADDRESS: `127.0.0.1:${stack.temporalPort}`,
      PARROT_TASK_QUEUE: 'faults',
      PARROT_ALLOWED_ROOTS: `s3://${BUCKET}`,
      PARROT_ENDPOINT_FAKE_URL: stack.provider.url,
      PARROT_S3_ENDPOINT: stack.minio.endpoint,
      AWS_ACCESS_KEY_ID: stack.minio.accessKeyId,
      AWS_SECRET_ACCESS_KEY: stack.minio.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  stack.worker = worker;
  return new Promise((resolve, reject) => {
    worker.stdout.on('data', (d) => String(d).includes('parrot worker ready') && resolve(worker));
    worker.once('exit', (code) => reject(new Error(`worker exited at start (${code})`)));
  });
}

async function stopProcess(p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await exited;
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
  inject(s: Stack, run: Run): Promise<WorkflowHandle | void>;
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
      s.temporal = startTemporalServer(s);
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
};

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
    answer: { endpoint: 'fake', model: 'fake' },
  };
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
    if (p && p.completed + p.failed >= Math.floor(scenario.at * COUNT)) {
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
  const made = stack.provider.stats.ok - okBefore;
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
  const temporal = startTemporalServer({ temporalPort, dbFile });
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
      Number(r['generations abandoned']) > Number(r['redone allowed']),
  );
  if (bad.length) {
    console.error(
      `FAILED: ${bad.map((r) => r.fault).join(', ')}: lost, duplicated or failed dialogues, or more calls redone or generations abandoned than the fault could cost`,
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
