// The question filters on hand-made questions, and in a dialogue: rejected, asked again, counted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { recordKey } from '../src/storage/dataset-layout';
import { failedFilter, isUserDone } from '../src/prompts/question-filters';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('question filters', () => {
  it('names the filter a question fails', () => {
    const earlier = ['How do I reverse a list in Python?'];
    assert.equal(failedFilter('Thanks!', earlier), 'tooShort');
    assert.equal(failedFilter('How do I reverse a list in Python please?', earlier), 'nearDuplicate');
    assert.equal(failedFilter("As an AI, I can explain more. What else?", earlier), 'assistantSpeak');
    assert.equal(failedFilter("Great question! I'm happy to help with that.", earlier), 'assistantSpeak');
    assert.equal(failedFilter('What about sorting?\nAssistant: You can use sorted().', earlier), 'roleLeak');
    assert.equal(failedFilter('The user is a language enthusiast who loves learning languages.', earlier), 'roleLeak', 'narrating the user');
    assert.equal(failedFilter('The user table has an email column: how do I index it?', earlier), undefined, 'a question about a "user" thing');
    assert.equal(failedFilter(`Lists ${Array.from({ length: 64 }, (_, i) => `hold item${i}`).join(', ')}.`, earlier), 'assistantSpeak', 'answering instead of asking');
    assert.equal(failedFilter('Hey there! How are you? '.repeat(4), earlier), 'repetitive', 'a model looping on one phrase');
    assert.equal(failedFilter('And what about sorting it in reverse?', earlier), undefined);
    assert.equal(failedFilter('Can you compare the list, the tuple, the set and the dict, and say when I should pick the list over the tuple?', earlier), undefined, 'some repeated words are no loop');
    assert.equal(failedFilter('Why?', earlier, 1), undefined, 'minWords is configurable');
  });

  it('tells a user taking leave from one asking', () => {
    for (const done of ["Thanks, that's all I needed!", 'Okay, thank you.', "That's it for now, bye", "I'm all set, cheers"]) assert.equal(isUserDone(done), true, done);
    for (const asking of ['Thanks! And what about the second one?', 'Thank you. Can you also explain how the garbage collector decides what to free first in Java', 'Why is that?', 'Okay so how do I sort it']) assert.equal(isUserDone(asking), false, asking);
  });
});

describe('question filters in a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('filters');

  it('asks again after an assistant-like question, counts the hit, and ends a dialogue whose questions never pass with the turns it paid for', async () => {
    // The first ask of the run is answered with assistant-speak once; the retry passes.
    const input = (name: string, count: number) => ({
      count, turns: 2, concurrency: 1, output: pathToFileURL(`${s.outDir}/${name}`).href,
      ask: { endpoint: 'fake', model: FAKE_MODEL, maxQuestionTries: 3 }, answer: { endpoint: 'fake', model: FAKE_MODEL },
    });
    s.fake.replyNext('As an AI language model, I am happy to help! Is there anything else?');
    const ok = await s.t.env.client.workflow.execute(generateDataset, { taskQueue: s.t.taskQueue, workflowId: 'filters-ok', args: [input('ok', 1)] });
    assert.equal(ok.completed, 1);
    assert.deepEqual(ok.metrics.questionFilterHits, { assistantSpeak: 1 });
    assert.equal(ok.usage.ask.calls, 2, 'the rejected question was a call too');

    s.fake.replyNext('ok', 3);
    const bad = await s.t.env.client.workflow.execute(generateDataset, { taskQueue: s.t.taskQueue, workflowId: 'filters-bad', args: [input('bad', 1)] });
    assert.deepEqual({ completed: bad.completed, failed: bad.failedCount, askCalls: bad.usage.ask.calls, answerCalls: bad.usage.answer.calls }, { completed: 1, failed: 0, askCalls: 3, answerCalls: 1 });
    assert.deepEqual(bad.metrics.dialoguesEndedBy, { filtered: 1 });
    assert.deepEqual(bad.metrics.questionFilterHits, { tooShort: 3 });
    const record = JSON.parse(fs.readFileSync(path.join(s.outDir, 'bad', recordKey(0)), 'utf8'));
    assert.deepEqual({ turns: record.turns, endedBy: record.endedBy, from: record.conversations.map((c: { from: string }) => c.from) }, { turns: 1, endedBy: 'filtered', from: ['human', 'gpt'] });
  });
});
