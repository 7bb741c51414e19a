export { generateDialogue } from './dialogue';
export { generateDataset, progressQuery } from './dataset';
