// How many turns a dialogue is to run: one number, or drawn per dialogue under the run's seed.
import type { DatasetInput } from '../config/dataset-input';
import { derivedSeed, prng, uniformInt, weightedPick } from '../random';

/** The target turns of dialogue `index`: fixed, or drawn from {min, max} or a histogram under the run's seed. */
export function turnsFor(input: DatasetInput, index: number): number {
  if (typeof input.turns === 'number') return input.turns;
  const rand = prng(derivedSeed(input.randomSeed, index, 0x7475726e));
  if ('histogram' in input.turns)
    return weightedPick(
      rand,
      Object.entries(input.turns.histogram).map(([k, w]) => [Number(k), w]),
    );
  return uniformInt(rand, input.turns.min, input.turns.max);
}

/** The most turns any dialogue of the input may run. */
export function maxTurns(turns: DatasetInput['turns']): number {
  if (typeof turns === 'number') return turns;
  if ('histogram' in turns)
    return Math.max(
      ...Object.entries(turns.histogram)
        .filter(([, w]) => w > 0)
        .map(([k]) => Number(k)),
    );
  return turns.max;
}
