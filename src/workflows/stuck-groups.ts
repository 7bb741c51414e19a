// Groups stuck on a workflow task that keeps failing (a bad deploy, a bug in workflow code). The
// dataset finds them every stallCheckSeconds and only marks them: paid work in flight is never
// thrown away by default. A rollback lets them go on (they are unmarked once their task
// succeeds), and the dataset waits for them. They are shown in the progress query, the UI and
// the parrot_stuck_groups gauge; the giveUpStuckGroups update terminates those marked, counting
// what they stored. When most groups are stuck at once, the likely cause is the deploy, not the
// groups: the update then refuses unless forced, so that one mistaken call does not throw away a
// whole window.
import { proxySinks } from '@temporalio/workflow';
import type { ParrotSinks } from '../telemetry/stuck-groups';

export interface StuckGroup {
  id: string;
  /** Its last workflow task failure, shortened. */
  reason: string;
  /** When the dataset first found it stuck (ms since the epoch). */
  since: number;
}

export interface StuckProgress {
  groups: number;
  /** Their dialogues not yet reported. */
  dialogues: number;
  /** Most groups in flight are stuck (more than half, at least 2): giving up needs `force`. */
  badDeploy: boolean;
  /** What to do, for the UI and the CLI. */
  message: string;
  /** The first few. */
  sample: StuckGroup[];
}

/** Marks keep this much of the failure: a thousand stuck groups stay far below the 2 MB payload limit. */
const MAX_REASON_CHARS = 200;
const SAMPLE = 5;

/** The marked groups of a dataset; carried across continue-as-new (one per group in flight at most). */
export class StuckGroups {
  private readonly marks: Map<string, StuckGroup>;

  constructor(carried: StuckGroup[] = []) {
    this.marks = new Map(carried.map((g) => [g.id, g]));
  }

  get size(): number {
    return this.marks.size;
  }

  list(): StuckGroup[] {
    return [...this.marks.values()];
  }

  /** After a check of `checked`: marks those `found` stuck (still in flight), unmarks the others, which recovered. */
  update(checked: string[], found: { id: string; reason: string }[], inFlight: ReadonlyMap<string, unknown>) {
    const stuck = new Map(found.map((g) => [g.id, g.reason]));
    for (const id of checked) {
      const reason = stuck.get(id);
      if (reason === undefined || !inFlight.has(id)) this.marks.delete(id);
      else if (!this.marks.has(id))
        this.marks.set(id, { id, reason: reason.slice(0, MAX_REASON_CHARS), since: Date.now() });
    }
  }

  /** The group has reported or been recovered. */
  unmark(id: string) {
    this.marks.delete(id);
  }

  progress(inFlight: ReadonlyMap<string, ReadonlySet<number>>): StuckProgress | null {
    if (!this.marks.size) return null;
    const groups = this.marks.size;
    let dialogues = 0;
    for (const id of this.marks.keys()) dialogues += inFlight.get(id)?.size ?? 0;
    const badDeploy = groups >= 2 && groups * 2 > inFlight.size;
    const message = badDeploy
      ? `bad deploy? ${groups} of ${inFlight.size} groups stuck (${dialogues} dialogues), their workflow tasks failing: roll back the workers, or give up on them with the giveUpStuckGroups update and {"force": true}`
      : `${groups} of ${inFlight.size} groups stuck (${dialogues} dialogues), their workflow tasks failing: fix or roll back the workers, or give up on them with the giveUpStuckGroups update`;
    return { groups, dialogues, badDeploy, message, sample: this.list().slice(0, SAMPLE) };
  }
}

const { stuckGroups } = proxySinks<ParrotSinks>();

/** The parrot_stuck_groups gauge, on the worker running the dataset; a count lasts a few stall checks unless renewed. */
export function reportStuckGroups(groups: number, stallCheckSeconds: number) {
  stuckGroups.report(groups, 3 * stallCheckSeconds + 60);
}
