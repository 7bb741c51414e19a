// A group of a dataset's dialogues in one workflow (`<dataset>/<first>-<last>`). Each dialogue
// is still its own durable loop of ask and answer activities, summarised in the UI by dialogue
// and turn; grouping lets completions that arrive together share a workflow task and lets one
// workflow instance, not one per dialogue, sit in the worker's cache. The `dialogue` query shows
// one dialogue; the search attribute ParrotDialogues finds the group of an index.
import { defineQuery, getExternalWorkflowHandle, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DialogueSettings, DialogueSpec } from '../types';
import { describeFailure } from './failures';
import { newDialogueState, pickSeeds, runDialogue, type DialogueState } from './dialogue';
import { dialoguesFinishedSignal, type DialogueOutcome, type GroupOutcome } from './signals';

export interface DialogueGroupInput {
  settings: DialogueSettings;
  dialogues: DialogueSpec[];
}

export const dialogueQuery = defineQuery<DialogueState | undefined, [number]>('dialogue');
export const dialoguesQuery = defineQuery<Omit<DialogueState, 'conversations'>[]>('dialogues');

/** Runs every dialogue of the group at once, reports all outcomes to the dataset, and returns them. */
export async function generateDialogues({ settings, dialogues }: DialogueGroupInput): Promise<GroupOutcome> {
  const states = new Map(dialogues.map((d) => [d.index, newDialogueState(d)]));
  setHandler(dialogueQuery, (index) => states.get(index));
  setHandler(dialoguesQuery, () => [...states.values()].map(({ conversations: _, ...s }) => s));
  const seeds = await seedsFor(settings, dialogues);
  const outcomes = await Promise.all(dialogues.map((spec) => runOne(settings, spec, seeds.get(spec.index)!, states.get(spec.index)!, states)));
  const outcome: GroupOutcome = { id: workflowInfo().workflowId, outcomes };
  await reportToDataset(outcome);
  return outcome;
}

async function runOne(settings: DialogueSettings, spec: DialogueSpec, seed: string, state: DialogueState, all: Map<number, DialogueState>): Promise<DialogueOutcome> {
  const id = `${settings.datasetId}/${spec.index}`;
  try {
    return { index: spec.index, id, summary: await runDialogue(settings, spec, seed, state) };
  } catch (err) {
    state.status = 'failed';
    state.error = describeFailure(err);
    return { index: spec.index, id, error: state.error };
  } finally {
    showProgress(all);
  }
}

/** The seed questions of the group: given, or picked by index (one activity per block that fits a payload). */
async function seedsFor(settings: DialogueSettings, dialogues: DialogueSpec[]): Promise<Map<number, string>> {
  const seeds = new Map<number, string>();
  for (const d of dialogues) if (d.seed !== undefined) seeds.set(d.index, d.seed);
  let missing = dialogues.filter((d) => d.seed === undefined).map((d) => d.index);
  while (missing.length) {
    const picked = await pickSeeds({ seeds: settings.seeds, randomSeed: settings.randomSeed, indexes: missing });
    picked.forEach((seed, k) => seeds.set(missing[k], seed));
    missing = missing.slice(picked.length);
  }
  return seeds;
}

function showProgress(states: Map<number, DialogueState>) {
  let done = 0;
  let failed = 0;
  for (const s of states.values()) {
    if (s.status === 'completed') done++;
    if (s.status === 'failed') failed++;
  }
  setCurrentDetails(`${done} of ${states.size} dialogues done · ${failed} failed · query \`dialogue\` with an index for one`);
}

/** By signal to the dataset's workflow ID, which reaches its current run across continue-as-new. */
async function reportToDataset(outcome: GroupOutcome) {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId).signal(dialoguesFinishedSignal, outcome);
  } catch {
    // The dataset is gone (cancelled, terminated): nobody is waiting for these outcomes.
  }
}
