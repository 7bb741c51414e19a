// The export's formats (input `exportFormats`), run as the activity on a local folder: the
// OpenAI chat format passes the checks OpenAI documents for fine-tuning files, dialogues that
// would break them are cut or left out, and the manifest and the dataset card list every
// format's shards with the sha256 of the files on disk.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDatasetStorageActivities } from '../../src/activities/dataset-storage';
import { parseDatasetInput, type ExportFormat } from '../../src/config/dataset-input';
import { DatasetMetricsAccumulator } from '../../src/metrics/dataset-metrics';
import { chatMessages } from '../../src/storage/export-formats';
import type {
  DatasetFailure,
  DialogueRecord,
  ExportedShard,
  DatasetExport,
  FormatExport,
} from '../../src/types';
import { openAiChatProblems } from '../helpers/openai-chat-format';
import { TEST_ROOTS } from '../helpers/roots';
import { testRecord } from '../helpers/dialogue-records';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-export-formats-'));
const DATASET = 'formats';
const usage = { promptTokens: 1, completionTokens: 1, calls: 1 };

/** A stored dialogue with these turns, alternating human/gpt from the first, unless `from` is given. */
function record(index: number, turns: (string | { from: 'human' | 'gpt'; value: string })[]): DialogueRecord {
  return testRecord(index, {
    datasetId: DATASET,
    seed: 'seed',
    conversations: turns.map((t, i) =>
      typeof t === 'string' ? { from: i % 2 ? 'gpt' : 'human', value: t, tokens: 3 } : t,
    ),
    turns: Math.floor(turns.length / 2),
    targetTurns: 3,
    persona: index % 2 ? 'a retired sailor who types in lowercase' : undefined,
    usage: { ask: usage, answer: usage },
  });
}

/** Dialogues as the workflow stores them, and the shapes a record could take that the chat format cannot hold. */
const RECORDS: DialogueRecord[] = [
  record(0, ['What is a monad?', 'A monad is…']),
  record(1, ['Explain TCP.', 'TCP is…', 'And UDP?', 'UDP is…', 'Which is faster?', 'UDP, usually.']),
  // A question left without its answer (a record cut short): the chat format must end on an answer.
  record(2, ['Name a prime.', '7.', 'And an even one?']),
  // A blank answer in the middle: everything from that round on goes.
  record(3, ['Q1?', 'A1.', 'Q2?', '   ', 'Q3?', 'A3.']),
  // Not one whole round: left out of the chat format.
  record(4, ['Hello?', '']),
  record(5, [{ from: 'gpt', value: 'I speak first.' }, 'Why?']),
  record(6, ['Last one?', 'Yes.']),
];

async function exportInto(
  output: string,
  records: DialogueRecord[],
  exportFormats?: ExportFormat[],
  shardSize = 2,
  failures: DatasetFailure[] = [],
) {
  const activities = createDatasetStorageActivities(TEST_ROOTS, shardSize);
  const env = new MockActivityEnvironment();
  const metrics = new DatasetMetricsAccumulator();
  for (const r of records) {
    await env.run(() => activities.storeDialogue({ output, record: r }));
    metrics.add(r);
  }
  const count = Math.max(...records.map((r) => r.index)) + 1;
  const input = parseDatasetInput({
    count,
    turns: 3,
    output,
    ask: { endpoint: 'fake', model: 'm' },
    answer: { endpoint: 'fake', model: 'm' },
    ...(exportFormats && { exportFormats }),
  });
  const ref = { datasetId: DATASET, lineage: [{ datasetId: DATASET, runId: 'run-1' }], output, count };
  const result: DatasetExport = await env.run(() =>
    activities.exportDataset({ ...ref, input, usage: { ask: usage, answer: usage }, failures, batches: [] }),
  );
  await env.run(() => activities.writeReport({ ...ref, metrics: metrics.result() }));
  return result;
}

const newOutput = () => fs.mkdtempSync(path.join(tmpRoot, 'out-'));
/** The files under `data/` in a folder, as keys, sorted. */
const dataFiles = (dir: string) =>
  (fs.readdirSync(path.join(dir, 'data'), { recursive: true }) as string[])
    .map((f) => `data/${f.split(path.sep).join('/')}`)
    .filter((k) => fs.statSync(path.join(dir, k)).isFile())
    .sort();
const linesOf = (dir: string, key: string) =>
  fs.readFileSync(path.join(dir, key), 'utf8').split('\n').slice(0, -1);

/** The `configs` of a card's YAML header, as written (name, default, files); enough YAML for that block. */
function cardConfigs(card: string): { name: string; isDefault: boolean; files: string[] }[] {
  const header = /^---\n([\s\S]*?)\n---\n/.exec(card)?.[1];
  assert.ok(header, 'the card starts with a YAML header');
  const block = /\nconfigs:\n((?:[- ] .*\n?)*)/.exec(header)?.[1] ?? '';
  return block
    .split(/^- /m)
    .filter(Boolean)
    .map((entry) => {
      assert.match(entry, /\n {2}data_files:\n {2}- split: train\n {4}path:\n/);
      return {
        name: /^config_name: (\S+)/.exec(entry)?.[1] ?? '',
        isDefault: /\n {2}default: true\n/.test(entry),
        files: [...entry.matchAll(/^ {4}- (".*")$/gm)].map((m) => JSON.parse(m[1]) as string),
      };
    });
}

describe('export formats', () => {
  after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

  describe('the OpenAI chat-format check used below', () => {
    // So that a passing export means something: the check rejects each kind of bad line.
    const bad: [string, string][] = [
      ['not JSON', '{"messages": ['],
      ['empty messages', '{"messages": []}'],
      ['a tool role', '{"messages": [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}]}'],
      [
        'empty content',
        '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}]}',
      ],
      ['ends on a question', '{"messages": [{"role": "user", "content": "a"}]}'],
      [
        'two questions in a row',
        '{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]}',
      ],
      ['a ShareGPT line', '{"id": "x", "conversations": [{"from": "human", "value": "a"}]}'],
    ];
    for (const [what, line] of bad)
      it(`rejects ${what}`, () => assert.notDeepEqual(openAiChatProblems(line), []));
    it('accepts a system message, then alternating turns ending on an answer', () =>
      assert.deepEqual(
        openAiChatProblems(
          '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "id": "x"}',
        ),
        [],
      ));
  });

  it('writes openai lines that pass the chat fine-tuning checks, cutting or leaving out dialogues that would not', async () => {
    const dir = newOutput();
    const result = await exportInto(pathToFileURL(dir).href, RECORDS, ['sharegpt', 'openai']);
    const openaiShards = result.shards.filter((s) => s.format === 'openai');
    assert.ok(openaiShards.length > 1, 'several shards, so that the check spans shard boundaries');
    const lines = openaiShards.flatMap((s) => linesOf(dir, s.key));
    for (const line of lines) assert.deepEqual(openAiChatProblems(line), [], line);

    const byId = new Map(
      lines.map((l) => {
        const row = JSON.parse(l) as {
          id: string;
          messages: { content: string }[];
          persona: unknown;
          endedBy: unknown;
        };
        return [row.id, row];
      }),
    );
    assert.deepEqual(
      [...byId.keys()],
      [0, 1, 2, 3, 6].map((i) => `${DATASET}/${i}`),
      'in index order; 4 and 5 (no whole round) left out',
    );
    const contents = (i: number) => byId.get(`${DATASET}/${i}`)!.messages.map((m) => m.content);
    assert.deepEqual(
      contents(1),
      RECORDS[1].conversations.map((t) => t.value),
      'a whole dialogue is kept whole',
    );
    assert.deepEqual(contents(2), ['Name a prime.', '7.'], 'the unanswered question is cut');
    assert.deepEqual(contents(3), ['Q1?', 'A1.'], 'cut before the blank answer');
    // The per-dialogue columns ride along, on every line, so every shard has the same columns.
    assert.deepEqual(
      [
        byId.get(`${DATASET}/1`)!.persona,
        byId.get(`${DATASET}/0`)!.persona,
        byId.get(`${DATASET}/0`)!.endedBy,
      ],
      ['a retired sailor who types in lowercase', null, 'target'],
    );
    assert.deepEqual(result.formats, [
      { format: 'sharegpt', dialogues: 7, trimmed: 0, excluded: 0 },
      { format: 'openai', dialogues: 5, trimmed: 2, excluded: 2 },
    ] satisfies FormatExport[]);
    assert.equal(result.exported, 7);
  });

  it('lists both formats’ shards, with the sha256 of the files written, in the manifest and the card', async () => {
    const dir = newOutput();
    const result = await exportInto(pathToFileURL(dir).href, RECORDS, ['openai', 'sharegpt']);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      format: string;
      formats: FormatExport[];
      shards: ExportedShard[];
    };
    const files = dataFiles(dir);
    assert.deepEqual(files, [
      'data/openai/part-00000.jsonl',
      'data/openai/part-00001.jsonl',
      'data/openai/part-00002.jsonl',
      'data/part-00000.jsonl',
      'data/part-00001.jsonl',
      'data/part-00002.jsonl',
      'data/part-00003.jsonl',
    ]);
    // Every file on disk is in the manifest once, with its own hash, size and line count.
    assert.deepEqual(manifest.shards.map((s) => s.key).sort(), files);
    for (const key of files) {
      const bytes = fs.readFileSync(path.join(dir, key));
      const shard = manifest.shards.find((s) => s.key === key)!;
      assert.equal(shard.sha256, createHash('sha256').update(bytes).digest('hex'), key);
      assert.equal(shard.bytes, bytes.length, key);
      assert.equal(shard.dialogues, linesOf(dir, key).length, key);
      assert.equal(shard.format, key.startsWith('data/openai/') ? 'openai' : 'sharegpt', key);
    }
    assert.deepEqual(manifest.shards, result.shards);
    assert.equal(manifest.format, 'openai-jsonl', 'the first format named is the default');
    assert.deepEqual(
      manifest.formats.map((f) => [f.format, f.dialogues]),
      [
        ['openai', 5],
        ['sharegpt', 7],
      ],
    );

    const card = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const format of ['openai', 'sharegpt'])
      assert.match(
        card,
        new RegExp(`\\ndataset_info:\\n(.*\\n)*- config_name: ${format}\\n  features:\\n`),
        'its columns',
      );
    assert.deepEqual(cardConfigs(card), [
      { name: 'openai', isDefault: true, files: files.filter((f) => f.startsWith('data/openai/')) },
      { name: 'sharegpt', isDefault: false, files: files.filter((f) => !f.startsWith('data/openai/')) },
    ]);
  });

  it('without exportFormats writes the ShareGPT shards of before, in data/, and a card whose one config is them', async () => {
    const dir = newOutput();
    const result = await exportInto(pathToFileURL(dir).href, RECORDS.slice(0, 2), undefined, 5000);
    assert.deepEqual(dataFiles(dir), ['data/part-00000.jsonl']);
    assert.deepEqual(
      linesOf(dir, 'data/part-00000.jsonl'),
      RECORDS.slice(0, 2).map((r) =>
        JSON.stringify({
          id: r.id,
          conversations: r.conversations.map(({ from, value }) => ({ from, value })),
        }),
      ),
    );
    assert.deepEqual(result.formats, [{ format: 'sharegpt', dialogues: 2, trimmed: 0, excluded: 0 }]);
    assert.deepEqual(cardConfigs(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')), [
      { name: 'sharegpt', isDefault: true, files: ['data/part-00000.jsonl'] },
    ]);
  });

  it('an export over an earlier one removes the shards it did not write, of every format, and leaves other files', async () => {
    const dir = newOutput();
    const output = pathToFileURL(dir).href;
    await exportInto(output, RECORDS, ['sharegpt', 'openai']);
    fs.writeFileSync(path.join(dir, 'data/openai/notes.txt'), 'not ours');
    // Fewer dialogues a shard, so fewer shards; and openai no longer wanted.
    const result = await exportInto(output, RECORDS, ['sharegpt'], 5000);
    assert.deepEqual(dataFiles(dir), ['data/openai/notes.txt', 'data/part-00000.jsonl']);
    assert.deepEqual(
      result.shards.map((s) => s.key),
      ['data/part-00000.jsonl'],
    );
    // And back: openai shards reappear, listed with the ShareGPT ones.
    await exportInto(output, RECORDS, ['sharegpt', 'openai'], 4);
    assert.deepEqual(dataFiles(dir), [
      'data/openai/notes.txt',
      'data/openai/part-00000.jsonl',
      'data/openai/part-00001.jsonl',
      'data/part-00000.jsonl',
      'data/part-00001.jsonl',
    ]);
  });

  it('lists as failed only the dialogues it did not find: one stored after its failure was reported is exported', async () => {
    const out = newOutput();
    const failures = [2, 4].map((index) => ({ index, id: `${DATASET}/${index}`, error: 'group terminated' }));
    // Indices 0, 1, 2 and 6 stored; the manifest's count is 7, so 3, 4 and 5 are missing too.
    const stored = [RECORDS[0], RECORDS[1], RECORDS[2], RECORDS[6]];
    const result = await exportInto(pathToFileURL(out).href, stored, undefined, 2, failures);
    const missingUri = `${pathToFileURL(out).href}/missing.json`;
    assert.deepEqual(result.missing, { count: 3, first: [3, 4, 5], uri: missingUri });
    assert.deepEqual(result.storedAfterAll, [2]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'missing.json'), 'utf8')), {
      count: 3,
      ranges: [[3, 5]],
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.missing, result.missing);
    assert.deepEqual(manifest.failures, [failures[1]]);
    assert.equal(manifest.exported, 4);
  });

  it('chatMessages keeps the longest prefix of whole rounds', () => {
    const turns = (...values: string[]) => record(0, values).conversations;
    assert.deepEqual(chatMessages(turns('a', 'b')), {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
      trimmed: false,
    });
    assert.equal(chatMessages(turns('a', 'b', 'c')).trimmed, true);
    assert.deepEqual(chatMessages(turns(' ', 'b')), { messages: [], trimmed: true });
    assert.deepEqual(chatMessages([]), { messages: [], trimmed: false });
  });
});
