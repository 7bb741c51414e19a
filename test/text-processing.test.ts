// Unit tests of the pure text pieces: question cleaning, distinct-n, seed parsing and order.
import assert from 'node:assert/strict';
import { DatasetMetricsAccumulator } from '../src/metrics/dataset-metrics';
import { DistinctNgrams, words } from '../src/metrics/text-metrics';
import { cleanUserReply, promptedUserMessages } from '../src/prompts/prompted-user';
import { parseSeeds, seedFormatOf, SeedSource } from '../src/seeds/seed-source';

describe('prompted user', () => {
  it('shows the dialogue, then appends the instruction after it', () => {
    const [m] = promptedUserMessages([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello!' }]);
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
    const usage = { promptTokens: 0, completionTokens: 0, calls: 0 };
    m.add({ id: 'd/0', datasetId: 'd', datasetRunId: 'r', index: 0, seed: 'q one', turns: 1, usage: { ask: usage, answer: usage }, models: { ask: 'x', answer: 'y' },
      conversations: [{ from: 'human', value: 'q one' }, { from: 'gpt', value: 'a b c', tokens: 4 }] });
    m.add({ id: 'd/1', datasetId: 'd', datasetRunId: 'r', index: 1, seed: 'q', turns: 2, usage: { ask: usage, answer: usage }, models: { ask: 'x', answer: 'y' },
      conversations: [{ from: 'human', value: 'q' }, { from: 'gpt', value: 'a', tokens: 2 }, { from: 'human', value: 'q two', tokens: 3 }, { from: 'gpt', value: 'b', tokens: 1 }] });
    const r = m.result();
    assert.deepEqual(
      { d: r.dialogues, t: r.turnsPerDialogue, tq: r.tokensPerQuestion, ta: r.tokensPerAnswer, wq: r.wordsPerQuestion, d1q: r.distinct1Questions },
      { d: 2, t: 1.5, tq: 3, ta: 2.333, wq: 1.667, d1q: 0.6 },
    );
  });
});

describe('seeds', () => {
  it('reads plain text and the first human turn of ShareGPT JSONL', () => {
    assert.deepEqual(parseSeeds('  one \n\ntwo\n', 'text').seeds, ['one', 'two']);
    const jsonl = [
      JSON.stringify({ conversations: [{ from: 'system', value: 's' }, { from: 'human', value: 'first?' }, { from: 'gpt', value: 'a' }] }),
      JSON.stringify({ conversations: [{ from: 'gpt', value: 'no human' }] }),
    ].join('\n');
    assert.deepEqual(parseSeeds(jsonl, 'jsonl').seeds, ['first?']);
  });
  it('skips and reports malformed JSONL lines by number, keeping the rest', () => {
    const jsonl = ['{"conversations":[{"from":"human","value":"ok?"}]}', '{not json', '', '{"conversations":[]}', '{"conversations":[{"from":"human","value":"also?"}]}'].join('\n');
    const { seeds, skipped } = parseSeeds(jsonl, 'jsonl');
    assert.deepEqual(seeds, ['ok?', 'also?']);
    assert.deepEqual(skipped.map((s) => s.line), [2, 4]);
    assert.match(skipped[0].reason, /not JSON/);
    assert.match(skipped[1].reason, /first user turn/);
  });
  it('reads UltraChat and OpenAI-messages JSONL, a ShareGPT JSON array, and a CSV column', () => {
    const jsonl = [JSON.stringify({ id: '1', data: ['ultra?', 'answer'] }), JSON.stringify({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'openai?' }] })].join('\n');
    assert.deepEqual(parseSeeds(jsonl, 'jsonl').seeds, ['ultra?', 'openai?']);
    const json = JSON.stringify([{ conversations: [{ from: 'human', value: 'share?' }] }, { nothing: true }]);
    assert.deepEqual(parseSeeds(json, 'json'), { seeds: ['share?'], skipped: [{ line: 2, reason: 'item 2: no first user turn (ShareGPT "conversations", UltraChat "data" or OpenAI "messages")' }] });
    const csv = 'id,prompt\n1,"Why is the sky blue, really?"\n2,\n3,How do magnets work?\n';
    assert.deepEqual(parseSeeds(csv, 'csv', 'prompt').seeds, ['Why is the sky blue, really?', 'How do magnets work?']);
    assert.deepEqual(parseSeeds(csv, 'csv', 'prompt').skipped.map((x) => x.line), [3]);
    assert.deepEqual(parseSeeds(csv, 'csv').seeds, ['1', '2', '3'], 'the first column by default');
    assert.equal(seedFormatOf('s3://b/k/seeds.csv#prompt'), 'csv');
  });
  it('visits the built-in seeds without replacement, in an order fixed by the random seed', async () => {
    const source = new SeedSource();
    const firstRun = await Promise.all(Array.from({ length: 50 }, (_, i) => source.pick('builtin', 1, i)));
    assert.equal(new Set(firstRun).size, 50, 'no seed repeats before all were used');
    assert.deepEqual(await Promise.all(Array.from({ length: 50 }, (_, i) => new SeedSource().pick('builtin', 1, i))), firstRun);
    const other = await Promise.all(Array.from({ length: 50 }, (_, i) => source.pick('builtin', 2, i)));
    assert.notDeepEqual(other, firstRun);
  });
});
