// How a dialogue reports its outcome to the dataset: by signal to the parent's workflow ID,
// which reaches whichever run of the parent is current, across continue-as-new.
import { defineSignal } from '@temporalio/workflow';
import type { DialogueSummary } from '../types';

export interface DialogueOutcome {
  index: number;
  id: string;
  summary?: DialogueSummary;
  error?: string;
}

export const dialogueFinishedSignal = defineSignal<[DialogueOutcome]>('dialogueFinished');

/**
 * Sent by the dataset to a dialogue it has not heard from in a while, only to learn whether it
 * still runs: signalling a closed workflow fails. Dialogues need no handler for it.
 */
export const areYouThereSignal = defineSignal('areYouThere');
