// Search attributes the parrot workflows set; the stack registers them with the server.
//   temporal workflow list -q 'ParrotDataset="my-run" AND ExecutionStatus="Failed"'
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PARROT_DATASET = defineSearchAttributeKey('ParrotDataset', SearchAttributeType.KEYWORD);
export const PARROT_PHASE = defineSearchAttributeKey('ParrotPhase', SearchAttributeType.KEYWORD);

export type DatasetPhase = 'generating' | 'metrics' | 'exporting' | 'done';
