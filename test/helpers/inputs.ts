// Inputs of datasets and dialogues for tests: a test writes only the fields it is about. Most run
// on the FAKE LLM server's endpoint `fake` (./fake-llm-suite.ts) in both roles.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatasetInputJson } from '../../src/config/dataset-input';
import type { DialogueInput } from '../../src/types';
import { FAKE_MODEL } from './fake-openai-server';

/** The fake endpoint's model, as an `ask` or `answer` setting. */
export const fakeRole = () => ({ endpoint: 'fake', model: FAKE_MODEL });

/** A folder (an absolute path) as its file: URI; a URI as it is. */
export function outputUri(output: string): string {
  return path.isAbsolute(output) ? pathToFileURL(output).href : output;
}

/** The least valid dataset input, for the schema's tests: endpoint `local` (none needs to be there), output in S3. */
export const minimalDatasetInput = () => ({
  count: 2,
  turns: 2,
  output: 's3://parrot/x',
  ask: { endpoint: 'local', model: 'm' },
  answer: { endpoint: 'local', model: 'm' },
});

/** A dataset asked and answered by the fake endpoint, written to `output` (a folder or a URI). */
export function fakeDatasetInput(
  output: string,
  fields: Pick<DatasetInputJson, 'count' | 'turns'> & Partial<DatasetInputJson>,
): DatasetInputJson {
  return { output: outputUri(output), ask: fakeRole(), answer: fakeRole(), ...fields };
}

/** One dialogue (generateDialogue) of dataset `datasetId`, asked in prompted mode, from the built-in seeds. */
export function fakeDialogueInput(
  output: string,
  fields: Pick<DialogueInput, 'datasetId' | 'index'> & Partial<DialogueInput>,
): DialogueInput {
  return {
    turns: 1,
    seeds: 'builtin',
    randomSeed: 0,
    output: outputUri(output),
    ask: { ...fakeRole(), mode: 'prompted' },
    answer: fakeRole(),
    ...fields,
  };
}
