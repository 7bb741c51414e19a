// Records the workflow histories that test/replay.test.ts replays: run it (npm run
// record-histories) only when a workflow change is meant to break replay, behind patched().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL, startFakeLlmServer } from './helpers/fake-llm-server';
import { createTestWorker, startTemporal } from './helpers/temporal';
import { TEMPORAL_BIN } from './helpers/tools';

export const HISTORIES_DIR = path.join(__dirname, 'fixtures/histories');

async function main() {
  const version = process.argv[2];
  if (!/^v\d+$/.test(version ?? '')) throw new Error('usage: npm run record-histories -- v<N>  (the workflow version these histories record)');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [env, fake] = await Promise.all([startTemporal(), startFakeLlmServer()]);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-record-'));
  const { worker, taskQueue } = await createTestWorker(env, { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }) });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(generateDataset, {
      taskQueue,
      workflowId: 'recorded-dataset',
      args: [{ count: 2, turns: 2, output: pathToFileURL(out).href, concurrency: 1, ask: { endpoint: 'fake', model: FAKE_MODEL }, answer: { endpoint: 'fake', model: FAKE_MODEL } }],
    });
    await handle.result();
    fs.mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const [id, name] of [['recorded-dataset', 'generateDataset'], ['recorded-dataset/0', 'generateDialogue']]) {
      // The CLI writes the proto3 JSON that historyFromJSON reads back.
      const json = execFileSync(TEMPORAL_BIN, ['workflow', 'show', '--address', env.connection.options.address, '--workflow-id', id, '--output', 'json'], { encoding: 'utf8' });
      const history = JSON.parse(json);
      fs.writeFileSync(path.join(HISTORIES_DIR, `${name}-${version}.json`), JSON.stringify(history, null, 1) + '\n');
      console.log(`recorded ${name} (${history.events.length} events)`);
    }
  });
  await Promise.all([env.teardown(), fake.close()]);
  fs.rmSync(out, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
