// Dialogues by how they ended, counted on the workflow's metric meter: the SDK records nothing
// while a workflow replays, so each ending is counted once however often its history is replayed.
// Workflow code: imports nothing but @temporalio/workflow.
import { ApplicationFailure, metricMeter, TimeoutFailure } from '@temporalio/workflow';
import type { DialogueEnd } from '../types';

export const DIALOGUE_METRICS = {
  completed: 'parrot_dialogues_completed',
  failed: 'parrot_dialogues_failed',
} as const;

/** A dialogue stored: `reason` is why it ended (its target, or early: user-done, context, filtered). */
export function countDialogueCompleted(reason: DialogueEnd): void {
  metricMeter
    .createCounter(DIALOGUE_METRICS.completed, 'dialogues', 'Dialogues stored, by why they ended')
    .add(1, { reason });
}

/** Dialogues that failed for good: `reason` from failureReason, or `group-ended` for those a group never reported. */
export function countDialoguesFailed(reason: string, n = 1): void {
  if (n > 0)
    metricMeter
      .createCounter(DIALOGUE_METRICS.failed, 'dialogues', 'Dialogues failed, by failure type')
      .add(n, { reason });
}

/**
 * `timeout` when a timeout ended it (a retry budget ran out, whatever the last try's error), else
 * the innermost application failure's type (Http401, EmptyCompletion, ...), else `other`: a short,
 * fixed set of values.
 */
export function failureReason(err: unknown): string {
  let reason = 'other';
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e instanceof TimeoutFailure) return 'timeout';
    if (e instanceof ApplicationFailure && e.type && /^\w{1,40}$/.test(e.type)) reason = e.type;
  }
  return reason;
}
