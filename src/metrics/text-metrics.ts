// Text statistics that need no model: word tokens and distinct-n (unique n-grams / all n-grams).
import { DistinctCount } from './distinct-count';
import * as hashing from './hashing';

// Bound once: through tsx's (esbuild's) export getters, these calls in the hot loops run ~5× slower.
const { combine, hashString } = hashing;

export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];
}

/**
 * Counts n-grams as texts stream past; distinct-n is over everything added. Each n keeps a
 * DistinctCount: exact up to 16,384 distinct n-grams, beyond that a HyperLogLog estimate
 * (relative standard error 0.81 %), so memory stays ≤ 0.6 MiB per n however much is added.
 */
export class DistinctNgrams {
  private readonly distinctCounts: DistinctCount[];
  private readonly totals: number[];
  constructor(private readonly maxN = 2) {
    this.distinctCounts = Array.from({ length: maxN }, () => new DistinctCount());
    this.totals = new Array<number>(maxN).fill(0);
  }
  add(tokens: string[]): void {
    // Two independent hashes a word; an n-gram's are combined from its words' in order.
    const high = tokens.map((t) => hashString(t, 0x2545f491));
    const low = tokens.map((t) => hashString(t, 0x6a09e667));
    for (let n = 1; n <= this.maxN; n++) {
      for (let i = 0; i + n <= tokens.length; i++) {
        let h = high[i];
        let l = low[i];
        for (let k = 1; k < n; k++) {
          h = combine(h, high[i + k]);
          l = combine(l, low[i + k]);
        }
        this.distinctCounts[n - 1].add(h, l);
        this.totals[n - 1]++;
      }
    }
  }
  distinct(n: number): number {
    const total = this.totals[n - 1];
    return total === 0 ? 0 : this.distinctCounts[n - 1].count() / total;
  }
}
