// While a dataset starts dialogues, it asks a worker every few seconds how its endpoints stand
// (the endpointStatus activity): the window keeps in flight what they can serve (../planning/fan-out.ts),
// and the progress query and the UI show them. One worker answers each time: with several, its
// limit is its share, and the report says how many workers share the endpoint.
import { isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetRun } from './dataset-run';
import { endpointReport } from './activity-options';

const EVERY = '5 seconds';

const { endpointStatus } = proxyActivities<Activities>(endpointReport);

/** Reports the endpoints to `run` until it is past starting dialogues (the first report opens its window). */
export async function watchEndpoints(run: DatasetRun): Promise<void> {
  const endpoints = [...new Set([run.input.ask.endpoint, run.input.answer.endpoint])];
  try {
    while (run.phase === 'generating' || run.phase === 'paused') {
      run.reportEndpoints(await endpointStatus({ endpoints }).catch(reportMissed));
      await sleep(EVERY);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err; // the dataset was cancelled: its own cancellation ends it
  }
}

function reportMissed(err: unknown): undefined {
  if (isCancellation(err)) throw err;
  return undefined;
}
