// Counts distinct items in bounded memory: exactly while there are at most EXACT_LIMIT of them (a
// set of 53-bit hashes, ≤ 0.6 MiB), then by a HyperLogLog sketch (16 KiB, relative standard error
// 0.81 %), which is fed all along so the switch loses nothing.
import { HyperLogLog } from './hyperloglog';

/** Up to this many distinct items the count is exact (barring a 53-bit hash collision: < 10⁻⁷). */
export const EXACT_LIMIT = 2 ** 14;

export class DistinctCount {
  private exact: Set<number> | undefined = new Set();
  private readonly sketch = new HyperLogLog();

  /** Adds an item by two independent 32-bit hashes of it. */
  add(high: number, low: number): void {
    this.sketch.add(high, low);
    if (!this.exact) return;
    this.exact.add((high >>> 11) * 2 ** 32 + (low >>> 0));
    if (this.exact.size > EXACT_LIMIT) this.exact = undefined;
  }

  /** The exact count up to EXACT_LIMIT, else the sketch's estimate, rounded. */
  count(): number {
    return this.exact ? this.exact.size : Math.round(this.sketch.estimate());
  }

  get isExact(): boolean {
    return this.exact !== undefined;
  }
}
