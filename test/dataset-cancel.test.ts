// Cancelling a dataset stops every dialogue group it started, also those an earlier run of it
// started before continuing as new, and the provider gets no further requests.
import assert from 'node:assert/strict';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { runningGroups, startDataset } from './helpers/temporal';
import { eventually, sleep } from './helpers/eventually';
import { progressWhen } from './helpers/progress';
import { fakeDatasetInput } from './helpers/inputs';

describe('cancelling a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('cancel');
  const { t, outDir } = s;

  it('cancels the groups inherited across continue-as-new, and no request follows', async () => {
    const count = 12;
    const workflowId = 'cancel-across-runs';
    s.fake.failNext({ status: 0, hang: true }, 2); // two dialogues of the first run never get an answer
    const handle = await startDataset(
      t,
      workflowId,
      fakeDatasetInput(path.join(outDir, 'across-runs'), {
        count,
        turns: 1,
        concurrency: 4,
        dialoguesPerWorkflow: 1,
        maxEventsPerRun: 100,
        llmCallTimeoutSeconds: 3600,
      }),
    );
    // The two hung groups are inherited by a later run once the others are done.
    await progressWhen(handle, (p) => p.completed === count - 2 && p.runs > 1, {
      what: 'the others to complete, and a later run',
    });
    // Visibility trails the groups' closes by a moment under load: wait for it, 10 s at most.
    await eventually(async () => (await runningGroups(t.env.client, workflowId)) === 2, {
      what: 'exactly the 2 hung groups to be listed as running',
      timeout: 10_000,
    });

    await cancelAndWaitForGroups(handle);
    const requests = s.fake.requests.length;
    await sleep(2_000);
    assert.equal(s.fake.requests.length, requests, 'the provider got requests after the cancel');
  });

  it('closes as cancelled when the groups it started itself are cancelled with it', async () => {
    const workflowId = 'cancel-own-groups';
    // Many groups in flight, so that some close while the dataset is still cancelling them.
    s.fake.failNext({ status: 0, hang: true }, 16);
    const handle = await startDataset(
      t,
      workflowId,
      fakeDatasetInput(path.join(outDir, 'own-groups'), {
        count: 18,
        turns: 1,
        concurrency: 18,
        dialoguesPerWorkflow: 1,
        llmCallTimeoutSeconds: 3600,
      }),
    );
    await progressWhen(handle, (p) => p.completed === 2 && p.running === 16, {
      what: '2 dialogues completed and 16 hung',
    });
    await cancelAndWaitForGroups(handle);
  });

  /** Cancels the dataset, which must end cancelled, and waits (30 s at most) until none of its groups runs. */
  async function cancelAndWaitForGroups(handle: WorkflowHandle) {
    await handle.cancel();
    await assert.rejects(
      handle.result(),
      (err) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
    );
    await eventually(async () => (await runningGroups(t.env.client, handle.workflowId)) === 0, {
      what: 'no group running after the dataset was cancelled',
      timeout: 30_000,
    });
  }
});
