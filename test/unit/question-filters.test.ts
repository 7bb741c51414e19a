// The question filters on hand-made questions (in a dialogue: test/question-filters.test.ts).
import assert from 'node:assert/strict';
import { failedFilter, isUserDone } from '../../src/prompts/question-filters';

describe('question filters', () => {
  it('names the filter a question fails', () => {
    const earlier = ['How do I reverse a list in Python?'];
    assert.equal(failedFilter('Thanks!', earlier), 'tooShort');
    assert.equal(failedFilter('How do I reverse a list in Python please?', earlier), 'nearDuplicate');
    assert.equal(failedFilter('As an AI, I can explain more. What else?', earlier), 'assistantSpeak');
    assert.equal(failedFilter("Great question! I'm happy to help with that.", earlier), 'assistantSpeak');
    assert.equal(failedFilter('What about sorting?\nAssistant: You can use sorted().', earlier), 'roleLeak');
    assert.equal(
      failedFilter('The user is a language enthusiast who loves learning languages.', earlier),
      'roleLeak',
      'narrating the user',
    );
    assert.equal(
      failedFilter('The user table has an email column: how do I index it?', earlier),
      undefined,
      'a question about a "user" thing',
    );
    assert.equal(
      failedFilter(`Lists ${Array.from({ length: 64 }, (_, i) => `hold item${i}`).join(', ')}.`, earlier),
      'assistantSpeak',
      'answering instead of asking',
    );
    assert.equal(
      failedFilter('Hey there! How are you? '.repeat(4), earlier),
      'repetitive',
      'a model looping on one phrase',
    );
    assert.equal(failedFilter('And what about sorting it in reverse?', earlier), undefined);
    assert.equal(
      failedFilter(
        'Can you compare the list, the tuple, the set and the dict, and say when I should pick the list over the tuple?',
        earlier,
      ),
      undefined,
      'some repeated words are no loop',
    );
    assert.equal(failedFilter('Why?', earlier, 1), undefined, 'minWords is configurable');
  });

  it('tells a user taking leave from one asking', () => {
    const said = {
      leaving: [
        "Thanks, that's all I needed!",
        'Okay, thank you.',
        "That's it for now, bye",
        "I'm all set, cheers",
      ],
      asking: [
        'Thanks! And what about the second one?',
        'Thank you. Can you also explain how the garbage collector decides what to free first in Java',
        'Why is that?',
        'Okay so how do I sort it',
      ],
    };
    for (const [kind, replies] of Object.entries(said))
      for (const reply of replies) assert.equal(isUserDone(reply), kind === 'leaving', reply);
  });
});
