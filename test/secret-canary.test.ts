// A canary API key in the worker's environment, searched for wherever a run leaves data: the
// Temporal server's database file, the export, and the logs of the worker and the server. The
// histories' payloads (test/secrets-and-codec.test.ts) are not the only place a key could leak.
// No codec: the database holds every payload in clear, so a key in one would be found (the scan
// finds a seed question there, to show it can). Its own dev server, on a database file, and the
// worker in its own process, at DEBUG, as deployed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { generateDataset } from '../src/workflows';
import { PARROT_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { freePort } from './helpers/minio-server';
import { requireTool, TEMPORAL_BIN } from './helpers/tools';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { eventually, GiveUp } from './helpers/eventually';
import { fakeDatasetInput } from './helpers/inputs';

const API_KEY = `sk-canary-${randomBytes(12).toString('hex')}`;
/** Any other secret of the worker's environment (AWS keys, PARROT_PAYLOAD_KEY): only reachable by reading the environment. */
const ENV_SECRET = `env-canary-${randomBytes(12).toString('hex')}`;

/** A dev server on a database file, its output kept. */
async function startServer(
  dbFile: string,
): Promise<{ address: string; log: () => string; stop(): Promise<void> }> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--db-filename', dbFile, '--log-level', 'info');
  for (const key of PARROT_SEARCH_ATTRIBUTES)
    args.push('--search-attribute', `${key.name}=${key.type === 'KEYWORD_LIST' ? 'KeywordList' : 'Keyword'}`);
  const proc: ChildProcess = spawn(requireTool(TEMPORAL_BIN), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (c) => (log += c));
  proc.stderr!.on('data', (c) => (log += c));
  const address = `127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (proc.exitCode !== null) throw new GiveUp(`the dev server exited (${proc.exitCode})`);
      await (await Connection.connect({ address, connectTimeout: 1000 })).close();
      return true;
    },
    { what: 'the dev server to start', interval: 200 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}:\n${log}`, { cause: err });
  });
  return {
    address,
    log: () => log,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every file under `dir` (the database's -wal and -shm files too), with any of `needles` it holds. */
function filesHolding(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = fs.readFileSync(file);
    for (const needle of needles) if (bytes.includes(needle)) found.push(`${file}: ${needle}`);
  }
  return found;
}

describe('secrets at rest: a canary API key in the server database, the export and the logs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-canary-'));
  const dbDir = path.join(dir, 'temporal');
  const outDir = path.join(dir, 'out');
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let fake: FakeOpenAiServer | undefined;
  let worker: WorkerProcess | undefined;
  let client: Client;
  const taskQueue = 'canary';

  before(async () => {
    fs.mkdirSync(dbDir);
    fs.mkdirSync(outDir);
    [server, fake] = await Promise.all([
      startServer(path.join(dbDir, 'temporal.db')),
      startFakeOpenAiServer(),
    ]);
    worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: server.address,
      PARROT_TASK_QUEUE: taskQueue,
      PARROT_LOG_LEVEL: 'DEBUG',
      PARROT_ENDPOINT_FAKE_URL: fake.url,
      PARROT_ENDPOINT_FAKE_API_KEY: API_KEY,
      PARROT_TEST_SECRET: ENV_SECRET,
      PARROT_ALLOWED_ROOTS: pathToFileURL(outDir).href,
    });
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
  });
  after(async () => {
    await worker?.stop();
    await client?.connection.close();
    await Promise.all([server?.stop(), fake?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is used against the provider, and found nowhere a run leaves data', async () => {
    const input = (name: string) =>
      fakeDatasetInput(path.join(outDir, name), {
        count: 3,
        turns: 2,
        concurrency: 2,
        metrics: { embeddings: { endpoint: 'fake', model: 'fake-embed' } },
      });
    // A dataset with metrics (its probe is an embedding); one dialogue refused by the provider (401), its error kept.
    fake!.failNext({ status: 401, message: 'invalid api key' });
    const result = await client.workflow.execute(generateDataset, {
      taskQueue,
      workflowId: 'canary',
      args: [input('run')],
    });
    assert.equal(result.completed + result.failedCount, 3);
    assert.equal(result.failedCount, 1, 'the 401');
    assert.equal(result.metricsError, undefined);
    // Whoever can start a dataset tries to read the worker's environment as seeds (refused, as
    // test/allowed-roots.test.ts checks; here only what it leaves behind matters).
    await client.workflow
      .execute(generateDataset, {
        taskQueue,
        workflowId: 'canary-environ',
        args: [{ ...input('environ'), seeds: 'file:///proc/self/environ', metrics: undefined }],
      })
      .catch(() => undefined);
    assert.ok(
      fake!.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`),
      'the provider saw the key',
    );
    await worker!.stop(); // its logs are complete, the server's database written out
    await server!.stop();

    const needles = [API_KEY, Buffer.from(API_KEY).toString('base64'), ENV_SECRET];
    // The scan reads what it searches: a question the provider was asked is in the database and the export.
    const asked = fake!.requests.find((r) => r.body?.messages)!.body.messages[0].content as string;
    const seed = asked.split('\n')[0].replace(/^User: /, '');
    assert.ok(
      filesHolding(dbDir, [seed]).length > 0,
      `the database holds the seed question in clear: ${seed}`,
    );
    assert.ok(filesHolding(outDir, [seed]).length > 0, 'so does the export');
    assert.deepEqual(filesHolding(dbDir, needles), [], 'the Temporal database');
    assert.deepEqual(filesHolding(outDir, needles), [], 'the export');
    const logs = { worker: worker!.log(), server: server!.log() };
    assert.match(logs.worker, /parrot worker ready/);
    for (const [who, log] of Object.entries(logs))
      for (const needle of needles)
        assert.equal(log.includes(needle), false, `the ${who}'s log holds ${needle}`);
  });
});
