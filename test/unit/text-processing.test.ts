// Unit tests of the pure text pieces: question cleaning, distinct-n, seed parsing and order.
import { testRecord, turns } from '../helpers/dialogue-records';
import assert from 'node:assert/strict';
import { DatasetMetricsAccumulator } from '../../src/metrics/dataset-metrics';
import { DistinctNgrams, words } from '../../src/metrics/text-metrics';
import { cleanUserReply, promptedUserMessages } from '../../src/prompts/prompted-user';

describe('prompted user', () => {
  it('shows the dialogue, then appends the instruction after it', () => {
    const [m] = promptedUserMessages([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello!' },
    ]);
    assert.equal(m.role, 'user');
    assert.match(m.content, /^User: hi\n\nAssistant: hello!\n\n---\nAbove is a conversation/);
  });

  const cases: [string, string][] = [
    ['User: "What about the second one?"', 'What about the second one?'],
    ['**Human:** and in Python?', 'and in Python?'],
    ['“Can you show an example?”', 'Can you show an example?'],
    ['Follow-up question: why?\nAssistant: Because...', 'why?'],
    ['The user: Hey there! How do I start?', 'Hey there! How do I start?'],
    ['how does that scale?', 'how does that scale?'],
    ['User: ""', ''],
  ];
  for (const [raw, clean] of cases) {
    it(`cleans ${JSON.stringify(raw)}`, () => assert.equal(cleanUserReply(raw), clean));
  }
});

describe('text metrics', () => {
  it('tokenizes words in lowercase, keeping contractions', () => {
    assert.deepEqual(words("What's 2 + 2? It's FOUR."), ["what's", '2', '2', "it's", 'four']);
  });
  it('computes distinct-1 and distinct-2 over everything added', () => {
    const d = new DistinctNgrams(2);
    d.add(['a', 'b', 'a', 'b']); // unigrams a,b,a,b; bigrams ab,ba,ab
    d.add(['c']);
    assert.equal(d.distinct(1), 3 / 5);
    assert.equal(d.distinct(2), 2 / 3);
  });
  it('accumulates dataset metrics over records', () => {
    const m = new DatasetMetricsAccumulator();
    m.add(
      testRecord(0, {
        conversations: turns('q one', ['a b c', 4]),
      }),
    );
    m.add(
      testRecord(1, {
        conversations: turns('q', ['a', 2], ['q two', 3], ['b', 1]),
      }),
    );
    const r = m.result();
    assert.deepEqual(
      {
        d: r.dialogues,
        t: r.turnsPerDialogue,
        tq: r.tokensPerQuestion,
        ta: r.tokensPerAnswer,
        wq: r.wordsPerQuestion,
        d1q: r.distinct1Questions,
      },
      { d: 2, t: 1.5, tq: 3, ta: 2.333, wq: 1.667, d1q: 0.6 },
    );
  });
});
