// Parrot's dialogue measures on small hand-made inputs whose answers are known.
import assert from 'node:assert/strict';
import { isContextDependent, mtld, rougeL, selfRougeL } from '../../src/metrics/dialogue-metrics';
import { estimatedJaccard, minhash, NearDuplicateFinder } from '../../src/metrics/near-duplicates';
import { DatasetMetricsAccumulator } from '../../src/metrics/dataset-metrics';
import { words } from '../../src/metrics/text-metrics';
import type { DialogueRecord } from '../../src/types';
import { testRecord, turns } from '../helpers/dialogue-records';

describe('dialogue metrics', () => {
  it('tells questions that lean on earlier turns from self-contained ones', () => {
    for (const q of [
      'And in Python?',
      'What about the second one?',
      'Why does it fail?',
      'Can you give me an example?',
      'Is that faster?',
      'How do those compare?',
    ]) {
      assert.equal(isContextDependent(q), true, q);
    }
    for (const q of [
      'How do I reverse a list in Python?',
      'What is the capital of Peru?',
      'Explain how vaccines train the immune system.',
    ]) {
      assert.equal(isContextDependent(q), false, q);
    }
  });

  it('computes ROUGE-L F1 from the longest common subsequence', () => {
    assert.equal(rougeL(words('the cat sat'), words('the cat sat')), 1);
    assert.equal(rougeL(words('a b c d'), words('x y')), 0);
    // LCS("a b c d", "a c d e") = "a c d": P = R = 3/4.
    assert.equal(rougeL(words('a b c d'), words('a c d e')), 0.75);
    assert.equal(selfRougeL([words('a b c d'), words('a c d e')]), 75);
    assert.equal(selfRougeL([words('only one')]), undefined);
  });

  it('computes MTLD: one full factor per drop of the type-token ratio to 0.72', () => {
    // Forward: "a b a" drops the TTR to 0.67 (one factor), then "b c" (TTR 1) is a partial
    // factor of (1 − 1) / 0.28 = 0 → 5 / 1 = 5. Backward "c b a b a": 0.75 at the 4th token,
    // 0.6 at the 5th (one factor) → 5 / 1 = 5.
    assert.equal(mtld(words('a b a b c')), 5);
    assert.ok(
      mtld(words('one two three four five six seven eight'))! > mtld(words('go go go go go go go go'))!,
    );
    assert.equal(mtld([]), undefined);
  });

  it('finds a near-duplicate dialogue and not a different one', () => {
    const text = words(
      'how do I sort a list of numbers in python without changing the original list and keep it fast',
    );
    assert.equal(estimatedJaccard(minhash(text), minhash(text)), 1);
    const finder = new NearDuplicateFinder();
    finder.add(text);
    assert.equal(finder.duplicates, 0);
    finder.add(
      words(
        'how do I sort a list of numbers in python without changing the original list and keep it fast please',
      ),
    );
    assert.equal(finder.duplicates, 1, 'the first is nearly repeated by the second');
    finder.add(
      words('what were the causes of the french revolution and how did it change european politics'),
    );
    assert.equal(finder.duplicates, 1);
    assert.equal(finder.isExact, true);
  });

  it('adds them to the dataset metrics', () => {
    const record = (id: string, turns: [string, string][]): DialogueRecord =>
      testRecord(0, {
        id,
        conversations: turns.flatMap(([q, a]) => [
          { from: 'human' as const, value: q },
          { from: 'gpt' as const, value: a },
        ]),
      });
    const acc = new DatasetMetricsAccumulator();
    const first = record('1', [
      ['How do I reverse a list in Python?', 'Use reversed().'],
      ['And in JavaScript?', 'Use reverse().'],
      ['Is it in place?', 'Yes.'],
    ]);
    acc.add(first);
    acc.add({ ...first, id: '2' });
    const m = acc.result();
    assert.equal(m.contextDependentQuestionsPerDialogue, 2);
    assert.equal(m.nearDuplicateDialogues, 1);
    // Questions of 8, 3 and 4 words sharing only "in": ROUGE-L F 2/11, 2/12, 2/7, mean 0.2114.
    assert.equal(m.selfRougeLQuestions, 21.14);
    // 15 words, 13 types, TTR never down to 0.72 either way: one partial factor (2/15)/0.28, 15 / it = 31.5.
    assert.equal(m.mtldQuestions, 31.5);
    // Histograms for the report: turns by count, lengths (words here: no token counts) by bucket.
    assert.deepEqual(m.histograms.turns, { 3: 2 });
    assert.deepEqual(
      m.histograms.questionTokens,
      { '0–4': 4, '5–9': 2 },
      'the 7-word first question falls in 5–9',
    );
    assert.deepEqual(m.histograms.answerTokens, { '0–49': 6 });
    assert.deepEqual(m.dialoguesEndedBy, { target: 2 });
  });

  it('buckets lengths, the last bucket open, and sums generated tokens per dialogue', () => {
    const acc = new DatasetMetricsAccumulator();
    acc.add(
      testRecord(0, {
        endedBy: 'user-done',
        conversations: turns('seed question', ['a', 49], ['b', 7], ['c', 5000]),
      }),
    );
    const m = acc.result();
    assert.deepEqual(m.histograms.questionTokens, { '0–4': 1, '5–9': 1 });
    assert.deepEqual(m.histograms.answerTokens, { '0–49': 1, '1500+': 1 });
    assert.equal(m.generatedTokensPerDialogue, 5056);
    assert.deepEqual(m.dialoguesEndedBy, { 'user-done': 1 });
  });
});
