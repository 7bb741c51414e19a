// Model metrics: topic diversity and shifts from embeddings, context-dependence from a judge —
// the math on hand-made vectors, then a dataset run against the FAKE LLM server's endpoints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contextJudgeMessages, judgeContextDependence, questionsOf, Reservoir, topicMetrics } from '../src/metrics/model-metrics';
import { parseJudgeVerdict } from '../src/prompts/context-judge';
import { recordKey } from '../src/storage/dataset-layout';
import { ApplicationFailure } from '@temporalio/common';
import { withLocalRetries } from '../src/activities/metrics';
import type { DialogueRecord } from '../src/types';
import { generateDataset } from '../src/workflows';
import { FAKE_JUDGE_REFERS_BACK, FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

const record = (questions: string[]): DialogueRecord => ({
  id: 'd/0', datasetId: 'd', datasetRunId: 'r', index: 0, seed: questions[0], turns: questions.length, models: { ask: 'a', answer: 'b' },
  usage: { ask: { promptTokens: 0, completionTokens: 0, calls: 0 }, answer: { promptTokens: 0, completionTokens: 0, calls: 0 } },
  conversations: questions.flatMap((q, i) => [{ from: 'human' as const, value: q }, { from: 'gpt' as const, value: `answer ${i}` }]),
});

describe('model metrics', () => {
  it('computes topic similarity across dialogues and counts shifts below the threshold', () => {
    // Dialogue A drifts from x to y; B stays on y. Cross-dialogue cosines: 0, 0, .0995, .0995, 1, 1.
    const a = [[1, 0], [1, 0.1], [0, 1]];
    const b = [[0, 1], [0, 1]];
    const m = topicMetrics([a, b]);
    assert.equal(m.topicSimilarity, 0.367);
    assert.equal(m.topicShiftThreshold, 0.367, 'by default, the cross-dialogue mean');
    assert.equal(m.topicShiftsPerDialogue, 0.5, 'one shift (A: x → y) in two dialogues');
    assert.equal(m.embeddedQuestions, 5);
    assert.equal(topicMetrics([a, b], 0.05).topicShiftsPerDialogue, 0, 'a lower threshold counts no shift');
  });

  it('samples uniformly and repeatably (reservoir)', () => {
    const pick = (seed: number) => { const r = new Reservoir<number>(10, seed); for (let i = 0; i < 1000; i++) r.add(i); return r.items; };
    assert.deepEqual(pick(1), pick(1));
    assert.equal(pick(1).length, 10);
    assert.notDeepEqual(pick(1), pick(2));
    assert.ok(pick(1).some((i) => i >= 500), 'later items get in too');
    const all = new Reservoir<number>(10, 1);
    [1, 2, 3].forEach((i) => all.add(i));
    assert.deepEqual(all.items, [1, 2, 3]);
  });

  it('asks the judge about each question after the first, with the turns before it', async () => {
    assert.equal(parseJudgeVerdict('No.'), 'dependent');
    assert.equal(parseJudgeVerdict('**Yes**, it stands alone'), 'standalone');
    assert.equal(parseJudgeVerdict('Maybe'), undefined);
    const r = record(['How do I sort a list in Python?', 'And in reverse?', 'What is the capital of Peru?']);
    const msg = contextJudgeMessages(r, 1)[0].content;
    assert.match(msg, /^User: How do I sort a list in Python\?\n\nAssistant: answer 0\n\n---\nThe user's latest message: And in reverse\?/);
    const seen: string[] = [];
    const m = await judgeContextDependence([r], async (messages) => {
      const q = /latest message: (.*)/.exec(messages[0].content)![1];
      seen.push(q);
      return q.startsWith('And') ? 'no' : q.includes('Peru') ? 'yes' : 'hmm';
    });
    assert.deepEqual(seen.sort(), ['And in reverse?', 'What is the capital of Peru?']);
    assert.deepEqual(m, { contextDependentQuestionsPerDialogueJudge: 1, judgedDialogues: 1, judgeUnclearReplies: 0 });
    const mumbling = await judgeContextDependence([r], async () => 'The user: hey there!');
    assert.deepEqual(mumbling, { contextDependentQuestionsPerDialogueJudge: undefined, judgedDialogues: 1, judgeUnclearReplies: 2 }, 'no clear verdict: no number');
  });

  it('retries a model call in place: after a 429 its Retry-After, never a permanent error', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => { waits.push(ms); };
    let calls = 0;
    const flaky = async () => {
      if (++calls === 1) throw ApplicationFailure.create({ message: '429', type: 'RateLimited', nextRetryDelay: 2500 });
      if (calls === 2) throw new Error('connection reset');
      return 'ok';
    };
    assert.equal(await withLocalRetries(flaky, 5, sleep), 'ok');
    assert.deepEqual(waits, [2500, 2000]);
    let permanent = 0;
    await assert.rejects(withLocalRetries(async () => { permanent++; throw ApplicationFailure.nonRetryable('401', 'Http401'); }, 5, sleep), /401/);
    assert.equal(permanent, 1);
    let always = 0;
    await assert.rejects(withLocalRetries(async () => { always++; throw new Error('down'); }, 3, sleep), /down/);
    assert.equal(always, 3);
  });

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
