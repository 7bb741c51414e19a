// What a user can do to a running dataset, from the Temporal CLI or UI:
//   temporal workflow update execute --workflow-id <id> --name pause     no new dialogue starts
//   temporal workflow update execute --workflow-id <id> --name unpause   starting goes on
// Both answer whether the dataset is now paused, and its phase ('opening' while its first run
// checks endpoints and reads seeds). The dialogues in flight finish either way.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DatasetProgress } from './dataset-run';
import type { DatasetPhase } from './search-attributes';

export interface PauseState {
  paused: boolean;
  phase: DatasetPhase | 'opening';
}

export const progressQuery = defineQuery<DatasetProgress>('progress');
export const pauseUpdate = defineUpdate<PauseState>('pause');
export const unpauseUpdate = defineUpdate<PauseState>('unpause');
