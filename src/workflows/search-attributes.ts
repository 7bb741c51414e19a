// Search attributes the parrot workflows set; the stack registers them with the server.
//   temporal workflow list -q 'ParrotDataset="my-run"'                       the dataset and its dialogue groups
//   temporal workflow list -q 'ParrotDataset="my-run" AND ParrotDialogues="42"'  the group that runs dialogue 42
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PARROT_DATASET = defineSearchAttributeKey('ParrotDataset', SearchAttributeType.KEYWORD);
export const PARROT_PHASE = defineSearchAttributeKey('ParrotPhase', SearchAttributeType.KEYWORD);
/** The dialogue indices a group runs, as strings. */
export const PARROT_DIALOGUES = defineSearchAttributeKey('ParrotDialogues', SearchAttributeType.KEYWORD_LIST);

export const PARROT_SEARCH_ATTRIBUTES = [PARROT_DATASET, PARROT_PHASE, PARROT_DIALOGUES];

export type DatasetPhase = 'generating' | 'paused' | 'metrics' | 'exporting' | 'done' | 'cancelled';
