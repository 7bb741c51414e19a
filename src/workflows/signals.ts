// How dialogue groups report to their dataset: by signal to the dataset's workflow ID, which
// reaches whichever run of it is current, across continue-as-new.
import { defineSignal } from '@temporalio/workflow';
import type { DialogueSummary, GroupHistory } from '../types';

export interface DialogueOutcome {
  index: number;
  id: string;
  summary?: DialogueSummary;
  error?: string;
}

/** A group's outcomes: by signal as they come, or all in its result (then every dialogue's). */
export interface GroupOutcome {
  id: string;
  outcomes: DialogueOutcome[];
  /**
   * In a report by signal: the first run ID of the dataset that started the group. A dataset
   * counts only its own groups' reports, not those of a group left by an earlier dataset with
   * the same workflow ID.
   */
  datasetRunId?: string;
  history?: GroupHistory;
}

export const dialoguesFinishedSignal = defineSignal<[GroupOutcome]>('dialoguesFinished');

/**
 * Sent only to learn whether a workflow still runs (signalling a closed one fails): by the
 * dataset to a group it has not heard from in a while (groups need no handler for it).
 */
export const areYouThereSignal = defineSignal('areYouThere');
