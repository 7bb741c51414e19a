// The dataset workflow end to end: children on a real Temporal dev server, a FAKE LLM server,
// the export written to a real MinIO and read back with the S3 client.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { parseDatasetInput, type DatasetInputJson } from '../src/config/dataset-input';
import { turnsFor } from '../src/planning/turns';
import { dialogueQuery, progressQuery } from '../src/workflows';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './helpers/fake-openai-server';
import { startDataset, useTemporalWorker, workflowIds } from './helpers/temporal';
import { eventually } from './helpers/eventually';
import { testMinio } from './global-fixtures';
import { TEST_ROOTS } from './helpers/roots';
import { fakeDatasetInput } from './helpers/inputs';

describe('generateDataset to MinIO (fake LLM server)', () => {
  let fake: FakeOpenAiServer;
  const bucket = 'dataset-test';
  before(async () => {
    [fake] = await Promise.all([startFakeOpenAiServer(), testMinio().createBucket(bucket)]);
  });
  after(async () => fake?.close());
  // Small shards, so that the export of a few dialogues spans several multipart uploads.
  const t = useTemporalWorker(() => ({
    endpoints: loadEndpointRegistry({ PARROT_ENDPOINT_FAKE_URL: fake.url }),
    roots: TEST_ROOTS,
    dialoguesPerShard: 3,
  }));

  async function readObject(key: string): Promise<string> {
    const r = await testMinio()
      .client()
      .send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return r.Body!.transformToString('utf8');
  }

  it('runs every dialogue in a group workflow and exports each exactly once as ShareGPT JSONL with a manifest', async () => {
    const count = 7;
    const input: DatasetInputJson = fakeDatasetInput(`s3://${bucket}/run-1`, {
      count,
      turns: { min: 1, max: 3 },
      concurrency: 8,
      dialoguesPerWorkflow: 2,
      randomSeed: 11,
    });
    const workflowId = 'dataset-s3-test';
    const handle = await startDataset(t, workflowId, input);
    const result = await handle.result();

    assert.deepEqual(result.failed, []);
    assert.equal(result.completed, count);
    assert.deepEqual(result.failed, []);
    assert.equal(result.export.exported, count);
    assert.deepEqual(
      result.export.shards.map((s) => s.dialogues),
      [3, 3, 1],
    );

    // Every dialogue, read back from MinIO with the S3 client.
    const shards = await Promise.all(
      result.export.shards.map((_, i) => readObject(`run-1/data/part-0000${i}.jsonl`)),
    );
    const rows = shards
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => r.id).sort(),
      Array.from({ length: count }, (_, i) => `${workflowId}/${i}`).sort(),
    );
    const turnCounts = new Set<number>();
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), ['id', 'conversations']);
      const turns = row.conversations.length / 2;
      // Each dialogue's length is drawn from the run's seed and its index: known before the run.
      assert.equal(
        turns,
        turnsFor(parseDatasetInput(input), Number(row.id.split('/').at(-1))),
        `${row.id}: ${row.conversations.length} messages`,
      );
      turnCounts.add(turns);
      row.conversations.forEach((c: { from: string; value: string }, i: number) => {
        assert.equal(c.from, i % 2 === 0 ? 'human' : 'gpt');
        assert.ok(c.value.length > 0);
        if (i % 2 === 1) assert.equal(c.value, `Fake answer to: ${row.conversations[i - 1].value}`);
      });
    }
    assert.ok(turnCounts.size > 1, 'turns {min, max} should vary across dialogues');

    // A dialogue is found in the UI by dataset and index: its group, whose `dialogue` query shows it.
    const groupIds = await eventually(
      async () => {
        const ids = await workflowIds(t.env.client, `ParrotDataset="${workflowId}" AND ParrotDialogues="4"`);
        return ids.length === 1 && ids;
      },
      { what: 'the group of dialogue 4 to be listed', timeout: 10_000 },
    );
    assert.deepEqual(groupIds, [`${workflowId}/4-5`]);
    const group = t.env.client.workflow.getHandle(groupIds[0]);
    assert.equal(await (await group.describe()).staticSummary(), `Dialogues 4–5 (2) of ${workflowId}`);
    const shown = await group.query(dialogueQuery, 4);
    const row4 = rows.find((r) => r.id === `${workflowId}/4`);
    assert.deepEqual(
      {
        status: shown?.status,
        conversations: shown?.conversations.map((c) => ({ from: c.from, value: c.value })),
      },
      { status: 'completed', conversations: row4.conversations },
    );

    const manifest = JSON.parse(await readObject('run-1/manifest.json'));
    assert.equal(manifest.exported, count);
    assert.equal(manifest.missing.count, 0);
    assert.deepEqual(
      manifest.shards.map((s: { key: string; dialogues: number; sha256: string }) => [
        s.key,
        s.dialogues,
        s.sha256,
      ]),
      shards.map((text, i) => [
        `data/part-0000${i}.jsonl`,
        text.trim().split('\n').length,
        createHash('sha256').update(text).digest('hex'),
      ]),
    );
    assert.equal(manifest.input.count, count);
    assert.equal(manifest.metrics.dialogues, count);
    const totalTurns = rows.reduce((n, r) => n + r.conversations.length / 2, 0);
    assert.equal(manifest.usage.answer.calls, totalTurns);
    assert.equal(manifest.usage.ask.calls, totalTurns - count);
    assert.ok(manifest.metrics.distinct1Answers > 0 && manifest.metrics.distinct1Answers <= 1);

    // The progress query and the search attributes users filter on.
    const progress = await handle.query(progressQuery);
    assert.deepEqual(
      { phase: progress.phase, completed: progress.completed, remaining: progress.remaining },
      { phase: 'done', completed: count, remaining: 0 },
    );
    const desc = await handle.describe();
    assert.deepEqual(desc.searchAttributes.ParrotPhase, ['done']);
    // Visibility is eventually consistent: poll until the groups show up under the dataset's attribute.
    const children = await eventually(
      async () => {
        const ids = await workflowIds(
          t.env.client,
          `ParrotDataset="${workflowId}" AND WorkflowType="generateDialogues"`,
        );
        return ids.length >= 4 && ids;
      },
      { what: 'the 4 groups to be listed under the dataset', timeout: 10_000 },
    );
    assert.deepEqual(
      children.sort(),
      [`${workflowId}/0-1`, `${workflowId}/2-3`, `${workflowId}/4-5`, `${workflowId}/6`],
      'groups of 2 (dialoguesPerWorkflow), all in flight at once (concurrency 8)',
    );
  });
});
