// Reading a dataset's stored dialogues back in index order, a few objects at a time, so metrics
// and export stream over any number of dialogues in bounded memory.
import { permutation, prng } from '../random';
import { isRecordOf, type DatasetRunRef, type DialogueRecord } from '../types';
import type { BlobStore } from './blob-store';
import { recordKey } from './dataset-layout';

const READ_AHEAD = 16;

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
  missing: number[] = [],
): AsyncGenerator<DialogueRecord> {
  for (let start = 0; start < count; start += READ_AHEAD) {
    const indices = Array.from({ length: Math.min(READ_AHEAD, count - start) }, (_, i) => start + i);
    const texts = await Promise.all(indices.map((i) => store.get(recordKey(i))));
    for (let k = 0; k < indices.length; k++) {
      const record = texts[k] === undefined ? undefined : (JSON.parse(texts[k]!) as DialogueRecord);
      if (record && isRecordOf(record, lineage)) yield record;
      else missing.push(indices[k]);
    }
  }
}

/**
 * Up to `size` of the dataset's records, a uniform sample without replacement fixed by `seed`:
 * indices are read in a seeded order, READ_AHEAD at a time, skipping those not stored, until
 * `size` are found. Reads about `size` objects, not the whole dataset.
 */
export async function sampleDatasetRecords(
  store: BlobStore,
  lineage: readonly DatasetRunRef[],
  count: number,
  size: number,
  seed: number,
): Promise<DialogueRecord[]> {
  const order = permutation(count, prng(seed));
  const sample: DialogueRecord[] = [];
  for (let start = 0; start < count && sample.length < size; start += READ_AHEAD) {
    const indices = order.subarray(start, start + READ_AHEAD);
    const texts = await Promise.all([...indices].map((i) => store.get(recordKey(i))));
    for (const text of texts) {
      const record = text === undefined ? undefined : (JSON.parse(text) as DialogueRecord);
      if (record && isRecordOf(record, lineage) && sample.length < size) sample.push(record);
    }
  }
  return sample;
}
