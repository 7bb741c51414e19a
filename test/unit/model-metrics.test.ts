// Model metrics: topic diversity and shifts from embeddings, context-dependence from a judge —
// the math on hand-made vectors (a dataset run: test/model-metrics.test.ts).
import assert from 'node:assert/strict';
import {
  contextJudgeMessages,
  judgeContextDependence,
  Reservoir,
  topicMetrics,
} from '../../src/metrics/model-metrics';
import { parseJudgeVerdict } from '../../src/prompts/context-judge';
import { ApplicationFailure } from '@temporalio/common';
import { withLocalRetries } from '../../src/activities/metrics';
import type { DialogueRecord } from '../../src/types';

const record = (questions: string[]): DialogueRecord => ({
  id: 'd/0',
  datasetId: 'd',
  datasetRunId: 'r',
  index: 0,
  seed: questions[0],
  turns: questions.length,
  models: { ask: 'a', answer: 'b' },
  usage: {
    ask: { promptTokens: 0, completionTokens: 0, calls: 0 },
    answer: { promptTokens: 0, completionTokens: 0, calls: 0 },
  },
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

  it('samples uniformly and repeatably (reservoir)', () => {
    const pick = (seed: number) => {
      const r = new Reservoir<number>(10, seed);
      for (let i = 0; i < 1000; i++) r.add(i);
      return r.items;
    };
    assert.deepEqual(pick(1), pick(1));
    assert.equal(pick(1).length, 10);
    assert.notDeepEqual(pick(1), pick(2));
    assert.ok(
      pick(1).some((i) => i >= 500),
      'later items get in too',
    );
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
