// Near-duplicate dialogues in bounded memory: MinHash signatures of word 3-shingles, and
// locality-sensitive hashing (16 bands of 4 rows, each band one 32-bit integer key) over a
// uniform sample of at most SAMPLE_DIALOGUES dialogues held in typed arrays.
//
// Every dialogue is compared with the sample; a sampled dialogue is marked once a later one
// nearly repeats it (estimated Jaccard ≥ 0.8). While the dataset fits in the sample that is every
// dialogue, and the count is the LSH count over all of them. Beyond, a dialogue in the final sample
// has been in it since it arrived (bottom-k), so its mark is right and the marked share of the
// sample estimates the dataset's: standard error n·√(q(1−q)/k · (n−k)/(n−1)) for share q, sample k.
import { BottomKSample } from './bottom-k-sample';
import * as hashing from './hashing';

// Bound once: through tsx's (esbuild's) export getters, these calls in the hot loops run ~5× slower.
const { combine, hashString, mix32 } = hashing;

const ROWS = 64;
const BANDS = 16;
const BAND_ROWS = ROWS / BANDS;
const SHINGLE = 3;
const ROW_SEEDS = Int32Array.from({ length: ROWS }, (_, k) => mix32(k + 0x51ed270b));

/** Dialogues the near-duplicate count is exact up to, and the sample size beyond: ~14.3 MiB of typed arrays. */
export const SAMPLE_DIALOGUES = 2 ** 15;

/** MinHash signature of a text's word 3-shingles (a text shorter than 3 words is one shingle). */
export function minhash(tokens: string[], signature = new Int32Array(ROWS)): Int32Array {
  signature.fill(0x7fffffff);
  const hashes = tokens.map((t) => hashString(t, 0x3c6ef372));
  const shingles = Math.max(1, tokens.length - SHINGLE + 1);
  for (let i = 0; i < shingles; i++) {
    let shingle = 0x1b873593;
    for (let j = i; j < Math.min(i + SHINGLE, hashes.length); j++) shingle = combine(shingle, hashes[j]);
    for (let k = 0; k < ROWS; k++) {
      const h = mix32(shingle ^ ROW_SEEDS[k]);
      if (h < signature[k]) signature[k] = h;
    }
  }
  return signature;
}

/** Estimated Jaccard similarity of two signatures' shingle sets: the share of equal rows. */
export function estimatedJaccard(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let k = 0; k < a.length; k++) if (a[k] === b[k]) same++;
  return same / a.length;
}

/** Counts dialogues that a later dialogue nearly repeats: of a group of near-copies, all but the last. */
export class NearDuplicateFinder {
  private seen = 0;
  private marked = 0;
  private readonly sample: BottomKSample;
  private readonly signatures: Int32Array;
  private readonly isMarked: Uint8Array;
  /** By entry (slot × BANDS + band): the band's key, and the next entry of its bucket (−1: none). */
  private readonly bandKeys: Int32Array;
  private readonly next: Int32Array;
  /** By bucket (low bits of a key): its first entry, −1 if none. Only unmarked dialogues are linked. */
  private readonly heads: Int32Array;
  private readonly mask: number;
  private readonly signature = new Int32Array(ROWS);
  private readonly keys = new Int32Array(BANDS);

  constructor(
    private readonly threshold = 0.8,
    readonly capacity = SAMPLE_DIALOGUES,
  ) {
    this.sample = new BottomKSample(capacity);
    this.signatures = new Int32Array(capacity * ROWS);
    this.isMarked = new Uint8Array(capacity);
    this.bandKeys = new Int32Array(capacity * BANDS);
    this.next = new Int32Array(capacity * BANDS);
    const buckets = 2 ** Math.ceil(Math.log2(capacity * BANDS));
    this.heads = new Int32Array(buckets).fill(-1);
    this.mask = buckets - 1;
  }

  add(tokens: string[]): void {
    minhash(tokens, this.signature);
    for (let band = 0; band < BANDS; band++) {
      let key = band;
      for (let r = band * BAND_ROWS; r < (band + 1) * BAND_ROWS; r++) key = combine(key, this.signature[r]);
      this.keys[band] = key;
    }
    this.markRepeatedOnes();
    this.keep(mix32(this.seen++ ^ 0x27d4eb2f));
  }

  /** Dialogues that a later one nearly repeats: counted while every dialogue is sampled, else estimated from the sample. */
  get duplicates(): number {
    return this.isExact ? this.marked : Math.round((this.marked * this.seen) / this.capacity);
  }

  get isExact(): boolean {
    return this.seen <= this.capacity;
  }

  /** Standard error of `duplicates`: 0 while it is counted, else the sample's (finite population). */
  get standardError(): number {
    if (this.isExact) return 0;
    const q = this.marked / this.capacity;
    return (
      this.seen * Math.sqrt(((q * (1 - q)) / this.capacity) * ((this.seen - this.capacity) / (this.seen - 1)))
    );
  }

  /** Marks the sampled dialogues the current one nearly repeats, and unlinks them: a mark is final. */
  private markRepeatedOnes(): void {
    const found: number[] = [];
    for (let band = 0; band < BANDS; band++) {
      const key = this.keys[band];
      for (let entry = this.heads[key & this.mask]; entry !== -1; entry = this.next[entry]) {
        if (this.bandKeys[entry] !== key || entry % BANDS !== band) continue;
        const slot = (entry - band) / BANDS;
        if (found.includes(slot)) continue;
        if (
          estimatedJaccard(this.signature, this.signatures.subarray(slot * ROWS, (slot + 1) * ROWS)) >=
          this.threshold
        )
          found.push(slot);
      }
    }
    for (const slot of found) {
      this.isMarked[slot] = 1;
      this.marked++;
      this.unlink(slot);
    }
  }

  /** Puts the current dialogue in the sample if its priority wins it a slot. */
  private keep(priority: number): void {
    const wasFull = this.sample.full;
    const slot = this.sample.offer(priority);
    if (slot < 0) return;
    if (wasFull) {
      if (this.isMarked[slot]) this.marked--;
      else this.unlink(slot);
    }
    this.isMarked[slot] = 0;
    this.signatures.set(this.signature, slot * ROWS);
    for (let band = 0; band < BANDS; band++) {
      const entry = slot * BANDS + band;
      const bucket = this.keys[band] & this.mask;
      this.bandKeys[entry] = this.keys[band];
      this.next[entry] = this.heads[bucket];
      this.heads[bucket] = entry;
    }
  }

  private unlink(slot: number): void {
    for (let band = 0; band < BANDS; band++) {
      const entry = slot * BANDS + band;
      const bucket = this.bandKeys[entry] & this.mask;
      if (this.heads[bucket] === entry) {
        this.heads[bucket] = this.next[entry];
        continue;
      }
      let previous = this.heads[bucket];
      while (this.next[previous] !== entry) previous = this.next[previous];
      this.next[previous] = this.next[entry];
    }
  }
}
