// What a user can do to a running dataset, from the Temporal CLI or UI:
//   temporal workflow update execute --workflow-id <id> --name pause     no new dialogue starts
//   temporal workflow update execute --workflow-id <id> --name unpause   starting goes on
// Both answer whether the dataset is now paused, and its phase ('opening' while its first run
// checks endpoints and reads seeds). The dialogues in flight finish either way.
//   temporal workflow update execute --workflow-id <id> --name giveUpStuckGroups [--input '{"force": true}']
// terminates the groups marked stuck (./stuck-groups.ts): their stored dialogues count as
// completed, the others as failed (resumable). Refused when most groups are stuck (a bad deploy?)
// unless `force` is set.
import { defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import type { GaveUp } from '../types';
import type { DatasetRun } from './dataset-run';
import type { DatasetProgress } from './dataset-view';
import type { GroupOutcome } from './signals';
import { reportStuckGroups } from './stuck-groups';
import type { DatasetPhase } from './search-attributes';

export interface PauseState {
  paused: boolean;
  phase: DatasetPhase | 'opening';
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

/** The `giveUpStuckGroups` update: refused when nothing is stuck, and on a suspected bad deploy unless forced. */
export function setGiveUpHandler(
  run: DatasetRun,
  /** Terminates the group and counts its stored dialogues as completed, the others as failed with `reason`. */
  giveUp: (id: string, reason: string) => Promise<GroupOutcome | undefined>,
) {
  const validator = (options?: GiveUpOptions) => {
    const p = run.stuckProgress();
    if (!p) throw new Error('no group is marked stuck');
    if (p.badDeploy && options?.force !== true)
      throw new Error(`${p.message}. Nothing was given up: send {"force": true} to give up on them anyway`);
  };
  const handler = async (): Promise<GaveUp> => {
    const result: GaveUp = { groups: 0, completed: 0, failed: 0 };
    await Promise.all(
      run.stuck.list().map(async (g) => {
        const outcome = await giveUp(g.id, `${g.reason}; given up (giveUpStuckGroups update)`);
        if (!outcome) return;
        result.groups++;
        for (const o of outcome.outcomes) result[o.summary ? 'completed' : 'failed']++;
      }),
    );
    run.addGivenUp(result);
    reportStuckGroups(run.stuck.size, run.input.stallCheckSeconds);
    run.showDetails();
    return result;
  };
  setHandler(giveUpStuckGroupsUpdate, handler, { validator });
}
