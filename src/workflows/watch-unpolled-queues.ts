// The dataset's watch on its rate-limited endpoints' task queues (see ./unpolled-queues.ts): it
// asks the server who polls them while dialogues run, and fails the calls waiting on one nobody
// has polled for unpolledQueueSeconds.
import {
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetRun } from './dataset-run';
import { describeFailure } from './failures';
import { queuePolls } from './activity-options';
import { llmQueueUnpolledSignal, MAX_CHECK_SECONDS } from './unpolled-queues';

/** Checks the queues while dialogues run; fails those waiting on one unpolled for unpolledQueueSeconds. */
export async function watchLlmQueues(run: DatasetRun) {
  try {
    await watchWhileGenerating(run);
  } catch (err) {
    if (!isCancellation(err)) throw err; // the dataset was cancelled: its own cancellation ends it
  }
}

async function watchWhileGenerating(run: DatasetRun) {
  const watch = run.queueWatch;
  if (!watch.queues.length) return;
  const bound = run.input.unpolledQueueSeconds;
  const { taskQueuePolls } = proxyActivities<Activities>(queuePolls);
  const checkSeconds = Math.max(1, Math.min(MAX_CHECK_SECONDS, Math.floor(bound / 2)));
  const shown = () =>
    watch
      .progress(bound)
      .map((q) => `${q.taskQueue} ${q.failing}`)
      .join();
  for (;;) {
    await condition(() => run.groups.size > 0 || !run.hasWork);
    if (!run.hasWork) return;
    await sleep(`${checkSeconds} seconds`);
    const before = shown();
    try {
      watch.observe(await taskQueuePolls({ taskQueues: watch.queues.map((q) => q.taskQueue) }));
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('could not learn whether the endpoint task queues are polled; trying again', {
        error: describeFailure(err),
      });
      continue;
    }
    await failWaitingCalls(run, bound);
    if (shown() !== before) run.showDetails();
  }
}

/** Tells each group in flight, once, to fail its calls on the queues past the bound. */
async function failWaitingCalls(run: DatasetRun, bound: number) {
  const sends: Promise<void>[] = [];
  for (const q of run.queueWatch.failing(bound)) {
    const signal = { roles: q.roles, error: run.queueWatch.error(q, bound) };
    for (const id of run.groups.keys()) {
      if (q.told.has(id)) continue;
      q.told.add(id);
      sends.push(
        getExternalWorkflowHandle(id)
          .signal(llmQueueUnpolledSignal, signal)
          .catch(() => undefined /* closed: nothing waits there */),
      );
    }
  }
  if (!sends.length) return;
  await run.recovery(() => Promise.all(sends)); // the run does not continue as new with signals on their way
}
