// Sets of dialogue indices as sorted, disjoint [start, end] ranges (end inclusive): a resumed
// run's finished dialogues stay small in workflow history even at 40,000.
export type IndexRanges = [number, number][];

/** Ranges from indices given in ascending order. */
export function rangesFromSorted(indices: Iterable<number>): IndexRanges {
  const ranges: IndexRanges = [];
  for (const i of indices) {
    const last = ranges[ranges.length - 1];
    if (last && i === last[1] + 1) last[1] = i;
    else ranges.push([i, i]);
  }
  return ranges;
}

/** The smallest index >= `from` that is in no range. */
export function nextOutside(ranges: IndexRanges, from: number): number {
  let i = from;
  for (const [start, end] of ranges) {
    if (end < i) continue;
    if (start > i) break;
    i = end + 1;
  }
  return i;
}

/** How many indices in [from, to) the ranges hold. */
export function countInside(ranges: IndexRanges, from: number, to: number): number {
  let n = 0;
  for (const [start, end] of ranges) n += Math.max(0, Math.min(end + 1, to) - Math.max(start, from));
  return n;
}
