// A dialogue group's watch on its own history. Every LLM call's input carries its dialogue so
// far, so long answers or long dialogues can grow a group past what Temporal keeps of one run
// (past 50 MB or 51,200 events it terminates the run, and its dialogues with it). Before each
// call a dialogue asks whether its group nears that; once it does, each running dialogue stops
// before its next call (the call it has in flight finishes: it is paid for), its progress is
// stored, and the group continues as new with them; they go on where they stopped.
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import type { DialogueSettings, DialogueSpec, GroupHistory } from '../types';
import type { DialogueState } from '../types';
import { newDialogueState, storageSteps, turnsOf, type BeforeCall } from './dialogue';

/**
 * A group hands its dialogues on when the server suggests continuing as new (by default at
 * 4 MiB or 4,096 events), or, where it does not, past these: 60% of Temporal's warnings (10 MB,
 * 10,240 events). Either leaves room for what still comes: a result per call in flight, and
 * each dialogue's progress (its conversation: every one of its calls carried as much).
 */
const HAND_ON_BYTES = 6 * 1024 * 1024;
const HAND_ON_EVENTS = 6_000;

/** Thrown before a dialogue's next call once its group hands it on. */
export class HandedOn extends Error {}

/** The dialogues of one run of a group, and whether the run is handing them on. */
export class GroupRun {
  readonly states: Map<number, DialogueState>;
  /** Turns each dialogue had when this run began. */
  private readonly startTurns = new Map<number, number>();
  /** Calls each dialogue made in this run: each makes one at least, so that every run gets on. */
  private readonly calls = new Map<number, number>();
  /** The history size at which this run began to hand its dialogues on. */
  private handedOnAt?: number;
  private readonly resumeErrors = new Map<number, unknown>();

  constructor(dialogues: DialogueSpec[]) {
    this.states = new Map(dialogues.map((d) => [d.index, newDialogueState(d)]));
  }

  /** Whether the run hands on the dialogues it has not finished; once so, it stays so. */
  handingOn(): boolean {
    if (this.handedOnAt === undefined) {
      const info = workflowInfo();
      if (
        info.continueAsNewSuggested ||
        info.historySize >= HAND_ON_BYTES ||
        info.historyLength >= HAND_ON_EVENTS
      )
        this.handedOnAt = info.historySize;
    }
    return this.handedOnAt !== undefined;
  }

  /** What dialogue `index` calls before each LLM call: past its first call of the run, it stops there once the run hands on. */
  beforeCall(index: number): BeforeCall {
    return () => {
      const calls = this.calls.get(index) ?? 0;
      if (calls > 0 && this.handingOn()) {
        this.states.get(index)!.status = 'handed-on';
        throw new HandedOn(`dialogue ${index} is handed on to the next run of its group`);
      }
      this.calls.set(index, calls + 1);
    };
  }

  /** Goes on with a dialogue an earlier run handed on. */
  resume(state: DialogueState) {
    this.states.set(state.index, { ...state, status: 'running', resumed: true });
    this.startTurns.set(state.index, turnsOf(state.conversations));
  }

  /** A dialogue whose progress could not be loaded: it fails with this error when it would start. */
  cannotResume(index: number, err: unknown) {
    this.resumeErrors.set(index, err);
  }

  resumeError(index: number): unknown {
    return this.resumeErrors.get(index);
  }

  handedOn(): DialogueState[] {
    return [...this.states.values()].filter((s) => s.status === 'handed-on');
  }

  /** The run's history so far, against the turns² its dialogues did in it. */
  history(): GroupHistory {
    let turnsSquared = 0;
    for (const s of this.states.values()) {
      const [now, before] = [turnsOf(s.conversations), this.startTurns.get(s.index) ?? 0];
      turnsSquared += now * now - before * before;
    }
    return {
      bytes: workflowInfo().historySize,
      turnsSquared,
      ...(this.handedOnAt !== undefined && { handedOnAt: this.handedOnAt }),
    };
  }
}

const owner = (settings: DialogueSettings) => ({
  output: settings.output,
  datasetId: settings.datasetId,
  datasetRunId: settings.datasetRunId,
});

/** Stores the progress of each dialogue the run hands on, for the next run to load. */
export async function storeHandedOn(settings: DialogueSettings, group: GroupRun) {
  const { saveDialogueProgress } = storageSteps(settings);
  await Promise.all(group.handedOn().map((state) => saveDialogueProgress({ ...owner(settings), state })));
}

/**
 * Loads what the run before stored of each dialogue, and returns their seeds; a dialogue whose
 * progress cannot be read fails with the load's error (it names the object).
 */
export async function resumeHandedOn(
  settings: DialogueSettings,
  group: GroupRun,
  dialogues: DialogueSpec[],
): Promise<Map<number, string>> {
  const { loadDialogueProgress } = storageSteps(settings);
  const seeds = new Map<number, string>();
  await Promise.all(
    dialogues.map(async ({ index }) => {
      try {
        const state = await loadDialogueProgress({ ...owner(settings), index });
        group.resume(state);
        seeds.set(index, state.conversations[0].value);
      } catch (err) {
        if (isCancellation(err)) throw err;
        group.cannotResume(index, err);
      }
    }),
  );
  return seeds;
}
