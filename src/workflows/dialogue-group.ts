// A group of a dataset's dialogues in one workflow (`<dataset>/<first>-<last>`). Each dialogue
// is still its own durable loop of ask and answer activities, summarised in the UI by dialogue
// and turn; grouping lets completions that arrive together share a workflow task and lets one
// workflow instance, not one per dialogue, sit in the worker's cache. The `dialogue` query shows
// one dialogue; the search attribute ParrotDialogues finds the group of an index. Finished
// dialogues are reported to the dataset a few seconds after they finish, several to a signal,
// so that its progress and window move with them rather than with the group's slowest dialogue.
import {
  condition,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialogueSettings, DialogueSpec } from '../types';
import { describeFailure } from './failures';
import { countDialoguesFailed, failureReason } from '../telemetry/dialogue-metrics';
import { newDialogueState, runDialogue, storageSteps, type DialogueState } from './dialogue';
import { BatchCalls } from './batch-calls';
import {
  areYouThereSignal,
  dialoguesFinishedSignal,
  type DialogueOutcome,
  type GroupOutcome,
} from './signals';

export interface DialogueGroupInput {
  settings: DialogueSettings;
  dialogues: DialogueSpec[];
}

export const dialogueQuery = defineQuery<DialogueState | undefined, [number]>('dialogue');
export const dialoguesQuery = defineQuery<Omit<DialogueState, 'conversations'>[]>('dialogues');

/** Outcomes wait this long for others to share their signal to the dataset. */
const REPORT_DELAY = '5 seconds';

/** Runs every dialogue of the group at once, reports each outcome to the dataset, and returns them all. */
export async function generateDialogues({ settings, dialogues }: DialogueGroupInput): Promise<GroupOutcome> {
  const states = new Map(dialogues.map((d) => [d.index, newDialogueState(d)]));
  setHandler(dialogueQuery, (index) => states.get(index));
  setHandler(dialoguesQuery, () => [...states.values()].map(({ conversations: _, ...s }) => s));
  if (patched('group-checks-dataset') && !(await datasetStillRuns())) {
    // Started after its dataset closed (under load the server can carry out a start late, after
    // the dataset was cancelled or terminated): nobody waits for these dialogues.
    setCurrentDetails('Not run: its dataset had closed when this group started');
    return { id: workflowInfo().workflowId, outcomes: [] };
  }
  const reports = new Reports(workflowInfo().workflowId);
  const batch = settings.batch
    ? new BatchCalls(settings, workflowInfo().workflowId, dialogues.length, states, () =>
        showProgress(states, batch),
      )
    : undefined;
  const seeds = await seedsFor(settings, dialogues);
  const outcomes = await Promise.all(
    dialogues.map(async (spec) => {
      const outcome = await runOne(settings, spec, seeds.get(spec.index)!, states.get(spec.index)!, batch);
      batch?.dialogueDone();
      showProgress(states, batch);
      reports.add(outcome);
      return outcome;
    }),
  );
  await batch?.close();
  await reports.close();
  return { id: workflowInfo().workflowId, outcomes };
}

async function runOne(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string,
  state: DialogueState,
  batch?: BatchCalls,
): Promise<DialogueOutcome> {
  const id = `${settings.datasetId}/${spec.index}`;
  try {
    return { index: spec.index, id, summary: await runDialogue(settings, spec, seed, state, batch) };
  } catch (err) {
    if (isCancellation(err)) throw err; // the group is cancelled: not a dialogue's failure
    countDialoguesFailed(failureReason(err));
    state.status = 'failed';
    state.error = describeFailure(err);
    return { index: spec.index, id, error: state.error };
  }
}

/** Outcomes on their way to the dataset: gathered for REPORT_DELAY, then sent in one signal. */
class Reports {
  private pending: DialogueOutcome[] = [];
  private sending = false;
  private closed = false;

  constructor(private readonly groupId: string) {}

  add(outcome: DialogueOutcome) {
    this.pending.push(outcome);
    if (!this.sending) void this.send();
  }

  /** Every dialogue has finished: sends what is left at once, and resolves when all is sent. */
  async close() {
    this.closed = true;
    await condition(() => !this.sending && this.pending.length === 0);
  }

  private async send() {
    this.sending = true;
    try {
      await condition(() => this.closed, REPORT_DELAY);
      while (this.pending.length) {
        const outcomes = this.pending;
        this.pending = [];
        await reportToDataset({ id: this.groupId, outcomes });
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      this.pending = []; // cancelled: the dataset is told by the group's end instead
    } finally {
      this.sending = false;
    }
  }
}

/** The seed questions of the group: given, or picked by index (one activity per block that fits a payload). */
async function seedsFor(settings: DialogueSettings, dialogues: DialogueSpec[]): Promise<Map<number, string>> {
  const seeds = new Map<number, string>();
  for (const d of dialogues) if (d.seed !== undefined) seeds.set(d.index, d.seed);
  let missing = dialogues.filter((d) => d.seed === undefined).map((d) => d.index);
  while (missing.length) {
    const picked = await storageSteps(settings).pickSeeds({
      seeds: settings.seeds,
      seedChunks: settings.seedChunks,
      randomSeed: settings.randomSeed,
      indexes: missing,
    });
    picked.forEach((seed, k) => seeds.set(missing[k], seed));
    missing = missing.slice(picked.length);
  }
  return seeds;
}

function showProgress(states: Map<number, DialogueState>, batch?: BatchCalls) {
  let done = 0;
  let failed = 0;
  for (const s of states.values()) {
    if (s.status === 'completed') done++;
    if (s.status === 'failed') failed++;
  }
  const batches = batch?.describe();
  setCurrentDetails(
    `${done} of ${states.size} dialogues done · ${failed} failed · query \`dialogue\` with an index for one${batches ? `\n\n${batches}` : ''}`,
  );
}

/** Whether the dataset that started this group still runs: signalling a closed workflow fails. */
async function datasetStillRuns(): Promise<boolean> {
  const parent = workflowInfo().parent;
  if (!parent) return true;
  try {
    await getExternalWorkflowHandle(parent.workflowId).signal(areYouThereSignal);
    return true;
  } catch {
    return false;
  }
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
