// A dialogue that its group hands on to the group's next run (the group continues as new as its
// history nears Temporal's limits) passes through storage: its conversation so far may be far
// larger than a continue-as-new input should carry.
import { ApplicationFailure } from '@temporalio/common';
import type { AllowedRoots } from '../config/allowed-roots';
import { progressKey } from '../storage/dataset-layout';
import { openBlobStore } from '../storage/open-blob-store';
import type { DialogueState } from '../types';
import { heartbeatWhile } from './heartbeats';

/** Whose dialogue it is: the dataset's workflow ID and first run ID. */
export interface ProgressOwner {
  output: string;
  datasetId: string;
  datasetRunId?: string;
}

interface StoredProgress {
  datasetId: string;
  datasetRunId?: string;
  state: DialogueState;
}

export function createDialogueProgressActivities(roots: AllowedRoots) {
  return {
    async saveDialogueProgress({
      output,
      datasetId,
      datasetRunId,
      state,
    }: ProgressOwner & { state: DialogueState }) {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const stored: StoredProgress = { datasetId, datasetRunId, state };
        await openBlobStore(output, { signal }).put(progressKey(state.index), JSON.stringify(stored));
      });
    },

    /** The progress saveDialogueProgress stored for dialogue `index` of this dataset. */
    async loadDialogueProgress({
      output,
      datasetId,
      datasetRunId,
      index,
    }: ProgressOwner & { index: number }): Promise<DialogueState> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const uri = store.uriOf(progressKey(index));
        const text = await store.get(progressKey(index));
        if (text === undefined)
          throw ApplicationFailure.nonRetryable(
            `the progress its group stored for dialogue ${index} is gone from ${uri}`,
            'ProgressMissing',
          );
        const stored = JSON.parse(text) as StoredProgress;
        if (stored.datasetId !== datasetId || stored.datasetRunId !== datasetRunId)
          throw ApplicationFailure.nonRetryable(
            `${uri} holds dialogue ${index} of dataset ${stored.datasetId} (run ${stored.datasetRunId}), not of ${datasetId} (run ${datasetRunId}): another dataset writes to the same output`,
            'ProgressOfAnotherDataset',
          );
        return stored.state;
      });
    },
  };
}
