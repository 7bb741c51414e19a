// Reading a dataset's stored dialogues back in index order, a few objects at a time, so metrics
// and export stream over any number of dialogues in bounded memory. The records are found by
// listing them, not by asking for every index: a dataset of 1,000,000 stopped early by its
// budget holds a few hundred.
import type { RangesBuilder } from '../index-ranges';
import { permutation, prng } from '../random';
import type { DatasetRunRef, DialogueRecord } from '../types';
import type { BlobStore } from './blob-store';
import { recordKey, RECORDS_PREFIX } from './dataset-layout';

const READ_AHEAD = 16;

/** Whether a record belongs to a dataset of the lineage: the same workflow ID and first run ID. */
export const isRecordOf = (
  record: Pick<DialogueRecord, 'datasetId' | 'datasetRunId'>,
  lineage: readonly DatasetRunRef[],
): boolean => lineage.some((ref) => ref.datasetId === record.datasetId && ref.runId === record.datasetRunId);
const RECORD_KEY = /^records\/(\d+)\.json$/;

/**
 * Yields the records of dialogues 0..count-1 that exist and were written by a dataset of
 * `lineage` (this one and those it resumed), matched by workflow ID and first run ID: a record
 * left under the same output prefix by an unrelated dataset, or by an earlier one that used the
 * same workflow ID, is not ours. `missing` gets the other indices.
 */
export async function* readDatasetRecords(
  store: BlobStore,
  lineage: readonly DatasetRunRef[],
  count: number,
  missing?: RangesBuilder,
): AsyncGenerator<DialogueRecord> {
  const stored = await storedIndices(store, count);
  let next = 0; // indices below it are yielded or in `missing`
  for (let start = 0; start < stored.length; start += READ_AHEAD) {
    const indices = stored.slice(start, start + READ_AHEAD);
    const texts = await Promise.all(indices.map((i) => store.get(recordKey(i))));
    for (let k = 0; k < indices.length; k++) {
      const record = texts[k] === undefined ? undefined : (JSON.parse(texts[k]!) as DialogueRecord);
      if (!record || !isRecordOf(record, lineage)) continue;
      missing?.add(next, indices[k] - 1);
      next = indices[k] + 1;
      yield record;
    }
  }
  missing?.add(next, count - 1);
}

/** The indices below `count` that have a record, ascending. */
async function storedIndices(store: BlobStore, count: number): Promise<number[]> {
  const indices: number[] = [];
  for (const key of await store.list(RECORDS_PREFIX)) {
    const index = Number(RECORD_KEY.exec(key)?.[1] ?? NaN);
    if (index < count && recordKey(index) === key) indices.push(index);
  }
  return indices.sort((a, b) => a - b);
}

/**
 * Up to `size` of the dataset's records, a uniform sample without replacement fixed by `seed`:
 * the stored indices (listed) are read in a seeded order, READ_AHEAD at a time, until `size` are
 * found. Reads about `size` objects, not the whole dataset.
 */
export async function sampleDatasetRecords(
  store: BlobStore,
  lineage: readonly DatasetRunRef[],
  count: number,
  size: number,
  seed: number,
): Promise<DialogueRecord[]> {
  const stored = await storedIndices(store, count);
  const order = permutation(stored.length, prng(seed));
  const sample: DialogueRecord[] = [];
  for (let start = 0; start < stored.length && sample.length < size; start += READ_AHEAD) {
    const indices = [...order.subarray(start, start + READ_AHEAD)].map((k) => stored[k]);
    const texts = await Promise.all(indices.map((i) => store.get(recordKey(i))));
    for (const text of texts) {
      const record = text === undefined ? undefined : (JSON.parse(text) as DialogueRecord);
      if (record && isRecordOf(record, lineage) && sample.length < size) sample.push(record);
    }
  }
  return sample;
}
