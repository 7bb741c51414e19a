export { generateDialogue } from './dialogue';
export { generateDialogues, dialogueQuery, dialoguesQuery } from './dialogue-group';
export { generateDataset, progressQuery } from './dataset';
