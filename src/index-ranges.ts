// Sets of dialogue indices as sorted, disjoint [start, end] ranges (end inclusive): compact while
// the indices run together (the dialogues a budget never started), and bounded wherever they go
// into a payload (a block of the indices still to run, a sample of those missing).
export type IndexRanges = [number, number][];

/** Ranges from indices given in ascending order. */
export function rangesFromSorted(indices: Iterable<number>): IndexRanges {
  const ranges = new RangesBuilder();
  for (const i of indices) ranges.add(i, i);
  return ranges.ranges;
}

/** How many indices the ranges hold. */
export function countOf(ranges: IndexRanges): number {
  let n = 0;
  for (const [start, end] of ranges) n += end - start + 1;
  return n;
}

/** The first `n` indices of `ranges`. */
export function firstOf(ranges: IndexRanges, n: number): number[] {
  const first: number[] = [];
  for (const [start, end] of ranges)
    for (let i = start; i <= end; i++) {
      if (first.length === n) return first;
      first.push(i);
    }
  return first;
}

/** Removes the first `n` indices from `ranges` (in place) and returns them. */
export function takeFirst(ranges: IndexRanges, n: number): number[] {
  const taken = firstOf(ranges, n);
  let left = taken.length;
  while (left > 0) {
    const size = ranges[0][1] - ranges[0][0] + 1;
    if (size > left) ranges[0][0] += left;
    else ranges.shift();
    left -= Math.min(size, left);
  }
  return taken;
}

/** Collects ranges of indices given in ascending order, counting them. */
export class RangesBuilder {
  readonly ranges: IndexRanges = [];
  count = 0;

  /** Adds the indices from..to (inclusive), all above those added before. */
  add(from: number, to: number) {
    if (to < from) return;
    this.count += to - from + 1;
    const last = this.ranges[this.ranges.length - 1];
    if (last && from === last[1] + 1) last[1] = to;
    else this.ranges.push([from, to]);
  }
}

/** Whether `index` is in `ranges` (binary search). */
export function includes(ranges: IndexRanges, index: number): boolean {
  let [lo, hi] = [0, ranges.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index < ranges[mid][0]) hi = mid - 1;
    else if (index > ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}
