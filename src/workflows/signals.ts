// How dialogue groups report to their dataset: by signal to the dataset's workflow ID, which
// reaches whichever run of it is current, across continue-as-new.
import { defineSignal } from '@temporalio/workflow';
import type { DialogueSummary } from '../types';

export interface DialogueOutcome {
  index: number;
  id: string;
  summary?: DialogueSummary;
  error?: string;
}

/** What a group's current run has grown its history by, for the dataset to size its next groups. */
export interface GroupHistory {
  /** workflowInfo().historySize. */
  bytes: number;
  /** Over its dialogues, turns² done in this run (turns² now less turns² when the run began). */
  turnsSquared: number;
  /** The history size at which the run began to hand its dialogues on (continue-as-new suggested, or past the group's own limit). */
  handedOnAt?: number;
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
