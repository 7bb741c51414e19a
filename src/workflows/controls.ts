// What a user can do to a running dataset, from the Temporal CLI or UI:
//   temporal workflow update execute --workflow-id <id> --name pause     no new dialogue starts
//   temporal workflow update execute --workflow-id <id> --name unpause   starting goes on
// Both answer whether the dataset is now paused, and its phase ('opening' while its first run
// checks endpoints and reads seeds). The dialogues in flight finish either way.
//   temporal workflow update execute --workflow-id <id> --name giveUpStuckGroups [--input '{"force": true}']
// terminates the groups marked stuck (./stuck-groups.ts): their stored dialogues count as
// completed, the others as failed (resumable). Refused when most groups are stuck (a bad deploy?)
// unless `force` is set.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DatasetProgress } from './dataset-run';
import type { DatasetPhase } from './search-attributes';

export interface PauseState {
  paused: boolean;
  phase: DatasetPhase | 'opening';
}

/** Stuck groups given up: how many, and their dialogues counted completed (stored) and failed. */
export interface GaveUp {
  groups: number;
  completed: number;
  failed: number;
}

export const progressQuery = defineQuery<DatasetProgress>('progress');
export const pauseUpdate = defineUpdate<PauseState>('pause');
export const unpauseUpdate = defineUpdate<PauseState>('unpause');
/** Without `--input` the CLI sends no argument: that is `{}`. */
export interface GiveUpOptions {
  /** Give up even when most groups are stuck (a bad deploy?). */
  force?: boolean;
}

export const giveUpStuckGroupsUpdate = defineUpdate<GaveUp, [GiveUpOptions]>('giveUpStuckGroups');
