// Cancelling a dataset stops every dialogue group it started, also those an earlier run of it
// started before continuing as new, and the provider gets no further requests.
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { generateDataset, progressQuery } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { runningGroups } from './helpers/temporal';

describe('cancelling a dataset (fake LLM server)', () => {
  const s = useFakeLlmSuite('cancel');
  const { t, outDir } = s;

  it('cancels the groups inherited across continue-as-new, and no request follows', async () => {
    const count = 12;
    const workflowId = 'cancel-across-runs';
    s.fake.failNext({ status: 0, hang: true }, 2); // two dialogues of the first run never get an answer
    const handle = await t.env.client.workflow.start(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        {
          count,
          turns: 1,
          concurrency: 4,
          dialoguesPerWorkflow: 1,
          maxEventsPerRun: 100,
          llmCallTimeoutSeconds: 3600,
          output: pathToFileURL(path.join(outDir, 'across-runs')).href,
          ask: { endpoint: 'fake', model: FAKE_MODEL },
          answer: { endpoint: 'fake', model: FAKE_MODEL },
        },
      ],
    });
    // The two hung groups are inherited by a later run once the others are done.
    for (;;) {
      const p = await handle.query(progressQuery).catch(() => undefined); // none between runs
      if (p && p.completed === count - 2 && p.runs > 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Visibility trails the groups' closes by a moment under load: wait for it, 10 s at most.
    const settled = Date.now() + 10_000;
    let running = await runningGroups(t.env.client, workflowId);
    while (running !== 2 && Date.now() < settled) {
      await new Promise((r) => setTimeout(r, 200));
      running = await runningGroups(t.env.client, workflowId);
    }
    assert.equal(running, 2);

    await cancelAndWaitForGroups(handle);
    const requests = s.fake.requests.length;
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(s.fake.requests.length, requests, 'the provider got requests after the cancel');
  });

  it('closes as cancelled when the groups it started itself are cancelled with it', async () => {
    const workflowId = 'cancel-own-groups';
    // Many groups in flight, so that some close while the dataset is still cancelling them.
    s.fake.failNext({ status: 0, hang: true }, 16);
    const handle = await t.env.client.workflow.start(generateDataset, {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        {
          count: 18,
          turns: 1,
          concurrency: 18,
          dialoguesPerWorkflow: 1,
          llmCallTimeoutSeconds: 3600,
          output: pathToFileURL(path.join(outDir, 'own-groups')).href,
          ask: { endpoint: 'fake', model: FAKE_MODEL },
          answer: { endpoint: 'fake', model: FAKE_MODEL },
        },
      ],
    });
    for (;;) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p && p.completed === 2 && p.running === 16) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await cancelAndWaitForGroups(handle);
  });

  /** Cancels the dataset, which must end cancelled, and waits (30 s at most) until none of its groups runs. */
  async function cancelAndWaitForGroups(handle: WorkflowHandle) {
    await handle.cancel();
    await assert.rejects(
      handle.result(),
      (err) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure,
    );
    const deadline = Date.now() + 30_000;
    while ((await runningGroups(t.env.client, handle.workflowId)) > 0) {
      assert.ok(Date.now() < deadline, 'groups still running 30 s after the dataset was cancelled');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});
