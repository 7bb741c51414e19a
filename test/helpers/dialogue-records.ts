// Stored dialogues for tests that write or read records without running a dataset.
import type { DialogueRecord } from '../../src/types';
import { emptyUsage } from '../../src/usage';

/**
 * Dialogue `index` as the store activity writes it: by default one question and its answer, of
 * dataset `d` (first run `run-1`); `overrides` replace any field.
 */
export function testRecord(index: number, overrides: Partial<DialogueRecord> = {}): DialogueRecord {
  const datasetId = overrides.datasetId ?? 'd';
  const conversations: DialogueRecord['conversations'] = overrides.conversations ?? [
    { from: 'human', value: `question ${index}?` },
    { from: 'gpt', value: `answer ${index}`, tokens: 2 },
  ];
  const turns = conversations.filter((c) => c.from === 'gpt').length;
  return {
    id: `${datasetId}/${index}`,
    datasetId,
    datasetRunId: 'run-1',
    index,
    seed: conversations[0]?.value ?? '',
    conversations,
    turns,
    targetTurns: turns,
    endedBy: 'target',
    filterHits: {},
    usage: { ask: emptyUsage(), answer: emptyUsage() },
    models: { ask: 'fake/m', answer: 'fake/m' },
    ...overrides,
  };
}

/** Turns that alternate from a human question: each a text, or a text and its token count. */
export function turns(...texts: (string | [string, number])[]): DialogueRecord['conversations'] {
  return texts.map((t, i) => {
    const [value, tokens] = typeof t === 'string' ? [t] : t;
    return { from: i % 2 === 0 ? 'human' : 'gpt', value, ...(tokens !== undefined && { tokens }) };
  });
}
