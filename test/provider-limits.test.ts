// Provider limits and faults on the LLM path in workflows: a rate-limited endpoint's own task
// queue, hung calls, the retry budget (the rate gate, 429 headers and unusable completions:
// test/unit/provider-limits.test.ts).
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { llmTaskQueue } from '../src/config/task-queues';
import type { DialogueInput } from '../src/types';
import { generateDialogue } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { fakeDialogueInput } from './helpers/inputs';
import { startDataset } from './helpers/temporal';

describe('endpoint limits and faults (fake LLM server)', () => {
  // `limited` is the fake server too, declared with a request limit.
  const s = useFakeLlmSuite('limits', {
    endpointEnv: (url) => ({ PARROT_ENDPOINT_LIMITED_URL: url, PARROT_ENDPOINT_LIMITED_RPM: '6000' }),
  });
  const { t, outDir } = s;

  const dialogueInput = (index: number, extra: Partial<DialogueInput>) =>
    fakeDialogueInput(outDir, {
      datasetId: 'limits',
      index,
      randomSeed: 1,
      llmCallTimeoutSeconds: 2,
      llmRetryBudgetSeconds: 60,
      ...extra,
    });

  it("sends a rate-limited endpoint's calls to its own task queue, polled by a worker with the rate", async () => {
    const handle = await startDataset(t, 'limits-routed', {
      count: 2,
      turns: 2,
      output: pathToFileURL(outDir).href + '/routed',
      concurrency: 2,
      ask: { endpoint: 'fake', model: FAKE_MODEL },
      answer: { endpoint: 'limited', model: FAKE_MODEL },
    });
    const result = await handle.result();
    assert.equal(result.completed, 2);
    const history = await t.env.client.workflow.getHandle('limits-routed/0').fetchHistory();
    const queues = history
      .events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [
        e.activityTaskScheduledEventAttributes!.activityType!.name,
        e.activityTaskScheduledEventAttributes!.taskQueue!.name,
      ]);
    // A window of 2 runs groups of one dialogue: its two answers on the limited endpoint's queue, its question on the main one.
    assert.deepEqual(
      queues.filter(([type]) => type === 'answer').map(([, q]) => q),
      [llmTaskQueue(t.taskQueue, 'limited'), llmTaskQueue(t.taskQueue, 'limited')],
    );
    assert.deepEqual(
      queues.filter(([type]) => type === 'ask').map(([, q]) => q),
      [t.taskQueue],
    );
  });

  it('gives up on a hung call after the call timeout and retries it', async () => {
    s.fake.failNext({ status: 0, hang: true });
    const started = Date.now();
    const summary = await t.env.client.workflow.execute(generateDialogue, {
      taskQueue: t.taskQueue,
      workflowId: 'limits/hang',
      args: [dialogueInput(0, {})],
    });
    assert.equal(summary.turns, 1);
    assert.ok(Date.now() - started >= 1900, 'the retry came only after the 2 s call timeout');
  });

  it('fails the dialogue, resumably, when the provider stays down past the retry budget', async () => {
    s.fake.failNext({ status: 503, message: 'upstream down' }, 1000);
    const started = Date.now();
    try {
      await assert.rejects(
        t.env.client.workflow.execute(generateDialogue, {
          taskQueue: t.taskQueue,
          workflowId: 'limits/down',
          args: [dialogueInput(1, { llmRetryBudgetSeconds: 4 })],
        }),
        (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError);
          // The budget ended it (seconds, not 1,000 tries), with the provider's last answer as the reason.
          assert.match(
            String((err.cause as any)?.cause?.message ?? err.cause?.message),
            /HTTP 503: .*upstream down/,
          );
          assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
          return true;
        },
      );
    } finally {
      s.fake.clearFailures();
    }
  });
});
