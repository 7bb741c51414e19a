// Records the workflow histories that test/replay.test.ts replays: run it (npm run
// record-histories -- v<N>) once per deployed release (until the first, v1 is re-recorded in place).
// It records a dataset that continues as new and has a failed dialogue, a group of its dialogues,
// a second dataset that resumes it on the same output, a third cancelled mid-run, and a fourth
// whose answers go through a batch API, with its batcher.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadEndpointRegistry } from '../src/config/endpoints';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { generateDataset } from '../src/workflows';
import { progressQuery } from '../src/workflows/controls';
import { FAKE_MODEL, startFakeOpenAiServer } from './helpers/fake-openai-server';
import { createTestWorker, startTemporal } from './helpers/temporal';
import { TEMPORAL_BIN } from './helpers/tools';
import { TEST_ROOTS } from './helpers/roots';
import { eventually } from './helpers/eventually';

export const HISTORIES_DIR = path.join(__dirname, 'fixtures/histories');

/** One recorded history: the file and the workflow ID it ran under (child IDs derive from it). */
export interface RecordedHistory {
  file: string;
  workflowId: string;
  workflowType: string;
}

async function main() {
  const { positionals } = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true });
  const [version] = positionals;
  if (positionals.length !== 1 || !/^v\d+$/.test(version))
    throw new Error('usage: npm run record-histories -- v<N>  (the workflow version these histories record)');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [env, fake] = await Promise.all([startTemporal(), startFakeOpenAiServer()]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-record-'));
  const { worker, taskQueue } = await createTestWorker(env, {
    endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
    roots: TEST_ROOTS,
  });
  const input: DatasetInputJson = {
    count: 24,
    turns: 2,
    output: pathToFileURL(out).href,
    concurrency: 8,
    dialoguesPerWorkflow: 2,
    maxEventsPerRun: 100,
    ask: { endpoint: 'fake', model: FAKE_MODEL },
    answer: { endpoint: 'fake', model: FAKE_MODEL },
  };
  const recorded: RecordedHistory[] = [];
  const address = env.connection.options.address;
  const record = (workflowId: string, workflowType: string, runId?: string, name = workflowId) => {
    // The CLI writes the proto3 JSON that historyFromJSON reads back.
    const json = execFileSync(
      TEMPORAL_BIN,
      [
        'workflow',
        'show',
        '--address',
        address,
        '--workflow-id',
        workflowId,
        ...(runId ? ['--run-id', runId] : []),
        '--output',
        'json',
      ],
      { encoding: 'utf8' },
    );
    const history = JSON.parse(json);
    const file = `${version}-${name.replace(/[^a-z0-9-]+/gi, '_')}.json`;
    fs.writeFileSync(path.join(HISTORIES_DIR, file), JSON.stringify(history, null, 1) + '\n');
    recorded.push({ file, workflowId, workflowType });
    console.log(`recorded ${file} (${history.events.length} events)`);
  };
  /** A dataset of its own output, cancelled once some of its dialogues are done. */
  const recordCancelled = async () => {
    const output = pathToFileURL(path.join(out, 'cancelled')).href;
    fake.slowNext(2_000, 8); // keeps some dialogues running at the cancel
    const handle = await env.client.workflow.start(generateDataset, {
      taskQueue,
      workflowId: 'recorded-c',
      args: [{ ...input, output }],
    });
    await eventually(async () => (await handle.query(progressQuery)).completed >= 2, {
      what: 'two dialogues of recorded-c done',
    });
    await handle.cancel();
    await handle.result().then(
      () => {
        throw new Error('recorded-c finished before its cancel');
      },
      () => undefined,
    );
    record('recorded-c', 'generateDataset');
  };
  /** A dataset whose answers go through the fake's Batches API, and its answer batcher. */
  const recordBatched = async () => {
    const output = pathToFileURL(path.join(out, 'batched')).href;
    await env.client.workflow.execute(generateDataset, {
      taskQueue,
      workflowId: 'recorded-d',
      args: [
        {
          ...input,
          count: 4,
          maxEventsPerRun: 10_000,
          output,
          answer: { ...input.answer, batch: { fillSeconds: 2, pollSeconds: 1 } },
        },
      ],
    });
    record('recorded-d', 'generateDataset');
    const batcher = 'recorded-d/batch/answer';
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId="${batcher}"` }))
      runs.push(wf.runId);
    runs
      .reverse()
      .forEach((runId, k) => record(batcher, 'runBatcher', runId, `recorded-d-batcher-run${k + 1}`));
  };
  await worker.runUntil(async () => {
    fake.failNext({ status: 401, message: 'key revoked' }, 1); // the first call's dialogue fails for good
    const first = await env.client.workflow.execute(generateDataset, {
      taskQueue,
      workflowId: 'recorded-a',
      args: [input],
    });
    if (first.runs < 2 || first.failedCount !== 1)
      throw new Error(
        `expected a run that continued as new with one failure, got ${first.runs} runs, ${first.failedCount} failed`,
      );
    await env.client.workflow.execute(generateDataset, {
      taskQueue,
      workflowId: 'recorded-b',
      args: [{ ...input, resumeFrom: 'recorded-a' }],
    });
    fs.mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const f of fs.readdirSync(HISTORIES_DIR))
      if (f.startsWith(`${version}-`)) fs.rmSync(path.join(HISTORIES_DIR, f));
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId="recorded-a"` }))
      runs.push(wf.runId);
    runs
      .reverse()
      .forEach((runId, k) => record('recorded-a', 'generateDataset', runId, `recorded-a-run${k + 1}`));
    // The group of the failed dialogue.
    for await (const wf of env.client.workflow.list({
      query: `ParrotDataset="recorded-a" AND ParrotDialogues="${first.failed[0].index}"`,
    }))
      record(wf.workflowId, 'generateDialogues');
    record('recorded-b', 'generateDataset');
    await recordCancelled();
    await recordBatched();
  });
  fs.writeFileSync(
    path.join(HISTORIES_DIR, `${version}-index.json`),
    JSON.stringify(recorded, null, 1) + '\n',
  );
  await Promise.all([env.teardown(), fake.close()]);
  fs.rmSync(out, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
