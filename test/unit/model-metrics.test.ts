// Model metrics: topic diversity and shifts from embeddings, context-dependence from a judge —
// the math on hand-made vectors (a dataset run: test/model-metrics.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contextJudgeMessages, judgeContextDependence, topicMetrics } from '../../src/metrics/model-metrics';
import type { BlobStore } from '../../src/storage/blob-store';
import { recordKey } from '../../src/storage/dataset-layout';
import { sampleDatasetRecords } from '../../src/storage/dialogue-records';
import { openBlobStore } from '../../src/storage/open-blob-store';
import { parseJudgeVerdict } from '../../src/prompts/context-judge';
import { ApplicationFailure } from '@temporalio/common';
import { withLocalRetries } from '../../src/activities/metrics';
import type { DialogueRecord } from '../../src/types';
import { testRecord } from '../helpers/dialogue-records';

const record = (questions: string[]): DialogueRecord =>
  testRecord(0, {
    conversations: questions.flatMap((q, i) => [
      { from: 'human' as const, value: q },
      { from: 'gpt' as const, value: `answer ${i}` },
    ]),
  });

describe('model metrics', () => {
  it('computes topic similarity across dialogues and counts shifts below the threshold', () => {
    // Dialogue A drifts from x to y; B stays on y. Cross-dialogue cosines: 0, 0, .0995, .0995, 1, 1.
    const a = [
      [1, 0],
      [1, 0.1],
      [0, 1],
    ];
    const b = [
      [0, 1],
      [0, 1],
    ];
    const m = topicMetrics([a, b]);
    assert.equal(m.topicSimilarity, 0.367);
    assert.equal(m.topicShiftThreshold, 0.367, 'by default, the cross-dialogue mean');
    assert.equal(m.topicShiftsPerDialogue, 0.5, 'one shift (A: x → y) in two dialogues');
    assert.equal(m.embeddedQuestions, 5);
    assert.equal(topicMetrics([a, b], 0.05).topicShiftsPerDialogue, 0, 'a lower threshold counts no shift');
  });

  it("samples a dataset's stored records uniformly and repeatably, reading about as many as it keeps", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-sample-'));
    try {
      const store = openBlobStore(pathToFileURL(dir).href);
      // 1,000 dialogues, every tenth never stored, and 5 written by another dataset.
      for (let i = 0; i < 1000; i++) {
        if (i % 10 === 9) continue;
        const r = { ...record([`q${i}`]), index: i, datasetId: i < 5 ? 'other' : 'd' };
        await store.put(recordKey(i), JSON.stringify(r));
      }
      const lineage = [{ datasetId: 'd', runId: 'run-1' }];
      let reads = 0;
      const counting: BlobStore = Object.assign(Object.create(store) as BlobStore, {
        get: (key: string) => (reads++, store.get(key)),
      });
      const pick = async (seed: number, size = 10) =>
        (await sampleDatasetRecords(counting, lineage, 1000, size, seed)).map((r) => r.index);
      const first = await pick(1);
      assert.ok(reads <= 32, `read ${reads} records for a sample of 10`);
      assert.deepEqual(await pick(1), first);
      assert.equal(new Set(first).size, 10);
      assert.ok(
        first.every((i) => i % 10 !== 9 && i >= 5),
        'only stored records of the lineage',
      );
      assert.notDeepEqual(await pick(2), first);
      assert.ok(
        (await pick(3, 100)).some((i) => i >= 500),
        'later records get in too',
      );
      assert.equal((await pick(1, 5000)).length, 895, 'all of them when fewer than asked');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks the judge about each question after the first, with the turns before it', async () => {
    assert.equal(parseJudgeVerdict('No.'), 'dependent');
    assert.equal(parseJudgeVerdict('**Yes**, it stands alone'), 'standalone');
    assert.equal(parseJudgeVerdict('Maybe'), undefined);
    const r = record(['How do I sort a list in Python?', 'And in reverse?', 'What is the capital of Peru?']);
    const msg = contextJudgeMessages(r, 1)[0].content;
    assert.match(
      msg,
      /^User: How do I sort a list in Python\?\n\nAssistant: answer 0\n\n---\nThe user's latest message: And in reverse\?/,
    );
    const seen: string[] = [];
    const m = await judgeContextDependence([r], async (messages) => {
      const q = /latest message: (.*)/.exec(messages[0].content)![1];
      seen.push(q);
      return q.startsWith('And') ? 'no' : q.includes('Peru') ? 'yes' : 'hmm';
    });
    assert.deepEqual(seen.sort(), ['And in reverse?', 'What is the capital of Peru?']);
    assert.deepEqual(m, {
      contextDependentQuestionsPerDialogueJudge: 1,
      judgedDialogues: 1,
      judgeUnclearReplies: 0,
    });
    const mumbling = await judgeContextDependence([r], async () => 'The user: hey there!');
    assert.deepEqual(
      mumbling,
      { contextDependentQuestionsPerDialogueJudge: undefined, judgedDialogues: 1, judgeUnclearReplies: 2 },
      'no clear verdict: no number',
    );
  });

  it('retries a model call in place: after a 429 its Retry-After, never a permanent error', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    let calls = 0;
    const flaky = async () => {
      if (++calls === 1)
        throw ApplicationFailure.create({ message: '429', type: 'RateLimited', nextRetryDelay: 2500 });
      if (calls === 2) throw new Error('connection reset');
      return 'ok';
    };
    assert.equal(await withLocalRetries(flaky, 5, sleep), 'ok');
    assert.deepEqual(waits, [2500, 2000]);
    let permanent = 0;
    await assert.rejects(
      withLocalRetries(
        async () => {
          permanent++;
          throw ApplicationFailure.nonRetryable('401', 'Http401');
        },
        5,
        sleep,
      ),
      /401/,
    );
    assert.equal(permanent, 1);
    let always = 0;
    await assert.rejects(
      withLocalRetries(
        async () => {
          always++;
          throw new Error('down');
        },
        3,
        sleep,
      ),
      /down/,
    );
    assert.equal(always, 3);
  });
});
