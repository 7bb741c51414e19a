// A set of dialogue indices as one bit each: 125 KB at the schema's 1,000,000 dialogues however
// they are scattered, where ranges of every other index would take 500,000 pairs. A resumed
// dataset keeps the dialogues it found stored this way in its output, and reads a bounded block
// of the indices still to run at a time (src/activities/dataset-storage.ts).
import { RangesBuilder, type IndexRanges } from '../index-ranges';

interface StoredBitmap {
  /** Indices 0..size-1. */
  size: number;
  /** How many are in the set. */
  count: number;
  /** Bit i & 7 of byte i >> 3 is index i, base64. */
  bits: string;
}

export class IndexBitmap {
  private constructor(
    readonly size: number,
    private readonly bits: Uint8Array,
    private added: number,
  ) {}

  static empty(size: number): IndexBitmap {
    return new IndexBitmap(size, new Uint8Array(Math.ceil(size / 8)), 0);
  }

  static parse(text: string): IndexBitmap {
    const stored = JSON.parse(text) as StoredBitmap;
    return new IndexBitmap(stored.size, new Uint8Array(Buffer.from(stored.bits, 'base64')), stored.count);
  }

  get count(): number {
    return this.added;
  }

  has(index: number): boolean {
    return (this.bits[index >> 3] & (1 << (index & 7))) !== 0;
  }

  add(index: number) {
    if (index < 0 || index >= this.size || this.has(index)) return;
    this.bits[index >> 3] |= 1 << (index & 7);
    this.added++;
  }

  serialize(): string {
    const stored: StoredBitmap = {
      size: this.size,
      count: this.added,
      bits: Buffer.from(this.bits).toString('base64'),
    };
    return JSON.stringify(stored);
  }

  /**
   * The indices from `from` on that are not in the set, as at most `maxRanges` ranges, and where
   * the next look should start (`size` once none are left past them).
   */
  rangesOutside(from: number, maxRanges: number): { ranges: IndexRanges; next: number } {
    const out = new RangesBuilder();
    let i = from;
    while (i < this.size && out.ranges.length < maxRanges) {
      while (i < this.size && this.has(i)) i++;
      const start = i;
      while (i < this.size && !this.has(i)) i++;
      out.add(start, i - 1);
    }
    return { ranges: out.ranges, next: i };
  }
}
