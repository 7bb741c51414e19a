export { generateDialogue } from './dialogue';
export { generateDialogues, dialogueQuery, dialoguesQuery } from './dialogue-group';
export {
  generateDataset,
  giveUpStuckGroupsUpdate,
  pauseUpdate,
  progressQuery,
  unpauseUpdate,
} from './dataset';
export { runBatcher } from './batch-batcher';
