// One dataset writes under an output: a second one there would overwrite the first's records,
// shards and manifest. The dataset that opens an output records itself in owner.json; another
// dataset (another workflow ID, or the same one started again) may write there only by resuming
// the owner, and then owns it.
import { ApplicationFailure } from '@temporalio/common';
import type { DatasetRunRef } from '../types';
import type { BlobStore } from './blob-store';
import { OWNER_KEY } from './dataset-layout';

/** Fails, not to be retried, when the output belongs to another dataset that `resumeFrom` does not name. */
export async function checkOwner(store: BlobStore, self: DatasetRunRef, resumeFrom?: string): Promise<void> {
  const text = await store.get(OWNER_KEY);
  if (text === undefined) return;
  const owner = JSON.parse(text) as DatasetRunRef;
  const same = owner.datasetId === self.datasetId;
  if ((same && owner.runId === self.runId) || owner.datasetId === resumeFrom) return;
  const whose = same
    ? `an earlier dataset with this workflow ID, '${owner.datasetId}' (first run ${owner.runId})`
    : `dataset '${owner.datasetId}'`;
  throw ApplicationFailure.nonRetryable(
    `output: ${store.uri} holds ${whose}, which another dataset there would overwrite; to continue it, set resumeFrom: '${owner.datasetId}'; to start a separate dataset, give it another output`,
    'OutputInUse',
  );
}

/** Makes `self` the output's owner (once its lineage is settled: a resume that is refused leaves it as it was). */
export async function claimOwner(store: BlobStore, self: DatasetRunRef): Promise<void> {
  await store.put(OWNER_KEY, JSON.stringify(self));
}
