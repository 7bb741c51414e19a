// A dataset of the schema's 1,000,000 dialogues, stopped by its budget after a few hundred, then
// resumed: every payload in its histories stays far below Temporal's 2 MB limit, while the output
// lists every dialogue missing. FAKE LLM server; a real dev server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { countOf, firstOf } from '../src/index-ranges';
import { recordKey } from '../src/storage/dataset-layout';
import type { MissingFile } from '../src/storage/missing-dialogues';
import type { DatasetResult, DialogueRecord } from '../src/types';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { testRecord } from './helpers/dialogue-records';
import { emptyUsage } from '../src/usage';
import { payloadSizes } from './helpers/history-payloads';
import { fakeDatasetInput } from './helpers/inputs';
import { runDataset, startDataset } from './helpers/temporal';

const MILLION = 1_000_000;
/** Far below the 2 MB limit: what the old lists of indices passed at this count. */
const PAYLOAD_LIMIT = 256 * 1024;

describe('a dataset of 1,000,000 dialogues (fake LLM server)', () => {
  const s = useFakeLlmSuite('million');
  const input = (name: string, extra: Partial<DatasetInputJson> = {}): DatasetInputJson =>
    fakeDatasetInput(path.join(s.outDir, name), { count: MILLION, turns: 1, concurrency: 100, ...extra });

  /** A token budget that stops a dataset after about 300 dialogues, from a small dataset's usage. */
  let budget: { maxTokens: number };
  before(async () => {
    const probe = await runDataset(s.t, 'million-probe', input('probe', { count: 4 }));
    const { promptTokens, completionTokens } = probe.usage.answer;
    budget = { maxTokens: Math.round((300 * (promptTokens + completionTokens)) / 4) };
  });

  /** Runs a dataset to its end; asserts that its result and every payload of its runs stay under the limit. */
  async function runSmall(workflowId: string, args: DatasetInputJson): Promise<DatasetResult> {
    const handle = await startDataset(s.t, workflowId, args);
    const result = await handle.result();
    const sizes = await payloadSizes(s.t.env.client, workflowId, handle.firstExecutionRunId);
    const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    assert.ok(
      largest.bytes < PAYLOAD_LIMIT,
      `${workflowId}: ${largest.bytes} bytes in ${largest.event} (run ${largest.runId})`,
    );
    assert.ok(Buffer.byteLength(JSON.stringify(result)) < PAYLOAD_LIMIT);
    return result;
  }

  /** The stored records' indices, by the dataset that wrote them. */
  const recordsOf = (name: string): Map<string, number[]> => {
    const dir = path.join(s.outDir, name, 'records');
    const by = new Map<string, number[]>();
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const r = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as DialogueRecord;
      by.set(r.datasetId, [...(by.get(r.datasetId) ?? []), r.index]);
    }
    return by;
  };

  /** missing.json agrees with the result: every dialogue not exported, counted exactly. */
  function assertMissingListed(name: string, result: DatasetResult) {
    const file = JSON.parse(
      fs.readFileSync(path.join(s.outDir, name, 'missing.json'), 'utf8'),
    ) as MissingFile;
    assert.equal(result.export.missing.count, MILLION - result.export.exported);
    assert.equal(file.count, result.export.missing.count);
    assert.equal(countOf(file.ranges), file.count);
    assert.deepEqual(result.export.missing.first, firstOf(file.ranges, 100));
    const manifest = JSON.parse(fs.readFileSync(path.join(s.outDir, name, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.missing, result.export.missing);
  }

  it('stops at its budget after a few hundred, lists the rest as missing, and a resume runs only dialogues not stored', async () => {
    const first = await runSmall('million-a', input('budget', { budget }));
    assert.equal(first.stopped?.reason, 'budget');
    assert.ok(first.completed >= 100 && first.completed <= 1000, `${first.completed} completed`);
    assert.equal(first.failedCount, 0);
    assert.equal(first.export.exported, first.completed);
    assert.equal(first.stopped?.notStarted, MILLION - first.completed);
    assertMissingListed('budget', first);

    const second = await runSmall('million-b', input('budget', { budget, resumeFrom: 'million-a' }));
    assert.equal(second.reused, first.completed);
    assert.equal(second.stopped?.reason, 'budget');
    const records = recordsOf('budget');
    // None of the first dataset's dialogues ran again (its records would have been replaced).
    assert.equal(records.get('million-a')?.length, first.completed);
    assert.equal(records.get('million-b')?.length, second.completed - second.reused);
    assert.ok(second.completed - second.reused >= 100, `${second.completed - second.reused} ran`);
    assert.equal(second.export.exported, second.completed);
    assertMissingListed('budget', second);
  });

  it('resumes a dataset whose stored dialogues are scattered (every other one of the first 40,000) without carrying them', async () => {
    // An earlier dataset that stored the even indices below 40,000: as ranges, what the resume
    // used to carry in its history, 20,000 of them.
    const dir = path.join(s.outDir, 'scattered');
    const earlier = { datasetId: 'scattered-a', runId: 'run-a' };
    fs.mkdirSync(path.join(dir, 'records'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'lineage'));
    fs.writeFileSync(path.join(dir, 'lineage/scattered-a.json'), JSON.stringify([earlier]));
    fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(earlier));
    for (let index = 0; index < 40_000; index += 2)
      fs.writeFileSync(path.join(dir, recordKey(index)), JSON.stringify(storedRecord(earlier, index)));

    const resumed = await runSmall('scattered-b', input('scattered', { budget, resumeFrom: 'scattered-a' }));
    assert.equal(resumed.reused, 20_000);
    assert.equal(resumed.stopped?.reason, 'budget');
    const ran = recordsOf('scattered').get('scattered-b') ?? [];
    assert.ok(ran.length >= 100, `${ran.length} ran`);
    assert.equal(ran.length, resumed.completed - resumed.reused);
    // The odd indices from 1 on, in order: those the earlier dataset had not stored.
    assert.deepEqual(
      ran.sort((a, b) => a - b),
      range(0, ran.length - 1).map((k) => 2 * k + 1),
    );
    assertMissingListed('scattered', resumed);
  });
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

function storedRecord(dataset: { datasetId: string; runId: string }, index: number): DialogueRecord {
  return testRecord(index, {
    datasetId: dataset.datasetId,
    datasetRunId: dataset.runId,
    usage: { ask: emptyUsage(), answer: { promptTokens: 5, completionTokens: 2, calls: 1 } },
  });
}
