// A user's seed file, read once at the start of a dataset: malformed lines are counted and
// reported by number without stopping the run; a missing file stops it at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { testMinio } from './global-fixtures';
import { questionOf, sampleRetainedHeap, writeShareGptFile } from './helpers/sharegpt-file';
import { fakeDatasetInput } from './helpers/inputs';
import { runDataset } from './helpers/temporal';

describe('seed files (fake LLM server)', () => {
  const s = useFakeLlmSuite('seeds');
  const input = (name: string, seeds: string): DatasetInputJson =>
    fakeDatasetInput(path.join(s.outDir, name), { count: 3, turns: 1, concurrency: 3, seeds });

  it('skips malformed lines, reports them by number in the result and manifest, and runs on the rest', async () => {
    const file = path.join(s.outDir, 'seeds.jsonl');
    fs.writeFileSync(
      file,
      [
        '{"conversations":[{"from":"human","value":"What is a monad?"}]}',
        '{"conversations":[{"from":"human","value":"oops"}',
        '{"conversations":[{"from":"human","value":"How do tides work?"}]}',
        '{"conversations":[{"from":"gpt","value":"no question here"}]}',
      ].join('\n'),
    );
    const result = await runDataset(s.t, 'seeds-malformed', input('malformed', pathToFileURL(file).href));
    assert.equal(result.completed, 3);
    assert.deepEqual(
      {
        seeds: result.seeds?.seeds,
        skipped: result.seeds?.skippedLines,
        lines: result.seeds?.firstSkipped.map((l) => l.line),
      },
      { seeds: 2, skipped: 2, lines: [2, 4] },
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(s.outDir, 'malformed/manifest.json'), 'utf8'));
    assert.equal(manifest.seeds.skippedLines, 2);
    const firsts = fs
      .readFileSync(path.join(s.outDir, 'malformed', manifest.shards[0].key), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).conversations[0].value);
    assert.ok(firsts.every((q: string) => ['What is a monad?', 'How do tides work?'].includes(q)));
  });

  it('fails at once, naming the file, when the seed file does not exist', async () => {
    const missing = pathToFileURL(path.join(s.outDir, 'nope.txt')).href;
    await assert.rejects(runDataset(s.t, 'seeds-missing', input('missing', missing)), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String((err.cause as any)?.cause?.message), /seeds: .*nope\.txt does not exist/);
      return true;
    });
  });

  it('picks from a new seed file when its dataset is started again under the same workflow ID, on a warm worker', async () => {
    const file = path.join(s.outDir, 'again.txt');
    const questions = (from: string) => [1, 2, 3].map((i) => `Question ${i} of the ${from} file?`);
    /** The first question of each exported dialogue, in index order. */
    const seedsOf = (result: { export: { shards: { uri: string }[] } }) =>
      fs
        .readFileSync(new URL(result.export.shards[0].uri), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { conversations: { value: string }[] }).conversations[0].value);
    fs.writeFileSync(file, questions('first').join('\n'));
    const first = await runDataset(s.t, 'seeds-again', input('again', pathToFileURL(file).href));
    assert.deepEqual(seedsOf(first).sort(), questions('first'));

    // The same file, rewritten; the same worker, with the first file's chunks in its cache.
    fs.writeFileSync(file, questions('second').join('\n'));
    const again = await runDataset(s.t, 'seeds-again', {
      ...input('again', pathToFileURL(file).href),
      count: 6,
      resumeFrom: 'seeds-again',
    });
    assert.equal(again.reused, 3);
    // Dialogues 3-5 ran now, from the new file; 0-2 are the first dataset's.
    assert.deepEqual(seedsOf(again).slice(3).sort(), questions('second'));
  });

  it('reads a JSON array from S3 and writes its chunks beside an S3 output, picking across chunks', async () => {
    const bucket = 'seed-files-test';
    await testMinio().createBucket(bucket);
    const client = testMinio().client();
    const rows = Array.from({ length: 1500 }, (_, i) => ({
      conversations: [
        { from: 'human', value: questionOf(i) },
        { from: 'gpt', value: 'a' },
      ],
    }));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'in/sharegpt.json', Body: JSON.stringify(rows) }),
    );
    const result = await runDataset(s.t, 'seeds-s3', {
      ...input('unused', `s3://${bucket}/in/sharegpt.json`),
      count: 6,
      output: `s3://${bucket}/out`,
    });
    assert.equal(result.completed, 6);
    assert.equal(result.seeds?.seeds, 1500);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'out/seeds/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key).sort(), [
      'out/seeds/seeds-s3/00000.jsonl',
      'out/seeds/seeds-s3/00001.jsonl',
      'out/seeds/seeds-s3/index.json',
    ]);
    const index = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/seeds/seeds-s3/index.json' }))
      ).Body!.transformToString(),
    );
    assert.equal(index.chunks.sourceSha256, createHash('sha256').update(JSON.stringify(rows)).digest('hex'));
    const shard = await (
      await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'out/data/part-00000.jsonl' }))
    ).Body!.transformToString();
    const firsts = shard
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).conversations[0].value);
    // Under randomSeed 0 the six dialogues start from these rows: row 1,061 is in the second chunk
    // of 1,000 seeds (00001.jsonl), read by its index there.
    const rowsPicked = [250, 843, 86, 1061, 850, 822];
    assert.deepEqual(firsts.sort(), rowsPicked.map(questionOf).sort());
  });

  describe('a ShareGPT JSON array of a few hundred MB', () => {
    const file = path.join(os.tmpdir(), `parrot-sharegpt-${process.pid}.json`);
    const SIZE = 300 * 1024 * 1024;
    let rows = 0;
    before(async () => {
      rows = await writeShareGptFile(file, SIZE);
    });
    after(() => fs.rmSync(file, { force: true }));

    it('is read streaming into chunks, with the heap it keeps far below the file size, and dialogues start from its first human turns', async () => {
      const heap = sampleRetainedHeap(); // the worker runs in this process
      const started = Date.now();
      const result = await runDataset(s.t, 'seeds-large', input('large', pathToFileURL(file).href));
      const growth = heap.stop();
      assert.equal(result.completed, 3);
      assert.equal(result.seeds?.seeds, rows);
      assert.ok(
        growth < 32 * 1024 * 1024,
        `the heap kept ${(growth / 2 ** 20).toFixed(0)} MB reading a ${(SIZE / 2 ** 20).toFixed(0)} MB file`,
      );
      assert.equal(result.seeds?.chunks?.sourceBytes, fs.statSync(file).size);
      const chunkFiles = fs.readdirSync(path.join(s.outDir, 'large', 'seeds', 'seeds-large'));
      assert.equal(chunkFiles.length, Math.ceil(rows / 1000) + 1, 'chunks of 1,000 seeds and an index');
      const manifest = JSON.parse(fs.readFileSync(path.join(s.outDir, 'large/manifest.json'), 'utf8'));
      const firsts = fs
        .readFileSync(path.join(s.outDir, 'large', manifest.shards[0].key), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).conversations[0].value);
      const questions = new Set(Array.from({ length: rows }, (_, i) => questionOf(i)));
      assert.ok(firsts.length === 3 && firsts.every((q: string) => questions.has(q)), firsts.join(' | '));
      console.log(
        `      ${rows} rows, ${(SIZE / 2 ** 20).toFixed(0)} MB: ${Date.now() - started} ms, retained heap growth ${(growth / 2 ** 20).toFixed(0)} MB`,
      );
    });
  });
});
