// Activities that write and read a dataset's objects: one record per dialogue as it finishes,
// opening a dataset (./open-dataset.ts), the export (./export-dataset.ts) and the report
// (./write-report.ts).
import type { AllowedRoots } from '../config/allowed-roots';
import { DIALOGUES_PER_SHARD, progressKey, recordKey } from '../storage/dataset-layout';
import { openBlobStore } from '../storage/open-blob-store';
import type { DialogueRecord } from '../types';
import { exportDatasetActivity } from './export-dataset';
import { heartbeatWhile } from './heartbeats';
import { createOpenDatasetActivities } from './open-dataset';
import { writeReportActivity } from './write-report';

export function createDatasetStorageActivities(roots: AllowedRoots, shardSize = DIALOGUES_PER_SHARD) {
  return {
    /** `dropProgress`: the dialogue went on from stored progress (./dialogue-progress.ts), removed now. */
    async storeDialogue({
      output,
      record,
      dropProgress,
    }: {
      output: string;
      record: DialogueRecord;
      dropProgress?: boolean;
    }): Promise<string> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const key = recordKey(record.index);
        await store.put(key, JSON.stringify(record));
        if (dropProgress) await store.delete([progressKey(record.index)]);
        return store.uriOf(key);
      });
    },
    ...createOpenDatasetActivities(roots),
    exportDataset: exportDatasetActivity(roots, shardSize),
    writeReport: writeReportActivity(roots),
  };
}
