// Seed files read as streams, normalised into chunks, and picked from them: the same seeds in
// the same order as the whole-file reader gave (the expectations below were produced by it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { readSeedItems, seedFormatOf, type SeedFormat, type SkippedLine } from '../../src/seeds/seed-formats';
import { seedChunkKey, seedIndexKey } from '../../src/seeds/seed-chunks';
import { SeedSource } from '../../src/seeds/seed-source';

async function parseSeeds(
  text: string,
  format: SeedFormat,
  column?: string,
): Promise<{ seeds: string[]; skipped: SkippedLine[] }> {
  const seeds: string[] = [];
  const skipped: SkippedLine[] = [];
  for await (const item of readSeedItems(Readable.from([Buffer.from(text)]), format, column)) {
    if ('seed' in item) seeds.push(item.seed);
    else skipped.push(item.skipped);
  }
  return { seeds, skipped };
}

describe('seed formats', () => {
  it('reads plain text and the first human turn of ShareGPT JSONL', async () => {
    assert.deepEqual((await parseSeeds('  one \n\ntwo\n', 'text')).seeds, ['one', 'two']);
    const jsonl = [
      JSON.stringify({
        conversations: [
          { from: 'system', value: 's' },
          { from: 'human', value: 'first?' },
          { from: 'gpt', value: 'a' },
        ],
      }),
      JSON.stringify({ conversations: [{ from: 'gpt', value: 'no human' }] }),
    ].join('\n');
    assert.deepEqual((await parseSeeds(jsonl, 'jsonl')).seeds, ['first?']);
  });
  it('skips and reports malformed JSONL lines by number, keeping the rest', async () => {
    const jsonl = [
      '{"conversations":[{"from":"human","value":"ok?"}]}',
      '{not json',
      '',
      '{"conversations":[]}',
      '{"conversations":[{"from":"human","value":"also?"}]}',
    ].join('\r\n');
    const { seeds, skipped } = await parseSeeds(jsonl, 'jsonl');
    assert.deepEqual(seeds, ['ok?', 'also?']);
    assert.deepEqual(
      skipped.map((s) => s.line),
      [2, 4],
    );
    assert.match(skipped[0].reason, /not JSON/);
    assert.match(skipped[1].reason, /first user turn/);
  });
  it('reads UltraChat and OpenAI-messages JSONL, a ShareGPT JSON array, and a CSV column', async () => {
    const jsonl = [
      JSON.stringify({ id: '1', data: ['ultra?', 'answer'] }),
      JSON.stringify({
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'openai?' },
        ],
      }),
    ].join('\n');
    assert.deepEqual((await parseSeeds(jsonl, 'jsonl')).seeds, ['ultra?', 'openai?']);
    const json = JSON.stringify([{ conversations: [{ from: 'human', value: 'share?' }] }, { nothing: true }]);
    assert.deepEqual(await parseSeeds(json, 'json'), {
      seeds: ['share?'],
      skipped: [
        {
          line: 2,
          reason:
            'item 2: no first user turn (ShareGPT "conversations", UltraChat "data" or OpenAI "messages")',
        },
      ],
    });
    const csv = 'id,prompt\n1,"Why is the sky blue, really?"\n2,\n3,How do magnets work?\n';
    assert.deepEqual((await parseSeeds(csv, 'csv', 'prompt')).seeds, [
      'Why is the sky blue, really?',
      'How do magnets work?',
    ]);
    assert.deepEqual(
      (await parseSeeds(csv, 'csv', 'prompt')).skipped.map((x) => x.line),
      [3],
    );
    assert.deepEqual((await parseSeeds(csv, 'csv')).seeds, ['1', '2', '3'], 'the first column by default');
    assert.equal(seedFormatOf('s3://b/k/seeds.csv#prompt'), 'csv');
  });
  it('reads a JSON array split anywhere, even inside a multi-byte character', async () => {
    const text = JSON.stringify([
      { conversations: [{ from: 'human', value: 'Ünïcödé ✓ 🦜?' }] },
      { data: ['second?'] },
    ]);
    const bytes = Buffer.from(text);
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)); // one byte at a time
    const seeds: string[] = [];
    for await (const item of readSeedItems(Readable.from(pieces), 'json'))
      if ('seed' in item) seeds.push(item.seed);
    assert.deepEqual(seeds, ['Ünïcödé ✓ 🦜?', 'second?']);
  });
});

describe('seed selection from normalised chunks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-seed-chunks-'));
  const output = pathToFileURL(path.join(dir, 'out')).href;
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rows = [
    {
      conversations: [
        { from: 'gpt', value: 'hi' },
        { from: 'human', value: '  First human turn  ' },
      ],
    },
    { id: 'x', conversations: [{ from: 'gpt', value: 'only gpt' }] },
    { data: ['UltraChat question', 'answer'] },
    {
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'OpenAI user' },
      ],
    },
    { conversations: [{ from: 'user', value: 'from user' }] },
    {
      conversations: [
        { from: 'human', value: '   ' },
        { from: 'human', value: 'second human' },
      ],
    },
    'a string',
    { conversations: [{ from: 'human', value: 'Ünïcödé ✓ "quoted"\nnewline' }] },
  ];
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return pathToFileURL(path.join(dir, name)).href;
  };
  const seedFiles = {
    builtin: 'builtin',
    json: file('rows.json', JSON.stringify(rows)),
    jsonl: file('rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n{bad\n\n'),
    csv: `${file('q.csv', 'id,question\n1,"Why is the sky blue?"\n2,\n3,"multi\nline, with comma"\n')}#question`,
  };
  // Picks 0-5 under random seeds 0 and 42, from the reader that held whole files in memory.
  const A = 'First human turn',
    U = 'UltraChat question',
    O = 'OpenAI user',
    F = 'from user',
    N = 'Ünïcödé ✓ "quoted"\nnewline';
  const S = 'Why is the sky blue?',
    M = 'multi\nline, with comma';
  const before: Record<
    keyof typeof seedFiles,
    { seeds: number; skipped: number[]; picks: Record<number, string[]> }
  > = {
    builtin: {
      seeds: 271,
      skipped: [],
      picks: {
        0: [
          'how do you cook a steak medium rare in a pan without a thermometer',
          'explain bayes theorem with a medical test example',
          'How do airplanes stay in the air?',
          "What's the probability of getting at least one six in four rolls of a die?",
          "my git branch is 5 commits behind main and I have local changes. what's the safest way to update it",
          'Can you help me plan a road trip from Chicago to New Orleans with interesting stops?',
        ],
        42: [
          'I got a job offer but the salary is lower than I hoped. How do I negotiate without losing the offer?',
          'What\'s the difference between "affect" and "effect"?',
          'How do I keep my pasta from sticking together?',
          'How do I deal with jet lag after a long flight east?',
          'what does the check engine light usually mean',
          'How can I make a bash script stop on the first error?',
        ],
      },
    },
    json: { seeds: 5, skipped: [2, 6, 7], picks: { 0: [N, O, F, A, U, N], 42: [A, N, O, U, F, A] } },
    jsonl: { seeds: 5, skipped: [2, 6, 7, 9], picks: { 0: [N, O, F, A, U, N], 42: [A, N, O, U, F, A] } },
    csv: { seeds: 2, skipped: [3], picks: { 0: [M, S, M, S, M, S], 42: [S, M, S, M, S, M] } },
  };

  for (const [name, uri] of Object.entries(seedFiles) as [keyof typeof seedFiles, string][]) {
    it(`picks the same ${name} seeds as the whole-file reader did, for the same index and random seed`, async () => {
      const report = await new SeedSource().normalize(uri, output, `same-${name}`);
      assert.deepEqual(
        { seeds: report.seeds, skipped: report.firstSkipped.map((s) => s.line) },
        { seeds: before[name].seeds, skipped: before[name].skipped },
      );
      for (const randomSeed of [0, 42]) {
        const fromChunks = new SeedSource(); // a fresh worker: reads only chunks
        const picks = await Promise.all(
          [0, 1, 2, 3, 4, 5].map((i) => fromChunks.pick('file:///nowhere.txt', randomSeed, i, report.chunks)),
        );
        assert.deepEqual(picks, before[name].picks[randomSeed], `random seed ${randomSeed}`);
        const legacy = await Promise.all(
          [0, 1, 2, 3, 4, 5].map((i) => new SeedSource().pick(uri, randomSeed, i)),
        );
        assert.deepEqual(legacy, before[name].picks[randomSeed], `random seed ${randomSeed}, without chunks`);
      }
    });
  }

  it('visits the built-in seeds without replacement, in an order fixed by the random seed', async () => {
    const { chunks } = await new SeedSource().normalize('builtin', output, 'builtin-order');
    const source = new SeedSource();
    const firstRun = await Promise.all(
      Array.from({ length: 50 }, (_, i) => source.pick('builtin', 1, i, chunks)),
    );
    assert.equal(new Set(firstRun).size, 50, 'no seed repeats before all were used');
    assert.deepEqual(
      await Promise.all(Array.from({ length: 50 }, (_, i) => new SeedSource().pick('builtin', 1, i, chunks))),
      firstRun,
    );
    const other = await Promise.all(
      Array.from({ length: 50 }, (_, i) => source.pick('builtin', 2, i, chunks)),
    );
    assert.notDeepEqual(other, firstRun);
  });

  it('writes fixed-size chunks and an index with the source size and sha256, and picks across chunks', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => `question ${i}?`);
    const text = lines.join('\n') + '\n';
    const uri = file('many.txt', text);
    const report = await new SeedSource().normalize(uri, output, 'many/chunks');
    const folder = path.join(dir, 'out', 'seeds', 'many%2Fchunks');
    assert.deepEqual(fs.readdirSync(folder).sort(), [
      '00000.jsonl',
      '00001.jsonl',
      '00002.jsonl',
      'index.json',
    ]);
    assert.equal(
      fs.readFileSync(path.join(folder, '00002.jsonl'), 'utf8'),
      lines
        .slice(2000)
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const index = JSON.parse(
      fs.readFileSync(path.join(dir, 'out', seedIndexKey(report.chunks!.folder)), 'utf8'),
    );
    const sha256 = (await import('node:crypto')).createHash('sha256').update(text).digest('hex');
    assert.deepEqual(index.chunks, {
      output,
      folder: 'seeds/many%2Fchunks',
      count: 2500,
      perChunk: 1000,
      sourceSha256: sha256,
      sourceBytes: Buffer.byteLength(text),
    });
    assert.equal(seedChunkKey(report.chunks!.folder, 2), 'seeds/many%2Fchunks/00002.jsonl');
    const picked = await Promise.all(
      Array.from({ length: 2500 }, (_, i) => new SeedSource().pick(uri, 7, i, report.chunks)),
    );
    assert.deepEqual([...picked].sort(), [...lines].sort(), 'every seed once');
  });

  it('fails naming the file, line and column where a JSON array breaks, or the item when it is not an array', async () => {
    const good = JSON.stringify([{ data: ['fine?'] }, { data: ['also fine?'] }], null, 1).slice(0, -1);
    const uri = file('broken.json', `${good}, {"data": ["oops" }]`);
    assert.equal(good.split('\n').length, 12, 'the break is on line 12');
    await assert.rejects(new SeedSource().normalize(uri, output, 'broken'), (err: ApplicationFailure) => {
      assert.equal(err.nonRetryable, true);
      assert.match(
        err.message,
        /^seeds file file:\/\/.*broken\.json line 12, column 20: not a JSON array of rows \(Parser cannot parse input: expected ']'\)$/,
      );
      return true;
    });
    await assert.rejects(
      new SeedSource().normalize(file('object.json', '{"data": ["q"]}'), output, 'object'),
      /object\.json item 1: not a JSON array of rows/,
    );
  });

  it('stops reading when cancelled', async () => {
    const uri = file('long.txt', 'a question?\n'.repeat(1_000_000));
    const abort = new AbortController();
    let reads = 0;
    const progress = { signal: abort.signal, onBytes: () => ++reads === 1 && abort.abort() };
    await assert.rejects(new SeedSource().normalize(uri, output, 'cancelled', progress), {
      name: 'AbortError',
    });
    assert.ok(reads < 5, `read ${reads} pieces after the abort`);
  });
});
