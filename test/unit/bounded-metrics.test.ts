// The metrics' bounded structures against corpora whose true counts are known: exact below their
// limits, within the stated error above them, and memory that stops growing with the dataset.
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { prng, syntheticRecord } from '../../bench/synthetic-dialogues';
import { DatasetMetricsAccumulator } from '../../src/metrics/dataset-metrics';
import { DistinctCount, EXACT_LIMIT } from '../../src/metrics/distinct-count';
import { hashString } from '../../src/metrics/hashing';
import { HLL_RELATIVE_ERROR } from '../../src/metrics/hyperloglog';
import {
  estimatedJaccard,
  minhash,
  NearDuplicateFinder,
  SAMPLE_DIALOGUES,
} from '../../src/metrics/near-duplicates';
import type { DialogueRecord } from '../../src/types';
import { DistinctNgrams, words } from '../../src/metrics/text-metrics';
import { testRecord, turns } from '../helpers/dialogue-records';

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
    assert.ok(
      Math.abs(ngrams.distinct(2) - exact) <= 3 * HLL_RELATIVE_ERROR * exact,
      `${ngrams.distinct(2)} vs ${exact}`,
    );
  });
});

/** `count` texts of 30 random words; every 10th repeats the one 5 before it with a word added. */
function corpus(count: number): string[][] {
  const random = prng(7);
  const texts: string[][] = [];
  for (let i = 0; i < count; i++) {
    texts.push(
      i % 10 === 9
        ? [...texts[i - 5], 'again']
        : Array.from({ length: 30 }, () => `w${Math.floor(random() * 5_000)}`),
    );
  }
  return texts;
}

describe('near-duplicate dialogues', () => {
  it('estimates Jaccard similarity from MinHash signatures within 3 standard errors', () => {
    // 40 shingles each, 20 shared: J = 20 / 60. Standard error √(J(1−J)/64) ≈ 0.059.
    const shared = Array.from({ length: 22 }, (_, i) => `s${i}`);
    const a = [...shared, ...Array.from({ length: 20 }, (_, i) => `a${i}`)];
    const b = [...shared, ...Array.from({ length: 20 }, (_, i) => `b${i}`)];
    const j = 20 / 60;
    assert.ok(Math.abs(estimatedJaccard(minhash(a), minhash(b)) - j) <= 3 * Math.sqrt((j * (1 - j)) / 64));
  });

  it('counts exactly while every dialogue fits in the sample', () => {
    const finder = new NearDuplicateFinder(0.8, 20_000);
    for (const text of corpus(20_000)) finder.add(text);
    assert.equal(finder.isExact, true);
    assert.equal(finder.duplicates, 2_000);
    assert.equal(finder.standardError, 0);
  });

  it('estimates from a fixed-size sample beyond it, within 3 standard errors', () => {
    const finder = new NearDuplicateFinder(0.8, 10_000);
    for (const text of corpus(100_000)) finder.add(text);
    assert.equal(finder.isExact, false);
    // Share 0.1, sample 10,000 of 100,000: 100,000 · √(0.09 / 10,000 · 0.9) ≈ 285.
    assert.ok(Math.abs(finder.standardError - 285) < 20, String(finder.standardError));
    assert.ok(Math.abs(finder.duplicates - 10_000) <= 3 * finder.standardError, String(finder.duplicates));
  });
});

/** One-turn dialogue `i` of 12 random words; every 10th repeats the one 5 before with a word added. */
function shortDialogue(i: number): DialogueRecord {
  const of = i % 10 === 9 ? i - 5 : i;
  const words = Array.from({ length: 12 }, (_, k) => `w${(hashString(`${of}/${k}`, 3) >>> 0) % 50_000}`);
  const answer = words.slice(5).join(' ');
  return testRecord(i, {
    conversations: turns(words.slice(0, 5).join(' '), [of === i ? answer : `${answer} again`, 7]),
  });
}

describe('dataset metrics memory', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const retainedMiB = () => {
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return (heapUsed + arrayBuffers) / 2 ** 20;
  };

  it(`stops growing with the number of dialogues, past its sample of ${SAMPLE_DIALOGUES}`, () => {
    // Short dialogues, cheap enough to pass the sample in a few seconds; every 10th nearly repeats one.
    const count = SAMPLE_DIALOGUES + 7_232;
    const baseline = retainedMiB();
    const metrics = new DatasetMetricsAccumulator();
    for (let i = 0; i < 2_000; i++) metrics.add(shortDialogue(i));
    const early = retainedMiB() - baseline;
    for (let i = 2_000; i < count; i++) metrics.add(shortDialogue(i));
    const late = retainedMiB() - baseline;
    const result = metrics.result();
    assert.equal(result.dialogues, count);
    // Estimated from the sample: the count went past it, and the estimate holds there.
    const se = result.nearDuplicateDialoguesStandardError;
    assert.ok(se !== undefined && se > 0, 'the near-duplicate count is still exact');
    assert.ok(
      Math.abs(result.nearDuplicateDialogues! - count / 10) <= 3 * se,
      `${result.nearDuplicateDialogues}`,
    );
    // The bound: ~14.3 MiB of near-duplicate sample, four exact sets of ≤ 16,384 hashes (≤ 0.6 MiB each).
    assert.ok(late < 20, `${late.toFixed(1)} MiB retained`);
    assert.ok(late - early < 4, `grew ${(late - early).toFixed(1)} MiB from 2,000 to ${count} dialogues`);
  });
});
