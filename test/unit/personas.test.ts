// Personas of the prompted simulated user, drawn per dialogue under the run's seed (recorded and
// shown to the Ask model in a dataset: test/personas.test.ts).
import assert from 'node:assert/strict';
import { BUILTIN_PERSONAS, personaFor } from '../../src/prompts/personas';
import type {} from '../../src/types';

describe('personas', () => {
  it('draws one per dialogue, the same again under the same seed, varied across dialogues', () => {
    const draws = Array.from({ length: 200 }, (_, i) => personaFor(undefined, 42, i)!);
    assert.deepEqual(
      draws,
      Array.from({ length: 200 }, (_, i) => personaFor(undefined, 42, i)),
    );
    assert.notDeepEqual(
      draws,
      Array.from({ length: 200 }, (_, i) => personaFor(undefined, 43, i)),
    );
    assert.ok(new Set(draws).size > 50, `only ${new Set(draws).size} distinct personas in 200`);
    assert.ok(
      BUILTIN_PERSONAS.every((p) => draws.some((d) => d.startsWith(p))),
      'every built-in persona turns up',
    );
    assert.equal(personaFor(false, 42, 0), undefined);
    assert.ok(['a pirate', 'a poet'].includes(personaFor(['a pirate', 'a poet'], 42, 0)!));
  });
});
