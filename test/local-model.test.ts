// End to end on the REAL local model: SmolLM2-135M-Instruct behind the project's own
// OpenAI-compatible server, over real HTTP, driven by a real Temporal server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { loadEndpointRegistry } from '../src/config/endpoints';
import { startLocalLlmServer, type LocalLlmServer } from '../src/local-llm/server';
import { cosine } from '../src/metrics/model-metrics';
import { LOCAL_MODEL_ID, LOCAL_MODEL_PATH } from '../src/local-llm/model-file';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { generateDataset } from '../src/workflows';
import { runDataset, useTemporalWorker } from './helpers/temporal';
import { TEST_ROOTS } from './helpers/roots';

/** Sampling for tests that must not depend on luck: greedy, seeded. */
const DETERMINISTIC = { temperature: 0, seed: 7 };

describe('local model end to end (SmolLM2-135M, real inference)', () => {
  let llm: LocalLlmServer;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-local-'));
  before(async () => {
    llm = await startLocalLlmServer({
      modelPath: LOCAL_MODEL_PATH,
      modelId: LOCAL_MODEL_ID,
      sequences: 2,
      contextSize: 2048,
    });
  });
  after(async () => {
    await llm?.close();
    fs.rmSync(outDir, { recursive: true, force: true });
  });
  const t = useTemporalWorker(() => ({
    endpoints: loadEndpointRegistry({ PARROT_LOCAL_LLM_URL: llm.url }),
    roots: TEST_ROOTS,
  }));

  it('serves the OpenAI API: models, chat with usage, raw completion with stop sequences, errors', async () => {
    const client = new OpenAI({ baseURL: llm.url, apiKey: 'local', maxRetries: 0 });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [LOCAL_MODEL_ID],
    );

    const chat = await client.chat.completions.create({
      model: LOCAL_MODEL_ID,
      messages: [{ role: 'user', content: 'Name a fruit.' }],
      max_tokens: 8,
      ...DETERMINISTIC,
    });
    assert.ok(chat.choices[0].message.content!.length > 0);
    assert.ok(
      chat.usage!.prompt_tokens > 0 &&
        chat.usage!.completion_tokens > 0 &&
        chat.usage!.completion_tokens <= 8,
    );

    // Embeddings from the model itself: two ways to reverse a list sit closer than a list and a revolution.
    const emb = await client.embeddings.create({
      model: LOCAL_MODEL_ID,
      input: [
        'How do I reverse a list in Python?',
        'How can I reverse an array in JavaScript?',
        'What caused the French Revolution?',
      ],
    });
    assert.equal(emb.data.length, 3);
    assert.ok(emb.data[0].embedding.length > 100 && emb.usage.prompt_tokens > 0);
    const [a, b, c] = emb.data.map((d) => d.embedding);
    assert.ok(
      cosine(a, b) > cosine(a, c),
      `similar questions should embed closer (${cosine(a, b)} vs ${cosine(a, c)})`,
    );

    const raw = await client.completions.create({
      model: LOCAL_MODEL_ID,
      prompt: 'Human: hello\nAssistant: Hi! How can I help?\nHuman:',
      max_tokens: 24,
      stop: ['\n'],
      ...DETERMINISTIC,
    });
    assert.equal(raw.choices[0].text.includes('\n'), false, 'generation must stop at the stop sequence');

    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError,
    );
    await assert.rejects(
      client.chat.completions.create({
        model: LOCAL_MODEL_ID,
        messages: [{ role: 'user', content: 'word '.repeat(3000) }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /maximum context length/.test(err.message),
    );
  });

  it('generates a 2-turn dialogue with the local model as both user and assistant', async () => {
    const result = await runDataset(t, 'local-model-e2e', {
      count: 1,
      turns: 2,
      randomSeed: 0,
      output: pathToFileURL(outDir).href,
      // Greedy decoding with a fixed seed: the same dialogue on every run.
      ask: { endpoint: 'local', model: LOCAL_MODEL_ID, maxTokens: 32, ...DETERMINISTIC },
      answer: { endpoint: 'local', model: LOCAL_MODEL_ID, maxTokens: 48, ...DETERMINISTIC },
      metrics: {
        embeddings: { endpoint: 'local', model: LOCAL_MODEL_ID },
        judge: { endpoint: 'local', model: LOCAL_MODEL_ID },
      },
    });
    assert.equal(result.completed, 1);
    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(outDir, recordKey(0)), 'utf8'));
    // Invariants that hold whatever the model says: turns alternate from the seed question to an
    // answer, none is blank, a question carries no role prefix, and every call is accounted for.
    const { conversations, turns } = record;
    assert.deepEqual(
      conversations.map((c) => c.from),
      conversations.map((_, i) => (i % 2 ? 'gpt' : 'human')),
    );
    assert.equal(conversations.length, 2 * turns);
    for (const c of conversations) assert.ok(c.value.trim().length > 0);
    for (const q of conversations.filter((c, i) => c.from === 'human' && i > 0))
      assert.doesNotMatch(q.value, /^(user|human)\s*:/i, 'role prefixes are stripped from the question');
    assert.equal(record.endedBy === 'target', turns === record.targetTurns);
    const refiltered = Object.values(record.filterHits ?? {}).reduce((a, b) => a + b, 0);
    assert.equal(result.usage.answer.calls, turns);
    assert.equal(result.usage.ask.calls, turns - 1 + refiltered);
    assert.ok(result.usage.answer.completionTokens > 0 && result.usage.answer.completionTokens <= 48 * turns);
    // Greedy decoding with a fixed seed makes this dialogue the same on every run: its greedy
    // question sounds like the assistant, and a re-ask, sampled with the next seed, passes.
    assert.equal(turns, 2);
    assert.ok(refiltered > 0, 'the first question was re-asked');
    // The model metrics, on the real model: every question embedded, the dialogue judged.
    assert.equal(result.metrics!.embeddedQuestions, turns);
    assert.equal(result.metrics!.judgedDialogues, 1);
    assert.ok(
      result.metrics!.topicSimilarity !== undefined && result.metrics!.topicShiftsPerDialogue !== undefined,
    );
    const jsonl = fs.readFileSync(path.join(outDir, 'data/part-00000.jsonl'), 'utf8').trim().split('\n');
    assert.equal(jsonl.length, 1);
    assert.match(
      fs.readFileSync(path.join(outDir, 'report.html'), 'utf8'),
      /prompted mode/,
      'the report is written beside the data',
    );
    assert.match(
      fs.readFileSync(path.join(outDir, 'README.md'), 'utf8'),
      /^---\npretty_name: "local-model-e2e"/,
    );
  });

  it('answers through its Files and Batches API: a batch dataset on the local model, offline', async () => {
    const result = await t.env.client.workflow.execute(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId: 'local-model-batch',
      args: [
        {
          count: 2,
          turns: 2,
          output: pathToFileURL(path.join(outDir, 'batch')).href,
          ask: { endpoint: 'local', model: LOCAL_MODEL_ID, maxTokens: 24, ...DETERMINISTIC },
          answer: {
            endpoint: 'local',
            model: LOCAL_MODEL_ID,
            maxTokens: 24,
            ...DETERMINISTIC,
            batch: { fillSeconds: 10, pollSeconds: 1 },
          },
        },
      ],
    });
    assert.equal(result.completed, 2);
    // Every answer came through a batch, at the local price (0).
    assert.equal(result.usage.answer.batchCalls, result.usage.answer.calls);
    assert.ok(result.usage.answer.calls >= 2 && result.usage.answer.completionTokens > 0);
    assert.equal(result.usage.answer.batchCostUsd, 0);
    assert.equal(result.usage.ask.batchCalls, undefined);
  });

  it('asks in parrot-ask mode: the local model continues a Socratic transcript as the human', async () => {
    const out = path.join(outDir, 'parrot-ask');
    const result = await runDataset(t, 'local-model-parrot-ask', {
      count: 1,
      turns: 2,
      output: pathToFileURL(out).href,
      randomSeed: 3,
      ask: {
        endpoint: 'local',
        model: LOCAL_MODEL_ID,
        maxTokens: 32,
        mode: 'parrot-ask',
        ...DETERMINISTIC,
      },
      answer: { endpoint: 'local', model: LOCAL_MODEL_ID, maxTokens: 48, ...DETERMINISTIC },
    });
    assert.equal(result.completed, 1);
    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(out, recordKey(0)), 'utf8'));
    const question = record.conversations[2].value;
    assert.ok(question.trim().length > 0);
    assert.doesNotMatch(question, /(^|\n)\s*(Assistant|Human)\s*:/, 'no turn markers in the question');
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /parrot-ask mode/);
  });
});
