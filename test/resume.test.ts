// Resume: a dataset whose dialogues failed is started again with `resumeFrom`; only the failed
// and missing dialogues run again, and the export holds every dialogue once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { nextOutside, rangesFromSorted } from '../src/index-ranges';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-llm-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('index ranges', () => {
  it('compacts sorted indices and skips over them', () => {
    const r = rangesFromSorted([0, 1, 2, 5, 7, 8]);
    assert.deepEqual(r, [[0, 2], [5, 5], [7, 8]]);
    assert.deepEqual([0, 3, 5, 6, 7].map((i) => nextOutside(r, i)), [3, 3, 6, 6, 9]);
  });
});

describe('resuming a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('resume');
  const { t, outDir } = s;

  const input = (extra: Partial<DatasetInputJson> = {}): DatasetInputJson => ({
    count: 6, turns: 2, concurrency: 1, output: pathToFileURL(outDir).href,
    ask: { endpoint: 'fake', model: FAKE_MODEL }, answer: { endpoint: 'fake', model: FAKE_MODEL }, ...extra,
  });
  const run = (workflowId: string, args: DatasetInputJson) =>
    t.env.client.workflow.execute(generateDataset, { taskQueue: t.taskQueue, workflowId, args: [args] });

  it('redoes only the failed dialogues and exports every dialogue exactly once', async () => {
    // The provider rejects the first two dialogues' first calls for good (401).
    s.fake.failNext({ status: 401, message: 'key revoked' }, 2);
    const first = await run('resume-a', input());
    assert.equal(first.completed, 4);
    assert.deepEqual(first.failed.map((f) => f.index), [0, 1]);
    assert.equal(first.export.exported, 4);

    const requestsBefore = s.fake.requests.length;
    const second = await run('resume-b', input({ resumeFrom: 'resume-a' }));
    assert.equal(second.completed, 6);
    assert.equal(second.reused, 4);
    assert.equal(second.failedCount, 0);
    // Two dialogues of 2 turns: 2 answers + 1 question each, and nothing else.
    assert.equal(s.fake.requests.length - requestsBefore, 6);

    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.datasetId, 'resume-b');
    assert.deepEqual(manifest.resumed, ['resume-a']);
    assert.equal(manifest.exported, 6);
    assert.deepEqual(manifest.missing, []);
    const rows = fs.readFileSync(path.join(outDir, 'data/part-00000.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.id), ['resume-b/0', 'resume-b/1', 'resume-a/2', 'resume-a/3', 'resume-a/4', 'resume-a/5']);
    // Usage counts the whole dataset: 6 dialogues × 2 answers.
    assert.equal(second.usage.answer.calls, 12);
  });

  it('fails at once, naming resumeFrom, when the earlier dataset is unknown at that output', async () => {
    await assert.rejects(run('resume-c', input({ resumeFrom: 'never-ran' })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure);
      const failure = err.cause.cause;
      assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable);
      assert.match(failure.message, /resumeFrom: no dataset 'never-ran'/);
      return true;
    });
  });
});
