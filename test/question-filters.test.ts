// The question filters in a dialogue: rejected, asked again, counted (on hand-made questions:
// test/unit/question-filters.test.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { recordKey } from '../src/storage/dataset-layout';
import { RE_ASK_TEMPERATURE } from '../src/workflows/dialogue';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDatasetInput, fakeRole } from './helpers/inputs';
import { runDataset } from './helpers/temporal';

describe('question filters in a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('filters');

  it('asks again after an assistant-like question, counts the hit, and ends a dialogue whose questions never pass with the turns it paid for', async () => {
    // The first ask of the run is answered with assistant-speak once; the retry passes.
    const input = (name: string, count: number) =>
      fakeDatasetInput(path.join(s.outDir, name), {
        count,
        turns: 2,
        concurrency: 1,
        ask: { ...fakeRole(), maxQuestionTries: 3 },
      });
    s.fake.replyNext('As an AI language model, I am happy to help! Is there anything else?');
    const ok = await runDataset(s.t, 'filters-ok', input('ok', 1));
    assert.equal(ok.completed, 1);
    assert.deepEqual(ok.metrics!.questionFilterHits, { assistantSpeak: 1 });
    assert.equal(ok.usage.ask.calls, 2, 'the rejected question was a call too');

    s.fake.replyNext('ok', 3);
    const bad = await runDataset(s.t, 'filters-bad', input('bad', 1));
    assert.deepEqual(
      {
        completed: bad.completed,
        failed: bad.failedCount,
        askCalls: bad.usage.ask.calls,
        answerCalls: bad.usage.answer.calls,
      },
      { completed: 1, failed: 0, askCalls: 3, answerCalls: 1 },
    );
    assert.deepEqual(bad.metrics!.dialoguesEndedBy, { filtered: 1 });
    assert.deepEqual(bad.metrics!.questionFilterHits, { tooShort: 3 });
    const record = JSON.parse(fs.readFileSync(path.join(s.outDir, 'bad', recordKey(0)), 'utf8'));
    assert.deepEqual(
      {
        turns: record.turns,
        endedBy: record.endedBy,
        from: record.conversations.map((c: { from: string }) => c.from),
      },
      { turns: 1, endedBy: 'filtered', from: ['human', 'gpt'] },
    );
  });

  it('re-asks a greedy, seeded ask model with sampling and the next seed, so the retry can differ', async () => {
    s.fake.replyNext('As an AI language model, I am happy to help! Is there anything else?');
    const before = s.fake.requests.length;
    const result = await runDataset(
      s.t,
      'filters-greedy',
      fakeDatasetInput(path.join(s.outDir, 'greedy'), {
        count: 1,
        turns: 2,
        ask: { ...fakeRole(), temperature: 0, seed: 5 },
      }),
    );
    assert.deepEqual(result.metrics!.questionFilterHits, { assistantSpeak: 1 });
    const asks = s.fake.requests
      .slice(before)
      .filter((r) => r.body.seed !== undefined)
      .map((r) => ({ temperature: r.body.temperature, seed: r.body.seed }));
    assert.deepEqual(asks, [
      { temperature: 0, seed: 5 },
      { temperature: RE_ASK_TEMPERATURE, seed: 6 },
    ]);
  });
});
