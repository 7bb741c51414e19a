// The dialogue workflow, run for real on a Temporal dev server against a FAKE LLM server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueInput, DialogueRecord } from '../src/types';
import { generateDialogue } from '../src/workflows';
import { PARROT_ASK_STOP, SOCRATIC_SYSTEM_LINE } from '../src/prompts/parrot-ask';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDialogueInput, fakeRole } from './helpers/inputs';

describe('generateDialogue (fake LLM server)', () => {
  const s = useFakeLlmSuite('dialogue', {
    endpointEnv: { PARROT_ENDPOINT_FAKE_API_KEY: 'sk-fake-dialogue-key' },
  });
  const { t, outDir } = s;

  const input = (index: number, turns: number) =>
    fakeDialogueInput(outDir, {
      datasetId: 'dialogue-test',
      index,
      turns,
      randomSeed: 7,
      answer: { ...fakeRole(), maxTokens: 64 },
    });

  it('alternates answers and cleaned questions for the target turns, stores the dialogue and returns only a summary', async () => {
    const summary = await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'dialogue-test/0',
      args: [input(0, 3)],
    });
    assert.deepEqual(
      {
        id: summary.id,
        turns: summary.turns,
        askCalls: summary.usage.ask.calls,
        answerCalls: summary.usage.answer.calls,
      },
      { id: 'dialogue-test/0', turns: 3, askCalls: 2, answerCalls: 3 },
    );
    assert.equal(
      JSON.stringify(summary).includes('Fake answer'),
      false,
      'the summary must not carry dialogue text',
    );

    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(outDir, recordKey(0)), 'utf8'));
    assert.deepEqual(
      record.conversations.map((c) => c.from),
      ['human', 'gpt', 'human', 'gpt', 'human', 'gpt'],
    );
    const builtin = fs
      .readFileSync(path.join(__dirname, '../src/seeds/builtin-seeds.txt'), 'utf8')
      .split('\n');
    assert.ok(builtin.includes(record.seed), 'the first question comes from the built-in seeds');
    assert.equal(record.conversations[0].value, record.seed);
    assert.equal(record.conversations[1].value, `Fake answer to: ${record.seed}`);
    // The fake wraps its questions in `User: "..."`: the ask activity strips both.
    assert.match(
      record.conversations[2].value,
      /^Fake follow-up question \d+: why does that matter so much\?$/,
    );
    // The answerer saw the whole dialogue so far, in order.
    const lastAnswerRequest = s.fake.requests
      .filter((r) => !r.body.messages.at(-1).content.includes('suppose you are the user'))
      .at(-1)!;
    assert.deepEqual(
      lastAnswerRequest.body.messages.map((m: { role: string }) => m.role),
      ['user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.equal(lastAnswerRequest.headers.authorization, 'Bearer sk-fake-dialogue-key');
  });

  it('ends early, after an answer, when the simulated user takes leave', async () => {
    s.fake.replyNext("Thanks, that's all I needed!");
    const summary = await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'dialogue-test/10',
      args: [input(10, 4)],
    });
    assert.deepEqual(
      { turns: summary.turns, askCalls: summary.usage.ask.calls, answerCalls: summary.usage.answer.calls },
      { turns: 1, askCalls: 1, answerCalls: 1 },
    );
    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(outDir, recordKey(10)), 'utf8'));
    assert.deepEqual(
      { turns: record.turns, targetTurns: record.targetTurns, endedBy: record.endedBy },
      { turns: 1, targetTurns: 4, endedBy: 'user-done' },
    );
    assert.deepEqual(
      record.conversations.map((c) => c.from),
      ['human', 'gpt'],
      'the farewell is not kept as a question',
    );
  });

  it("ends early, after an answer, before the next round could overflow a model's context", async () => {
    // The fake counts tokens as words, and its prompt is the whole dialogue: a round needs room for
    // the dialogue, a question (ask.maxTokens) and an answer (answer.maxTokens).
    const small = {
      ...input(11, 12),
      ask: { ...input(11, 12).ask, maxTokens: 40 },
      answer: { endpoint: 'fake', model: FAKE_MODEL, maxTokens: 100, contextTokens: 256 },
    };
    await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'dialogue-test/11',
      args: [small],
    });
    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(outDir, recordKey(11)), 'utf8'));
    assert.equal(record.endedBy, 'context');
    assert.ok(record.turns >= 2 && record.turns < 12, `turns ${record.turns}`);
    const tokens = (conv: DialogueRecord['conversations']) =>
      conv.reduce((n, c) => n + c.value.split(/\s+/).filter(Boolean).length, 0);
    assert.ok(tokens(record.conversations) + 40 + 100 > 256, 'another round could have overflowed');
    assert.ok(
      tokens(record.conversations.slice(0, -2)) + 40 + 100 <= 256,
      'it did not stop a round too early',
    );
  });

  it('retries a 429 after the Retry-After delay the provider asked for', async () => {
    s.fake.failNext({ status: 429, headers: { 'retry-after': '2' } });
    const started = Date.now();
    const summary = await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'dialogue-test/1',
      args: [input(1, 1)],
    });
    assert.equal(summary.turns, 1);
    assert.ok(
      Date.now() - started >= 1900,
      `a retry came before the 2 s Retry-After (${Date.now() - started} ms)`,
    );
  });

  it('fails at once, with the provider message, on a permanent error such as 401', async () => {
    s.fake.failNext({ status: 401, message: 'Incorrect API key provided' });
    const before = s.fake.requests.length;
    await assert.rejects(
      t.env.client.workflow.execute(generateDialogue, {
        taskQueue: t.taskQueue,
        workflowId: 'dialogue-test/2',
        args: [input(2, 2)],
      }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ActivityFailure);
        assert.ok(err.cause.cause instanceof ApplicationFailure);
        assert.equal(err.cause.cause.nonRetryable, true);
        assert.match(err.cause.cause.message, /HTTP 401.*Incorrect API key provided/);
        return true;
      },
    );
    assert.equal(s.fake.requests.length - before, 1, 'a permanent error must not be retried');
  });

  it('asks with a raw-completion model in parrot-ask mode: a Socratic transcript, stopped before the assistant turn', async () => {
    const parrotAsk: DialogueInput = {
      ...input(3, 2),
      ask: { endpoint: 'fake', model: FAKE_MODEL, mode: 'parrot-ask' },
    };
    await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'dialogue-test/3',
      args: [parrotAsk],
    });
    const record: DialogueRecord = JSON.parse(fs.readFileSync(path.join(outDir, recordKey(3)), 'utf8'));
    assert.match(
      record.conversations[2].value,
      /^Fake raw question \d+: and the second one\?$/,
      'trimmed, and cut at the stop sequence',
    );
    const request = s.fake.requests.filter((r) => r.path === '/v1/completions').at(-1)!;
    assert.ok(request.body.prompt.startsWith(SOCRATIC_SYSTEM_LINE));
    assert.ok(
      request.body.prompt.endsWith(
        `\nHuman: ${record.seed}\nAssistant: Fake answer to: ${record.seed}\nHuman:`,
      ),
    );
    assert.deepEqual(request.body.stop, PARROT_ASK_STOP);
  });
});
