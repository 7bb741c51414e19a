// Batch mode against the FAKE server's Batches API: a dataset whose answers go through batches
// exports what its online twin exports (same shape, same counts), with one answer batch a turn,
// no request submitted twice, and the dialogue's view saying which batch it waits on.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateDataset, progressQuery } from '../src/workflows';
import type { DatasetResult } from '../src/types';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('batch mode (FAKE batch API)', () => {
  const s = useFakeLlmSuite('batch', {
    endpointEnv: { PARROT_ENDPOINT_FAKE_PRICE_IN: '0.15', PARROT_ENDPOINT_FAKE_PRICE_OUT: '0.6' },
  });
  const { t, outDir } = s;

  const input = (name: string, extra: Record<string, unknown> = {}) => ({
    count: 6,
    turns: 3,
    randomSeed: 7,
    dialoguesPerWorkflow: 3,
    output: pathToFileURL(path.join(outDir, name)).href,
    ask: { endpoint: 'fake', model: FAKE_MODEL },
    answer: { endpoint: 'fake', model: FAKE_MODEL },
    ...extra,
  });
  const batched = { endpoint: 'fake', model: FAKE_MODEL, batch: { fillSeconds: 30, pollSeconds: 1 } };

  /** The export's lines: each dialogue's id and the shape of its turns. */
  function exported(result: DatasetResult) {
    const lines = result.export.shards.flatMap((shard) =>
      fs
        .readFileSync(new URL(shard.uri), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    return lines.map((l) => ({
      index: Number(l.id.split('/').at(-1)),
      keys: Object.keys(l).sort(),
      turns: l.conversations.map((c: { from: string }) => c.from),
    }));
  }

  it('exports what its online twin exports: same dialogues, turns and calls; one batch a turn; none submitted twice', async () => {
    const online = await t.env.client.workflow.execute(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'batch-twin-online',
      args: [input('online')],
    });
    const handle = await t.env.client.workflow.start(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'batch-twin-batch',
      args: [input('batch', { answer: batched })],
    });
    // While the first batch is in flight, a dialogue's view names it.
    s.fake.batch.holdMs = 1_500;
    let seen: string | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      const b = p?.batches[0]?.inFlight[0];
      if (b?.status === 'in_progress') {
        const dialogue = await t.env.client.workflow
          .getHandle('batch-twin-batch/0-2')
          .query<{ waiting?: string }, [number]>('dialogue', 0);
        seen = dialogue.waiting;
        assert.equal(b.total, 6);
        assert.ok(b.ageSeconds >= 0);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    s.fake.batch.holdMs = 0;
    assert.match(seen ?? '', /^turn 1 · answer · in batch batch_\w+ \((validating|in_progress)\)$/);
    const batch = await handle.result();

    assert.deepEqual(
      exported(batch).sort((a, b) => a.index - b.index),
      exported(online).sort((a, b) => a.index - b.index),
    );
    assert.equal(batch.completed, online.completed);
    assert.equal(batch.usage.answer.calls, online.usage.answer.calls);
    assert.equal(batch.usage.answer.batchCalls, online.usage.answer.calls);
    assert.equal(batch.usage.ask.batchCalls, undefined); // the asker stayed online
    // Half the online price: the same tokens cost half.
    const perToken = (u: DatasetResult['usage']['answer']) =>
      u.costUsd! / (u.promptTokens * 0.15 + u.completionTokens * 0.6);
    assert.ok(Math.abs(perToken(batch.usage.answer) / perToken(online.usage.answer) - 0.5) < 1e-9);
    assert.equal(batch.usage.answer.batchCostUsd, batch.usage.answer.costUsd);

    // Requests submitted = requests needed, none twice, one answer batch a turn.
    assert.equal(s.fake.batch.submitted.size, batch.usage.answer.calls);
    assert.equal(s.fake.batch.duplicates(), 0);
    const manifest = JSON.parse(fs.readFileSync(new URL(batch.export.manifestUri), 'utf8'));
    assert.equal(manifest.batches.length, 1);
    assert.deepEqual(
      {
        rounds: manifest.batches[0].rounds,
        requests: manifest.batches[0].requests,
        failed: manifest.batches[0].failed,
      },
      { rounds: 3, requests: 18, failed: 0 },
    );
  });

  it('batches the asker too, in parrot-ask mode (raw completions), with its questions judged as online', async () => {
    const result = await t.env.client.workflow.execute(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'batch-both-roles',
      args: [
        input('both', {
          count: 2,
          turns: 2,
          ask: { ...batched, mode: 'parrot-ask' },
          answer: batched,
        }),
      ],
    });
    assert.equal(result.completed, 2);
    assert.equal(result.usage.ask.batchCalls, result.usage.ask.calls);
    assert.equal(result.usage.answer.batchCalls, result.usage.answer.calls);
    // The fake's raw completion runs on into a leaked "Assistant:" turn; the stop sequences and
    // the cleaning leave the question alone, as online.
    for (const l of exported(result)) assert.deepEqual(l.turns, ['human', 'gpt', 'human', 'gpt']);
    const line = fs.readFileSync(new URL(result.export.shards[0].uri), 'utf8').split('\n')[0];
    assert.match(JSON.parse(line).conversations[2].value, /^Fake raw question \d+: and the second one\?$/);
  });
});
