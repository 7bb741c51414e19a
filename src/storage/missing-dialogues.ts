// The requested dialogues an export did not find stored (failed, or never started when a budget
// stopped the dataset): all of them in missing.json beside the manifest, and in payloads only
// their count, the first few and that file's URI, however many there are.
import type { IndexRanges, RangesBuilder } from '../index-ranges';
import { firstOf } from '../index-ranges';
import type { MissingDialogues } from '../types';
import type { BlobStore } from './blob-store';
import { MISSING_KEY } from './dataset-layout';

/** Missing indices a payload lists (the count is exact beyond them). */
export const LISTED_MISSING = 100;

/** What missing.json holds. */
export interface MissingFile {
  count: number;
  /** Every missing index, as sorted, disjoint [start, end] ranges (end inclusive). */
  ranges: IndexRanges;
}

/** Writes missing.json (also when none is missing: an earlier export's must not stay) and returns its summary. */
export async function writeMissing(store: BlobStore, missing: RangesBuilder): Promise<MissingDialogues> {
  const file: MissingFile = { count: missing.count, ranges: missing.ranges };
  await store.put(MISSING_KEY, JSON.stringify(file));
  return {
    count: missing.count,
    first: firstOf(missing.ranges, LISTED_MISSING),
    uri: store.uriOf(MISSING_KEY),
  };
}
