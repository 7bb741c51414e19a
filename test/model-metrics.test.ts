// Model metrics in a dataset run against the FAKE LLM server's endpoints (the math on hand-made
// vectors: test/unit/model-metrics.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { questionsOf } from '../src/metrics/model-metrics';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { generateDataset } from '../src/workflows';
import { FAKE_JUDGE_REFERS_BACK, FAKE_MODEL } from './helpers/fake-llm-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('model metrics', () => {
  describe('in a dataset (fake LLM server)', () => {
    const s = useFakeLlmSuite('model-metrics');

    it('embeds the sampled questions and judges them through the endpoints named in the input', async () => {
      const output = path.join(s.outDir, 'run');
      const result = await s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue, workflowId: 'model-metrics',
        args: [{
          count: 6, turns: 4, output: pathToFileURL(output).href, ask: { endpoint: 'fake', model: FAKE_MODEL }, answer: { endpoint: 'fake', model: FAKE_MODEL },
          metrics: { embeddings: { endpoint: 'fake', model: 'fake-embed' }, judge: { endpoint: 'fake', model: FAKE_MODEL, sampleDialogues: 4 } },
        }],
      });
      const m = result.metrics;
      assert.equal(m.embeddedQuestions, 24, 'all 6 dialogues × 4 questions (fewer than the sample size)');
      assert.ok(m.topicSimilarity! > 0 && m.topicSimilarity! < 1, String(m.topicSimilarity));
      assert.ok(m.topicShiftsPerDialogue! >= 0 && m.topicShiftsPerDialogue! <= 3);
      assert.ok(s.fake.requests.some((r) => r.path === '/v1/embeddings' && r.body.model === 'fake-embed'));
      // The fake judge says "no" to questions that refer back: the mean over the 4 sampled dialogues
      // lies between the fewest and the most such questions any dialogue has.
      assert.equal(m.judgedDialogues, 4);
      assert.equal(m.judgeUnclearReplies, 0);
      const perDialogue = Array.from({ length: 6 }, (_, i) => {
        const r: DialogueRecord = JSON.parse(fs.readFileSync(path.join(output, recordKey(i)), 'utf8'));
        return questionsOf(r).slice(1).filter((q) => FAKE_JUDGE_REFERS_BACK.test(q)).length;
      });
      assert.ok(m.contextDependentQuestionsPerDialogueJudge! >= Math.min(...perDialogue) && m.contextDependentQuestionsPerDialogueJudge! <= Math.max(...perDialogue));
      assert.ok(m.contextDependentQuestionsPerDialogueJudge! > 0);
      assert.doesNotMatch(fs.readFileSync(path.join(output, 'report.html'), 'utf8'), /<td class="ours">–<\/td>/, 'every metric of ours is in the report');
    });

    it('fails at once, naming the field, when a metrics endpoint is unknown to the workers', async () => {
      const result = s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue, workflowId: 'model-metrics-unknown',
        args: [{ count: 1, turns: 1, output: pathToFileURL(path.join(s.outDir, 'bad')).href, ask: { endpoint: 'fake', model: FAKE_MODEL }, answer: { endpoint: 'fake', model: FAKE_MODEL }, metrics: { embeddings: { endpoint: 'nowhere', model: 'x' } } }],
      });
      await assert.rejects(result, (err: Error) => /metrics\.embeddings\.endpoint: unknown endpoint 'nowhere'/.test(String((err as { cause?: { cause?: Error } }).cause?.cause?.message ?? err.message)));
    });
  });
});
