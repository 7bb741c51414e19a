// Waiting on a dataset's progress query, with a deadline (./eventually.ts).
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { progressQuery } from '../../src/workflows';
import { eventually, type EventuallyOptions } from './eventually';

type Progress = typeof progressQuery extends QueryDefinition<infer P> ? P : never;

/**
 * A dataset's progress once `holds` is true of it. Between two runs (continue-as-new) there is
 * none: that counts as not yet.
 */
export function progressWhen(
  handle: WorkflowHandle,
  holds: (p: Progress) => boolean,
  options: EventuallyOptions,
): Promise<Progress> {
  return eventually(async () => {
    const p = await handle.query(progressQuery);
    return holds(p) && p;
  }, options);
}

/** Samples a dataset's progress every `everyMs` until `stop()` (none between two runs). */
export function sampleProgress(handle: WorkflowHandle, everyMs = 1_000) {
  const samples: Progress[] = [];
  const timer = setInterval(
    () =>
      void handle.query(progressQuery).then(
        (p) => samples.push(p),
        () => undefined,
      ),
    everyMs,
  );
  return { samples, stop: () => clearInterval(timer) };
}
