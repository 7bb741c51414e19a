// Personas of the prompted simulated user: drawn per dialogue under the run's seed, recorded with
// each dialogue, and shown to the Ask model (FAKE LLM server).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { personaFor } from '../src/prompts/personas';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { generateDataset } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';

describe('personas', () => {
  describe('in a dataset (fake LLM server)', () => {
    const s = useFakeLlmSuite('personas');

    it('records each dialogue persona and tells the prompted Ask model who it is', async () => {
      const output = path.join(s.outDir, 'custom');
      const personas = ['a pirate who loves maps', 'a poet who hates computers', 'a chef in a rush'];
      const result = await s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue,
        workflowId: 'personas-custom',
        args: [
          {
            count: 6,
            turns: 2,
            randomSeed: 9,
            output: pathToFileURL(output).href,
            ask: { endpoint: 'fake', model: FAKE_MODEL, personas },
            answer: { endpoint: 'fake', model: FAKE_MODEL },
          },
        ],
      });
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
      await s.t.env.client.workflow.execute(generateDataset, {
        taskQueue: s.t.taskQueue,
        workflowId: 'personas-off',
        args: [
          {
            count: 1,
            turns: 2,
            output: pathToFileURL(off).href,
            ask: { endpoint: 'fake', model: FAKE_MODEL, personas: false },
            answer: { endpoint: 'fake', model: FAKE_MODEL },
          },
        ],
      });
      assert.equal(JSON.parse(fs.readFileSync(path.join(off, recordKey(0)), 'utf8')).persona, undefined);
      assert.doesNotMatch(s.fake.requests.at(-2)!.body.messages.at(-1).content, /The user is/);
    });
  });
});
