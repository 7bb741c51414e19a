// Production runs the compiled worker (`npm run build`, then `node dist/worker.js`): it has to
// find its compiled workflows and assets without tsx, and run a dataset end to end.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { generateDataset } from '../src/workflows';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { eventually, GiveUp } from './helpers/eventually';
import { fakeDatasetInput } from './helpers/inputs';
import { startTemporal } from './helpers/temporal';

const root = path.resolve(__dirname, '..');

describe('the compiled worker (npm run build, node dist/worker.js)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  let worker: ChildProcess | undefined;
  let log = '';
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-built-'));
  const taskQueue = `built-worker-${process.pid}`;

  before(async () => {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    [env, fake] = await Promise.all([startTemporal(), startFakeOpenAiServer()]);
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await fake?.close();
    await env?.teardown();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('starts, reports ready and runs a small dataset', async () => {
    worker = spawn(process.execPath, [path.join(root, 'dist/worker.js')], {
      cwd: root,
      // Only node on the path to the code: no tsx loader may be inherited from the test process.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        PARROT_TASK_QUEUE: taskQueue,
        PARROT_ENDPOINT_FAKE_URL: fake.url,
        PARROT_SHUTDOWN_GRACE_SECONDS: '1',
        PARROT_ALLOWED_ROOTS: pathToFileURL(outDir).href,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (c) => (log += c));
    worker.stderr!.on('data', (c) => (log += c));
    await eventually(
      () => {
        if (worker!.exitCode !== null) throw new GiveUp(`the worker exited (${worker!.exitCode}):\n${log}`);
        return log.includes('parrot worker ready');
      },
      { what: 'the compiled worker to report ready' },
    );
    assert.match(log, new RegExp(`task queue '${taskQueue}'.*fake \\(${fake.url.replace(/[.]/g, '\\.')}\\)`));
    assert.ok(log.includes(`seeds and output under: ${pathToFileURL(outDir).href}`), log);

    // A failing activity would retry until mocha's timeout: a minute is plenty, and the worker's log says why.
    const result = await env.client.workflow
      .execute(generateDataset, {
        taskQueue,
        workflowId: `built-worker-${Date.now()}`,
        workflowExecutionTimeout: '1 minute',
        args: [fakeDatasetInput(outDir, { count: 3, turns: 2, concurrency: 2 })],
      })
      .catch((err) => {
        throw new Error(`the dataset failed: ${err}\nworker log:\n${log}`);
      });
    assert.equal(result.completed, 3, log);
    assert.equal(result.failedCount, 0);
    const lines = fs.readFileSync(path.join(outDir, 'data/part-00000.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 3);
    // 3 dialogues of 2 turns: 2 answers and 1 question each, every call one request.
    assert.deepEqual(
      {
        answers: result.usage.answer.calls,
        questions: result.usage.ask.calls,
        requests: fake.requests.length,
      },
      { answers: 6, questions: 3, requests: 9 },
    );
  });
});
