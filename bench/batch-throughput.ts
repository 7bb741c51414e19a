// A batch dataset against the FAKE provider (test/helpers/fake-openai-server.ts): the answerer
// through its Batches API (each batch held `--turnaround-ms` in progress), the asker online; a
// Temporal dev server (in memory, as npm run bench's; on a file database with --restart-server)
// and the worker, each in its own process.
//
//   npm run bench:batch -- [--count 1000] [--turns 4] [--turnaround-ms 2000] [--fill-seconds 60]
//     [--poll-seconds 2] [--kill-worker 0] [--restart-server 0] [--ask-batch 0]
//     [--ask-max-tokens N] [--answer-max-tokens N]
//   e.g. npm run bench:batch -- --count 1000 --turns 4 --kill-worker 2 --restart-server 1
//
// --kill-worker N: the worker is SIGKILLed while the batch of rounds 1..N is in progress, and
// started again once that batch has completed (with no worker running); --restart-server 1: the
// Temporal server is killed and started again while the next round's batch is in progress.
// Prints the dialogues exported (each once?), requests submitted against those needed and any
// submitted twice (counted at the fake), the answer batch rounds, and the CPU time of the server
// and the worker(s) per batched call; a digest of the export's shape (ids and turns) to compare
// runs; and last a line `BENCH {json}`. --ask-batch 1: the asker through the Batches API too, so
// that every call is batched and the CPU per call is the batch path's alone. --ask-max-tokens and
// --answer-max-tokens set the roles' maxTokens (unset by default): the first groups are sized from
// them, an unset answer assumed long (src/planning/fan-out.ts), so they set how many groups share
// a round.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { DatasetProgress } from '../src/workflows/dataset';
import { PARROT_PHASE } from '../src/workflows/search-attributes';
import type { DatasetResult } from '../src/types';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../test/helpers/fake-openai-server';
import { freePort } from '../test/helpers/minio-server';
import { cpuMs, sleep, spawnWorker, startTemporalServer, stopProcess, waitForServer } from './dev-stack';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    turns: { type: 'string', default: '4' },
    'turnaround-ms': { type: 'string', default: '2000' },
    'fill-seconds': { type: 'string', default: '60' },
    'poll-seconds': { type: 'string', default: '2' },
    'kill-worker': { type: 'string', default: '0' },
    'restart-server': { type: 'string', default: '0' },
    'ask-batch': { type: 'string', default: '0' },
    'ask-max-tokens': { type: 'string', default: '0' },
    'answer-max-tokens': { type: 'string', default: '0' },
  },
  strict: true,
});
const cfg = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) as Record<
  keyof typeof values,
  number
>;

/** A role's maxTokens when given (0: unset). */
const maxTokens = (role: 'ask' | 'answer') =>
  cfg[`${role}-max-tokens`] ? { maxTokens: cfg[`${role}-max-tokens`] } : {};

/** CPU (ms) of every server and worker process the run had: the live ones now, the killed ones as they were. */
class CpuLedger {
  private spent = 0;
  live = new Set<ChildProcess>();
  add(p: ChildProcess) {
    this.live.add(p);
    this.spent -= cpuMs(p.pid); // counted from its start here
  }
  /** Before it is killed. */
  retire(p: ChildProcess) {
    this.spent += cpuMs(p.pid);
    this.live.delete(p);
  }
  total(): number {
    return this.spent + [...this.live].reduce((n, p) => n + cpuMs(p.pid), 0);
  }
}

interface Stack {
  port: number;
  dbFile?: string;
  /** The dataset's output: the worker's one allowed root. */
  out: string;
  server: ChildProcess;
  worker: ChildProcess;
  fake: FakeOpenAiServer;
  taskQueue: string;
  cpu: { server: CpuLedger; worker: CpuLedger };
}

async function startWorker(s: Pick<Stack, 'port' | 'fake' | 'taskQueue' | 'out'>): Promise<ChildProcess> {
  return spawnWorker({
    PARROT_ALLOWED_ROOTS: pathToFileURL(s.out).href,
    TEMPORAL_ADDRESS: `127.0.0.1:${s.port}`,
    PARROT_TASK_QUEUE: s.taskQueue,
    PARROT_ENDPOINT_FAKE_URL: s.fake.url,
  });
}

/** Waits until round `round`'s batch is in progress at the fake; returns its ID. */
async function batchInProgress(s: Stack, round: number): Promise<string> {
  for (;;) {
    const id = s.fake.batch.created[round - 1];
    if (id && s.fake.batch.api.batches.get(id)?.status === 'in_progress') return id;
    await sleep(50);
  }
}

async function untilFinished(s: Stack, id: string) {
  while (
    !['completed', 'expired', 'failed', 'cancelled'].includes(s.fake.batch.api.batches.get(id)?.status ?? '')
  )
    await sleep(50);
}

/** The faults asked for, round by round: worker kills first, then the server restart. */
async function injectFaults(s: Stack) {
  let round = 1;
  for (let k = 0; k < cfg['kill-worker']; k++, round++) {
    const id = await batchInProgress(s, round);
    s.cpu.worker.retire(s.worker);
    await stopProcess(s.worker, 'SIGKILL');
    console.log(`  round ${round}: worker killed while ${id} is in progress`);
    await untilFinished(s, id); // it completes while no worker runs
    s.worker = await startWorker(s);
    s.cpu.worker.add(s.worker);
  }
  for (let k = 0; k < cfg['restart-server']; k++, round++) {
    const id = await batchInProgress(s, round);
    s.cpu.server.retire(s.server);
    await stopProcess(s.server, 'SIGKILL');
    console.log(`  round ${round}: Temporal server killed while ${id} is in progress`);
    await sleep(2_000);
    s.server = startTemporalServer(s.port, s.dbFile);
    s.cpu.server.add(s.server);
    await waitForServer(`127.0.0.1:${s.port}`);
  }
}

/** Every exported line's id and turns: the export's shape, and its digest for comparing runs. */
function readExport(result: DatasetResult) {
  const lines = result.export.shards.flatMap((shard) =>
    fs.readFileSync(new URL(shard.uri), 'utf8').split('\n').filter(Boolean),
  );
  const shapes = lines
    .map((l) => JSON.parse(l) as { id: string; conversations: { from: string }[] })
    .map((l) => `${l.id.slice(l.id.lastIndexOf('/') + 1)}:${l.conversations.map((c) => c.from[0]).join('')}`)
    .sort();
  return {
    rows: lines.length,
    unique: new Set(shapes.map((x) => x.split(':')[0])).size,
    digest: crypto.createHash('sha256').update(shapes.join('\n')).digest('hex').slice(0, 16),
  };
}

async function main() {
  console.log('config', cfg);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-bench-batch-'));
  const port = await freePort();
  // On a file only when it must survive a restart: in memory its CPU compares with npm run bench's.
  const dbFile = cfg['restart-server'] ? path.join(dir, 'temporal.db') : undefined;
  const fake = await startFakeOpenAiServer({ recordRequests: false, completionTokens: 40 });
  fake.batch.holdMs = cfg['turnaround-ms'];
  const cpu = { server: new CpuLedger(), worker: new CpuLedger() };
  const server = startTemporalServer(port, dbFile);
  cpu.server.add(server);
  await waitForServer(`127.0.0.1:${port}`);
  const taskQueue = `bench-batch-${Date.now()}`;
  const out = path.join(dir, 'out');
  const worker = await startWorker({ port, fake, taskQueue, out });
  cpu.worker.add(worker);
  const s: Stack = { port, dbFile, out, server, worker, fake, taskQueue, cpu };
  const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
  const batch = { fillSeconds: cfg['fill-seconds'], pollSeconds: cfg['poll-seconds'] };
  const handle = await client.workflow.start('generateDataset', {
    taskQueue,
    workflowId: `bench-batch-${cfg.count}-${Date.now()}`,
    args: [
      {
        count: cfg.count,
        turns: cfg.turns,
        output: pathToFileURL(out).href,
        ask: { endpoint: 'fake', model: 'fake', ...maxTokens('ask'), ...(cfg['ask-batch'] && { batch }) },
        answer: { endpoint: 'fake', model: 'fake', ...maxTokens('answer'), batch },
      },
    ],
  });
  const started = Date.now();
  const cpu0 = { server: cpu.server.total(), worker: cpu.worker.total() };
  const ticker = setInterval(() => void report(handle), 10_000);
  // CPU is counted to the end of generation (the phase leaves `generating`), as npm run bench counts it.
  let generated: { server: number; worker: number } | undefined;
  const phases = setInterval(() => {
    void handle.describe().then(
      (d) => {
        const phase = d.typedSearchAttributes.get(PARROT_PHASE);
        if (!generated && ((phase && phase !== 'generating') || d.status.name !== 'RUNNING'))
          generated = { server: cpu.server.total() - cpu0.server, worker: cpu.worker.total() - cpu0.worker };
      },
      () => undefined, // the server restarting: the next look will do
    );
  }, 1_000);
  try {
    await injectFaults(s);
    const result = (await handle.result()) as DatasetResult;
    generated ??= { server: cpu.server.total() - cpu0.server, worker: cpu.worker.total() - cpu0.worker };
    await summarize(s, client, handle, result, (Date.now() - started) / 1000, generated);
  } finally {
    clearInterval(ticker);
    clearInterval(phases);
    await stopProcess(s.worker, 'SIGTERM');
    await client.connection.close();
    await stopProcess(s.server, 'SIGTERM');
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function report(handle: WorkflowHandle) {
  const p = await handle.query<DatasetProgress>('progress').catch(() => undefined);
  const b = p?.batches[0];
  if (p && b)
    console.log(
      `  ${p.phase} ${p.completed}/${p.requested} done · answer batches: ${b.rounds} rounds, ${b.requests} submitted, ${b.queued} queued${b.inFlight.map((x) => `, ${x.id} ${x.status} ${x.completed}/${x.total}`).join('')}`,
    );
}

async function summarize(
  s: Stack,
  client: Client,
  handle: WorkflowHandle,
  result: DatasetResult,
  wall: number,
  cpu: { server: number; worker: number },
) {
  const exported = readExport(result);
  const view = await client.workflow
    .getHandle(`${handle.workflowId}/batch/answer`)
    .query<{ rounds: number; batches: number }>('batches');
  const batched = (result.usage.answer.batchCalls ?? 0) + (result.usage.ask.batchCalls ?? 0);
  const calls = result.usage.ask.calls + result.usage.answer.calls;
  const submitted = [...s.fake.batch.submitted.values()].reduce((n, k) => n + k, 0);
  const figures = {
    dialogues: `${result.completed} / ${cfg.count} (failed ${result.failedCount})`,
    'export rows / unique ids / shape digest': `${exported.rows} / ${exported.unique} / ${exported.digest}`,
    'requests submitted / needed / submitted twice': `${submitted} / ${batched} / ${s.fake.batch.duplicates()}`,
    'answer batch rounds / batches': `${view.rounds} / ${view.batches}`,
    'LLM calls / batched': `${calls} / ${batched}`,
    'wall time': `${wall.toFixed(1)} s`,
    'CPU ms in generation: server / worker': `${cpu.server.toFixed(0)} / ${cpu.worker.toFixed(0)}`,
    'server + worker CPU ms per batched call (all CPU, online asks included)': (
      (cpu.server + cpu.worker) /
      batched
    ).toFixed(2),
    'server + worker CPU ms per LLM call': ((cpu.server + cpu.worker) / calls).toFixed(2),
  };
  console.table(figures);
  console.log(
    `BENCH ${JSON.stringify({
      ...cfg,
      completed: result.completed,
      exportRows: exported.rows,
      exportUnique: exported.unique,
      exportDigest: exported.digest,
      submitted,
      needed: batched,
      submittedTwice: s.fake.batch.duplicates(),
      rounds: view.rounds,
      batches: view.batches,
      calls,
      wallSeconds: Number(wall.toFixed(1)),
      cpuServerMs: Math.round(cpu.server),
      cpuWorkerMs: Math.round(cpu.worker),
      cpuMsPerBatchedCall: Number(((cpu.server + cpu.worker) / batched).toFixed(2)),
      cpuMsPerCall: Number(((cpu.server + cpu.worker) / calls).toFixed(2)),
    })}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
