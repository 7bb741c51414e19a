// Personas of the prompted simulated user: drawn per dialogue under the run's seed, recorded with
// each dialogue, and shown to the Ask model (FAKE LLM server).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { personaFor } from '../src/prompts/personas';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDatasetInput, fakeRole } from './helpers/inputs';
import { runDataset } from './helpers/temporal';

describe('personas', () => {
  describe('in a dataset (fake LLM server)', () => {
    const s = useFakeLlmSuite('personas');

    it('records each dialogue persona and tells the prompted Ask model who it is', async () => {
      const output = path.join(s.outDir, 'custom');
      const personas = ['a pirate who loves maps', 'a poet who hates computers', 'a chef in a rush'];
      const result = await runDataset(
        s.t,
        'personas-custom',
        fakeDatasetInput(output, { count: 6, turns: 2, randomSeed: 9, ask: { ...fakeRole(), personas } }),
      );
      assert.equal(result.completed, 6);
      const records: DialogueRecord[] = Array.from({ length: 6 }, (_, i) =>
        JSON.parse(fs.readFileSync(path.join(output, recordKey(i)), 'utf8')),
      );
      assert.deepEqual(
        records.map((r) => r.persona),
        records.map((_, i) => personaFor(personas, 9, i)),
        'drawn under the recorded seed',
      );
      assert.ok(new Set(records.map((r) => r.persona)).size > 1, 'not one persona for all');
      const askPrompts = s.fake.requests
        .filter((r) => r.body?.messages?.at(-1).content.includes('suppose you are the user'))
        .map((r) => r.body.messages.at(-1).content as string);
      assert.equal(askPrompts.length, 6);
      for (const r of records)
        assert.ok(
          askPrompts.some((p) => p.includes(`The user is ${r.persona}.`) && p.includes(r.seed)),
          `${r.id}: its persona was not in its ask prompt`,
        );

      const off = path.join(s.outDir, 'off');
      await runDataset(
        s.t,
        'personas-off',
        fakeDatasetInput(off, { count: 1, turns: 2, ask: { ...fakeRole(), personas: false } }),
      );
      assert.equal(JSON.parse(fs.readFileSync(path.join(off, recordKey(0)), 'utf8')).persona, undefined);
      assert.doesNotMatch(s.fake.requests.at(-2)!.body.messages.at(-1).content, /The user is/);
    });
  });
});
