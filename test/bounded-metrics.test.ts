// The metrics' bounded structures against corpora whose true counts are known: exact below their
// limits, within the stated error above them, and memory that stops growing with the dataset.
import assert from 'node:assert/strict';
import { syntheticRecord } from '../bench/synthetic-dialogues';
import { DistinctCount, EXACT_LIMIT } from '../src/metrics/distinct-count';
import { hashString } from '../src/metrics/hashing';
import { HLL_RELATIVE_ERROR } from '../src/metrics/hyperloglog';
import { DistinctNgrams, words } from '../src/metrics/text-metrics';

function distinctCountOf(items: number, repeats: number): DistinctCount {
  const count = new DistinctCount();
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < items; i++) count.add(hashString(`item ${i}`, 1), hashString(`item ${i}`, 2));
  }
  return count;
}

describe('distinct counts', () => {
  it(`are exact up to ${EXACT_LIMIT} distinct items`, () => {
    for (const n of [0, 1, 1_000, EXACT_LIMIT]) {
      const count = distinctCountOf(n, 3);
      assert.equal(count.isExact, true);
      assert.equal(count.count(), n);
    }
  });

  for (const n of [EXACT_LIMIT + 1, 50_000, 300_000, 2_000_000]) {
    it(`estimate ${n} distinct items within 3 standard errors (±${(300 * HLL_RELATIVE_ERROR).toFixed(1)} %)`, () => {
      const count = distinctCountOf(n, n > 300_000 ? 1 : 2);
      assert.equal(count.isExact, false);
      assert.ok(Math.abs(count.count() - n) <= 3 * HLL_RELATIVE_ERROR * n, `${count.count()} for ${n}`);
    });
  }

  it('give distinct-2 of a large corpus within the stated error of the exact value', () => {
    const ngrams = new DistinctNgrams(2);
    const bigrams = new Set<string>();
    let total = 0;
    for (let i = 0; i < 2_000; i++) {
      for (const turn of syntheticRecord(i).conversations) {
        const tokens = words(turn.value);
        ngrams.add(tokens);
        for (let k = 0; k + 1 < tokens.length; k++) bigrams.add(`${tokens[k]} ${tokens[k + 1]}`);
        total += Math.max(0, tokens.length - 1);
      }
    }
    assert.ok(bigrams.size > 10 * EXACT_LIMIT, `a corpus past the exact limit: ${bigrams.size}`);
    const exact = bigrams.size / total;
    assert.ok(Math.abs(ngrams.distinct(2) - exact) <= 3 * HLL_RELATIVE_ERROR * exact, `${ngrams.distinct(2)} vs ${exact}`);
  });
});
