// Payloads at the schema's 1,000,000 dialogues: what a dataset carries across continue-as-new,
// what the export returns and what a resumed dataset reads of the dialogues already stored stay
// small however the dialogues are scattered; the full lists live in the output.
import { TEST_ROOTS } from '../helpers/roots';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatasetStorageActivities } from '../../src/activities/dataset-storage';
import { parseDatasetInput } from '../../src/config/dataset-input';
import { DatasetMetricsAccumulator } from '../../src/metrics/dataset-metrics';
import { countOf, firstOf, includes, rangesFromSorted, takeFirst } from '../../src/index-ranges';
import { IndexBitmap } from '../../src/storage/index-bitmap';
import type { MissingFile } from '../../src/storage/missing-dialogues';
import { emptyUsage } from '../../src/usage';
import { DatasetRun, initialRunState } from '../../src/workflows/dataset-run';
import { testRecord } from '../helpers/dialogue-records';
import type { DialogueRecord, DatasetExport } from '../../src/types';

const MILLION = 1_000_000;
const KB = 1024;
const sizeOf = (x: unknown) => Buffer.byteLength(JSON.stringify(x));

const input = parseDatasetInput({
  count: MILLION,
  turns: 1,
  output: 'file:///tmp/x',
  ask: { endpoint: 'fake', model: 'm' },
  answer: { endpoint: 'fake', model: 'm' },
});

/** Every other index of 0..MILLION-1 stored: the worst scatter for ranges. */
function everyOther(): IndexBitmap {
  const bitmap = IndexBitmap.empty(MILLION);
  for (let i = 0; i < MILLION; i += 2) bitmap.add(i);
  return bitmap;
}

describe('index ranges', () => {
  it('compacts sorted indices, takes the first ones off, and finds an index', () => {
    const r = rangesFromSorted([0, 1, 2, 5, 7, 8]);
    assert.deepEqual(r, [
      [0, 2],
      [5, 5],
      [7, 8],
    ]);
    assert.equal(countOf(r), 6);
    assert.deepEqual(firstOf(r, 4), [0, 1, 2, 5]);
    assert.deepEqual(
      [0, 3, 5, 6, 8, 9].map((i) => includes(r, i)),
      [true, false, true, false, true, false],
    );
    assert.deepEqual(takeFirst(r, 2), [0, 1]);
    assert.deepEqual(takeFirst(r, 3), [2, 5, 7]);
    assert.deepEqual(r, [[8, 8]]);
    assert.deepEqual(takeFirst(r, 5), [8]);
    assert.deepEqual(r, []);
  });
});

describe('the set of dialogues a resumed dataset found stored, at 1,000,000', () => {
  it('takes 1 bit a dialogue in storage, and yields the others a bounded block at a time', () => {
    const bitmap = IndexBitmap.parse(everyOther().serialize());
    assert.equal(bitmap.count, MILLION / 2);
    assert.ok(everyOther().serialize().length < 200 * KB, 'about 167 KB of base64');
    // As ranges (what openDataset returned before) they would pass Temporal's 2 MB limit.
    assert.ok(sizeOf(rangesFromSorted(Array.from({ length: MILLION / 2 }, (_, i) => 2 * i))) > 2 * KB * KB);
    let [from, blocks, seen, largest] = [0, 0, 0, 0];
    while (from < MILLION) {
      const block = bitmap.rangesOutside(from, 1000);
      largest = Math.max(largest, sizeOf(block));
      for (const [start, end] of block.ranges)
        for (let i = start; i <= end; i++) assert.ok(i % 2 === 1 && i >= from, `index ${i}`);
      seen += countOf(block.ranges);
      from = block.next;
      blocks++;
    }
    assert.equal(seen, MILLION / 2);
    assert.equal(blocks, 500);
    assert.ok(largest < 20 * KB, `a block's payload: ${largest} bytes`);
  });

  it('yields the rest as one range when the stored ones come first (a budget stopped the dataset)', () => {
    const bitmap = IndexBitmap.empty(MILLION);
    for (let i = 0; i < 300; i++) bitmap.add(i);
    assert.deepEqual(bitmap.rangesOutside(0, 1000), { ranges: [[300, MILLION - 1]], next: MILLION });
  });
});

describe('the state a dataset of 1,000,000 carries across continue-as-new', () => {
  it('stays small while it starts every dialogue not stored, with every other one stored and 1,000 failures listed', () => {
    const stored = everyOther();
    const id = 'a-dataset-with-a-long-workflow-id-2026-12-31';
    const run = new DatasetRun(
      input,
      id,
      initialRunState(input, {
        opened: {
          lineage: [{ datasetId: id, runId: 'r' }],
          finishedCount: stored.count,
          finishedUsage: { ask: emptyUsage(), answer: emptyUsage() },
          finishedKey: `finished/${id}.json`,
        },
        seeds: { uri: 'builtin', seeds: 271, skippedLines: 0, firstSkipped: [] },
        routes: {},
      }),
    );
    const error = `answer: ${'the provider said no '.repeat(20)}`.slice(0, 301);
    let [largest, started, groups, blocks] = [0, 0, 0, 0];
    // As the workflow does (src/workflows/dataset.ts fanOut): a block when the next group needs
    // one, then groups of 50; each group's dialogues fail, so failures pile up too.
    while (run.toStart > 0) {
      if (run.needsBlock(50)) {
        const block = stored.rangesOutside(run.state.scannedTo, 1000);
        run.addBlock(block.ranges, block.next);
        blocks++;
        continue;
      }
      const indices = run.takeNext(50);
      assert.ok(
        indices.every((i) => !stored.has(i)),
        'only dialogues not stored',
      );
      started += indices.length;
      const id = `${run.datasetId}/${indices[0]}-${indices.at(-1)}`;
      run.started(id, indices);
      if (++groups % 100 === 0) largest = Math.max(largest, sizeOf(run.state));
      run.settle({
        id,
        outcomes: indices.map((index) => ({ index, id: `${run.datasetId}/${index}`, error })),
      });
    }
    assert.equal(started, MILLION / 2);
    assert.equal(blocks, 500);
    assert.equal(run.state.failedCount, MILLION / 2);
    assert.equal(run.state.failures.length, 1000);
    assert.equal(run.hasWork, false);
    // The 1,000 failure details (at the longest error a dialogue reports, 300 characters) are
    // most of it; the set of stored dialogues is none of it.
    assert.ok(largest < 512 * KB, `largest state: ${largest} bytes`);
    const { failures: _, ...rest } = run.state;
    assert.ok(sizeOf(rest) < 32 * KB, `without failures: ${sizeOf(rest)} bytes`);
  });
});

describe('the export of a dataset of 1,000,000 stopped after a few hundred', () => {
  it('returns the missing as a count, the first 100 and missing.json, which lists them all', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-large-export-'));
    const output = pathToFileURL(dir).href;
    const activities = createDatasetStorageActivities(TEST_ROOTS);
    const env = new MockActivityEnvironment();
    const usage = { promptTokens: 1, completionTokens: 1, calls: 1 };
    const metrics = new DatasetMetricsAccumulator();
    // 300 dialogues stored, every other one of the first 600: scattered missing below, all missing above.
    for (let index = 0; index < 600; index += 2) {
      const record: DialogueRecord = testRecord(index, {
        datasetId: 'big',
        usage: { ask: usage, answer: usage },
      });
      await env.run(() => activities.storeDialogue({ output, record }));
      metrics.add(record);
    }
    const result: DatasetExport = await env.run(() =>
      activities.exportDataset({
        datasetId: 'big',
        lineage: [{ datasetId: 'big', runId: 'run-1' }],
        output,
        count: MILLION,
        input: { ...input, output },
        usage: { ask: usage, answer: usage },
        failures: [],
        batches: [],
      }),
    );
    assert.equal(result.exported, 300);
    assert.equal(result.missing.count, MILLION - 300);
    assert.deepEqual(result.missing.first.slice(0, 3), [1, 3, 5]);
    assert.equal(result.missing.first.length, 100);
    assert.ok(sizeOf(result) < 16 * KB, `the export's result: ${sizeOf(result)} bytes`);
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'missing.json'), 'utf8')) as MissingFile;
    assert.equal(result.missing.uri, `${output}/missing.json`);
    assert.equal(file.count, MILLION - 300);
    assert.equal(countOf(file.ranges), MILLION - 300);
    assert.equal(file.ranges.length, 300);
    assert.deepEqual(file.ranges.at(-1), [599, MILLION - 1]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.missing, result.missing);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
