// A group of a dataset's dialogues in one workflow (`<dataset>/<first>-<last>`). Each dialogue
// is still its own durable loop of ask and answer activities, summarised in the UI by dialogue
// and turn; grouping lets completions that arrive together share a workflow task and lets one
// workflow instance, not one per dialogue, sit in the worker's cache. The `dialogue` query shows
// one dialogue; the search attribute ParrotDialogues finds the group of an index. Finished
// dialogues are reported to the dataset a few seconds after they finish, several to a signal,
// so that its progress and window move with them rather than with the group's slowest dialogue.
// A group whose history nears Temporal's limits continues as new with the dialogues it has not
// finished (./group-history.ts).
import {
  condition,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialogueSettings, DialogueSpec, GroupHistory } from '../types';
import { describeFailure } from './failures';
import { countDialoguesFailed, failureReason } from '../telemetry/dialogue-counters';
import type { DialogueState } from '../types';
import { runDialogue, storageSteps, type CallHooks } from './dialogue';
import { GroupRun, HandedOn, resumeHandedOn, storeHandedOn } from './group-history';
import { LlmCallGate, llmQueueUnpolledSignal } from './unpolled-queues';
import { BatchCalls } from './batch-calls';
import { dialoguesFinishedSignal, type DialogueOutcome, type GroupOutcome } from './signals';

export interface DialogueGroupInput {
  settings: DialogueSettings;
  dialogues: DialogueSpec[];
  /**
   * Set when an earlier run of the group handed these dialogues on: they go on from the progress
   * it stored, and the outcomes of the others come back in the group's result.
   */
  earlier?: { outcomes: DialogueOutcome[] };
}

export const dialogueQuery = defineQuery<DialogueState | undefined, [number]>('dialogue');
export const dialoguesQuery = defineQuery<Omit<DialogueState, 'conversations'>[]>('dialogues');

/** Outcomes wait this long for others to share their signal to the dataset. */
const REPORT_DELAY = '5 seconds';

/** Runs every dialogue of the group at once, reports each outcome to the dataset, and returns them all. */
export async function generateDialogues(input: DialogueGroupInput): Promise<GroupOutcome> {
  const { settings, dialogues } = input;
  const group = new GroupRun(dialogues);
  setHandler(dialogueQuery, (index) => group.states.get(index));
  setHandler(dialoguesQuery, () => [...group.states.values()].map(({ conversations: _, ...s }) => s));
  if (!(await datasetStillRuns(settings))) {
    // Started after its dataset closed (under load the server can carry out a start late, after
    // the dataset was cancelled or terminated), maybe with another started under the same
    // workflow ID since: nobody waits for these dialogues.
    setCurrentDetails('Not run: the dataset that started it had closed when this group started');
    return { id: workflowInfo().workflowId, outcomes: [] };
  }
  const reports = new Reports(workflowInfo().workflowId, settings.datasetRunId, () => group.history());
  const gate = new LlmCallGate();
  setHandler(llmQueueUnpolledSignal, ({ roles, error }) => gate.fail(roles, error));
  const batch = settings.batch
    ? new BatchCalls(settings, workflowInfo().workflowId, dialogues.length, group.states, () =>
        showProgress(group.states, batch),
      )
    : undefined;
  const seeds = input.earlier
    ? await resumeHandedOn(settings, group, dialogues)
    : await seedsFor(settings, dialogues);
  const outcomes = await Promise.all(
    dialogues.map(async (spec) => {
      const outcome = await runOne(settings, spec, seeds.get(spec.index), group, { gate, batch });
      batch?.dialogueDone();
      showProgress(group.states, batch);
      if (outcome) reports.add(outcome);
      return outcome;
    }),
  );
  await batch?.close();
  // A group handing on goes on in its next run (same ID): its batchers keep waiting for it.
  if (!group.handedOn().length) await batch?.close();
  await reports.close();
  const all = [...(input.earlier?.outcomes ?? []), ...outcomes.filter((o) => o !== undefined)];
  if (group.handedOn().length) await handOn(input, group, all);
  return { id: workflowInfo().workflowId, outcomes: all, history: group.history() };
}

/** Undefined when the dialogue is handed on to the group's next run. */
async function runOne(
  settings: DialogueSettings,
  spec: DialogueSpec,
  seed: string | undefined,
  group: GroupRun,
  hooks: Omit<CallHooks, 'beforeCall'>,
): Promise<DialogueOutcome | undefined> {
  const id = `${settings.datasetId}/${spec.index}`;
  const state = group.states.get(spec.index)!;
  try {
    if (group.resumeError(spec.index)) throw group.resumeError(spec.index);
    const summary = await runDialogue(settings, spec, seed!, state, {
      beforeCall: group.beforeCall(spec.index),
      ...hooks,
    });
    return { index: spec.index, id, summary };
  } catch (err) {
    if (err instanceof HandedOn) return undefined;
    if (isCancellation(err)) throw err; // the group is cancelled: not a dialogue's failure
    countDialoguesFailed(failureReason(err));
    state.status = 'failed';
    state.error = describeFailure(err);
    return { index: spec.index, id, error: state.error };
  }
}

/**
 * The group's history nears the limits: stores the progress of the dialogues it has not
 * finished, tells the dataset at what size it stopped, and continues as new with them.
 */
async function handOn(
  input: DialogueGroupInput,
  group: GroupRun,
  outcomes: DialogueOutcome[],
): Promise<never> {
  await storeHandedOn(input.settings, group);
  await reportToDataset({
    id: workflowInfo().workflowId,
    outcomes: [],
    datasetRunId: input.settings.datasetRunId,
    history: group.history(),
  });
  const left = new Set(group.handedOn().map((s) => s.index));
  return continueAsNew<typeof generateDialogues>({
    settings: input.settings,
    dialogues: input.dialogues.filter((d) => left.has(d.index)),
    earlier: { outcomes },
  });
}

/** Outcomes on their way to the dataset: gathered for REPORT_DELAY, then sent in one signal. */
class Reports {
  private pending: DialogueOutcome[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly groupId: string,
    private readonly datasetRunId: string | undefined,
    private readonly history: () => GroupHistory,
  ) {}

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
        await reportToDataset({
          id: this.groupId,
          outcomes,
          datasetRunId: this.datasetRunId,
          history: this.history(),
        });
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

/**
 * Whether the dataset that started this group still runs: not merely a workflow with its ID (a
 * dataset cancelled and started again at once has the same one) but the same chain of runs.
 */
async function datasetStillRuns(settings: DialogueSettings): Promise<boolean> {
  const parent = workflowInfo().parent;
  if (!parent) return true;
  return storageSteps(settings).datasetStillRuns({
    datasetId: parent.workflowId,
    firstRunId: settings.datasetRunId,
  });
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
