// What a user can do to a running dataset, from the Temporal CLI or UI:
//   temporal workflow update execute --workflow-id <id> --name pause     no new dialogue starts
//   temporal workflow update execute --workflow-id <id> --name unpause   starting goes on
// Both return the dataset's progress. The dialogues in flight finish either way.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DatasetProgress } from './dataset-run';

export const progressQuery = defineQuery<DatasetProgress>('progress');
export const pauseUpdate = defineUpdate<DatasetProgress>('pause');
export const unpauseUpdate = defineUpdate<DatasetProgress>('unpause');
