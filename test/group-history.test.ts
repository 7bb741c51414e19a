// A group's history stays under the server's limits however long the answers: long answers
// (3,000 tokens, as reasoning models give) with the payload codec on, on a dev server of its own
// whose history limits are lowered, so that a few MB play the part of Temporal's 50 MB.
import { TEST_ROOTS } from './helpers/roots';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { AesGcmCodec } from '../src/codec/aes-gcm-codec';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { generateDataset, progressQuery } from '../src/workflows';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { createTestWorker, startTemporal } from './helpers/temporal';
import { fakeDatasetInput } from './helpers/inputs';

/** The server's limits here: Temporal's defaults are 4 MiB (suggest continue-as-new), 10 MB (warn), 50 MB (fail). */
const SUGGEST_BYTES = 1024 * 1024;
const ERROR_BYTES = 5 * 1024 * 1024;
const codec = new AesGcmCodec(randomBytes(32));

describe('group history limits (fake LLM server, 3,000-token answers, codec on, lowered limits)', () => {
  let env: TestWorkflowEnvironment;
  let fake: FakeOpenAiServer;
  let worker: Awaited<ReturnType<typeof createTestWorker>> | undefined;
  let running: Promise<void> | undefined;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-history-'));

  before(async () => {
    [env, fake] = await Promise.all([
      startTemporal({
        'limit.historySize.suggestContinueAsNew': SUGGEST_BYTES,
        'limit.historySize.warn': ERROR_BYTES - 1024 * 1024,
        'limit.historySize.error': ERROR_BYTES,
      }),
      startFakeOpenAiServer({ answerTokens: 3_000 }),
    ]);
    worker = await createTestWorker(
      env,
      { endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }), roots: TEST_ROOTS },
      { dataConverter: { payloadCodecs: [codec] } },
    );
    running = worker.worker.run();
  });
  after(async () => {
    worker?.worker.shutdown();
    await running;
    await fake?.close();
    await env?.teardown();
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('exports every dialogue once: no group is terminated with its dialogues', async () => {
    const client = new Client({ connection: env.connection, dataConverter: { payloadCodecs: [codec] } });
    const result = await client.workflow.execute(generateDataset, {
      taskQueue: worker!.taskQueue,
      workflowId: 'long-answers',
      args: [fakeDatasetInput(path.join(outDir, 'long'), { count: 24, turns: 4 })],
    });
    const runs: { id: string; status: string }[] = [];
    for await (const wf of client.workflow.list({ query: 'ParrotDataset="long-answers"' }))
      if (wf.type === 'generateDialogues') runs.push({ id: wf.workflowId, status: wf.status.name });
    assert.deepEqual(
      runs.filter((r) => r.status === 'TERMINATED'),
      [],
      'no group terminated by the server',
    );
    assert.deepEqual({ completed: result.completed, failed: result.failed }, { completed: 24, failed: [] });
    // The first groups, sized before any had reported, outgrew the lowered limits and handed on.
    assert.ok(
      runs.some((r) => r.status === 'CONTINUED_AS_NEW'),
      'a group handed its dialogues on to its next run',
    );
    assert.deepEqual(
      [result.usage.answer.calls, result.usage.ask.calls],
      [24 * 4, 24 * 3],
      'no call made twice, none lost, across the hand-ons',
    );
    assert.deepEqual(
      fs.readdirSync(path.join(outDir, 'long', 'progress')),
      [],
      'progress removed once stored',
    );
    // ...and the dataset learnt to size its next groups smaller than its first.
    const [from, to = from] = runs
      .find((r) => /\/0(-|$)/.test(r.id))!
      .id.split('/')[1]
      .split('-')
      .map(Number);
    const first = to - from + 1;
    const { groupSize } = await client.workflow.getHandle('long-answers').query(progressQuery);
    assert.ok(groupSize < first, `groups of ${groupSize} now, ${first} at first`);
    const lines = fs
      .readFileSync(path.join(outDir, 'long', 'data', 'part-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; conversations: { from: string; value: string }[] });
    assert.deepEqual(
      lines.map((l) => Number(l.id.split('/')[1])).sort((a, b) => a - b),
      Array.from({ length: 24 }, (_, i) => i),
      'every dialogue exported once',
    );
    for (const l of lines) {
      assert.equal(l.conversations.length, 8, `${l.id}: all 4 turns`);
      assert.ok(l.conversations[1].value.length > 11_000, `${l.id}: long answers`);
    }
  });
});
