// Model metrics in a dataset run against the FAKE LLM server's endpoints (the math on hand-made
// vectors: test/unit/model-metrics.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { questionsOf, Reservoir, topicMetrics } from '../src/metrics/model-metrics';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { generateDataset } from '../src/workflows';
import { FAKE_JUDGE_REFERS_BACK, FAKE_MODEL, fakeEmbedding } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('model metrics', () => {
  describe('in a dataset (fake LLM server)', () => {
    const s = useFakeLlmSuite('model-metrics');

    it('embeds the sampled questions and judges them through the endpoints named in the input', async () => {
      const output = path.join(s.outDir, 'run');
      const result = await s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue,
        workflowId: 'model-metrics',
        args: [
          {
            count: 6,
            turns: 4,
            output: pathToFileURL(output).href,
            ask: { endpoint: 'fake', model: FAKE_MODEL },
            answer: { endpoint: 'fake', model: FAKE_MODEL },
            metrics: {
              embeddings: { endpoint: 'fake', model: 'fake-embed' },
              judge: { endpoint: 'fake', model: FAKE_MODEL, sampleDialogues: 4 },
            },
          },
        ],
      });
      const m = result.metrics;
      assert.equal(m.embeddedQuestions, 24, 'all 6 dialogues × 4 questions (fewer than the sample size)');
      assert.ok(s.fake.requests.some((r) => r.path === '/v1/embeddings' && r.body.model === 'fake-embed'));
      const records: DialogueRecord[] = Array.from({ length: 6 }, (_, i) =>
        JSON.parse(fs.readFileSync(path.join(output, recordKey(i)), 'utf8')),
      );
      // The fake's embeddings are a pure function of the text: the metrics over the same vectors are exact.
      const topics = topicMetrics(records.map((r) => questionsOf(r).map(fakeEmbedding)));
      assert.ok(topics.topicSimilarity > 0 && topics.topicSimilarity < 1, 'neither all alike nor all apart');
      assert.deepEqual(
        { similarity: m.topicSimilarity, shifts: m.topicShiftsPerDialogue },
        { similarity: topics.topicSimilarity, shifts: topics.topicShiftsPerDialogue },
      );
      // The fake judge says "no" to questions that refer back; the 4 judged dialogues are the seeded
      // sample the activity draws (seed 0, records in index order).
      assert.equal(m.judgedDialogues, 4);
      assert.equal(m.judgeUnclearReplies, 0);
      const sample = new Reservoir<DialogueRecord>(4, 0 ^ 0x6a7564);
      records.forEach((r) => sample.add(r));
      const referBack = sample.items.map(
        (r) =>
          questionsOf(r)
            .slice(1)
            .filter((q) => FAKE_JUDGE_REFERS_BACK.test(q)).length,
      );
      assert.ok(
        referBack.some((n) => n > 0),
        `some questions refer back: ${referBack.join(',')}`,
      );
      assert.equal(
        m.contextDependentQuestionsPerDialogueJudge,
        Math.round((referBack.reduce((a, b) => a + b, 0) / 4) * 1000) / 1000,
      );
      assert.doesNotMatch(
        fs.readFileSync(path.join(output, 'report.html'), 'utf8'),
        /<td class="ours">–<\/td>/,
        'every metric of ours is in the report',
      );
    });

    it('fails at once, naming the field, when a metrics endpoint is unknown to the workers', async () => {
      const result = s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue,
        workflowId: 'model-metrics-unknown',
        args: [
          {
            count: 1,
            turns: 1,
            output: pathToFileURL(path.join(s.outDir, 'bad')).href,
            ask: { endpoint: 'fake', model: FAKE_MODEL },
            answer: { endpoint: 'fake', model: FAKE_MODEL },
            metrics: { embeddings: { endpoint: 'nowhere', model: 'x' } },
          },
        ],
      });
      await assert.rejects(result, (err: Error) =>
        /metrics\.embeddings\.endpoint: unknown endpoint 'nowhere'/.test(
          String((err as { cause?: { cause?: Error } }).cause?.cause?.message ?? err.message),
        ),
      );
    });
  });
});
