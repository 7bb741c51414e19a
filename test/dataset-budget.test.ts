// A budget stops new dialogues and the run still exports what it has; `resumeFrom` finishes it.
// `pause` and `unpause`, sent with the Temporal CLI, hold and release the starting of dialogues.
// FAKE LLM server, priced; a real dev server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DatasetInputJson } from '../src/config/dataset-input';
import { recordKey } from '../src/storage/dataset-layout';
import type { DialogueRecord } from '../src/types';
import { generateDataset, pauseUpdate, progressQuery, unpauseUpdate } from '../src/workflows';
import { FAKE_MODEL } from './helpers/fake-openai-server';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { requireTool, TEMPORAL_BIN } from './helpers/tools';
import { sleep } from './helpers/eventually';
import { progressWhen } from './helpers/progress';
import { fakeDatasetInput } from './helpers/inputs';
import { runDataset, startDataset } from './helpers/temporal';

const execFileAsync = promisify(execFile);

describe('budget and pause (fake LLM server)', () => {
  // $1 a prompt token, $2 a completion token: costs large enough to read, exact in binary.
  const s = useFakeLlmSuite('budget', {
    endpointEnv: {
      PARROT_ENDPOINT_FAKE_PRICE_IN: '1000000',
      PARROT_ENDPOINT_FAKE_PRICE_OUT: '2000000',
      PARROT_ENDPOINT_FREE_URL: 'http://127.0.0.1:9/v1',
    },
  });
  const { t, outDir } = s;

  const input = (output: string, extra: Partial<DatasetInputJson> = {}): DatasetInputJson =>
    fakeDatasetInput(path.join(outDir, output), {
      count: 12,
      turns: 1,
      concurrency: 1,
      dialoguesPerWorkflow: 1,
      maxEventsPerRun: 100,
      ...extra,
    });

  const exportedIndices = (dir: string): number[] =>
    fs
      .readFileSync(path.join(outDir, dir, 'data/part-00000.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number((JSON.parse(l) as { id: string }).id.split('/').pop()))
      .sort((a, b) => a - b);

  it('stops starting dialogues at its cost budget, exports what it has, and a resume runs the rest', async () => {
    // Dialogues run one at a time, in index order, so the stop is exact: the first k whose
    // cumulative cost reaches the budget. The budget sits inside the fourth dialogue's cost.
    const probe = await runDataset(t, 'budget-probe', input('probe', { count: 4 }));
    const costs = [0, 1, 2, 3].map(
      (i) =>
        (JSON.parse(fs.readFileSync(path.join(outDir, 'probe', recordKey(i)), 'utf8')) as DialogueRecord)
          .usage.answer.costUsd!,
    );
    assert.equal(probe.usage.answer.costUsd, costs[0] + costs[1] + costs[2] + costs[3]);
    const maxCostUsd = costs[0] + costs[1] + costs[2] + costs[3] / 2;

    const result = await runDataset(t, 'budget-cost', input('cost', { budget: { maxCostUsd } }));
    assert.equal(result.completed, 4);
    assert.equal(result.failedCount, 0);
    assert.deepEqual(result.stopped, {
      reason: 'budget',
      budget: { maxCostUsd },
      spent: { tokens: result.stopped!.spent.tokens, costUsd: probe.usage.answer.costUsd, unpricedCalls: 0 },
      notStarted: 8,
    });
    assert.deepEqual(exportedIndices('cost'), [0, 1, 2, 3]);
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'cost/manifest.json'), 'utf8'));
    assert.deepEqual(manifest.stopped, result.stopped);

    // Later, with a new budget: only the rest runs, its spend counted apart from the reused.
    const resumed = await runDataset(
      t,
      'budget-cost-2',
      input('cost', { resumeFrom: 'budget-cost', budget: { maxTokens: 1_000_000 } }),
    );
    assert.equal(resumed.reused, 4);
    assert.equal(resumed.completed, 12);
    assert.equal(resumed.stopped, undefined);
    assert.deepEqual(exportedIndices('cost'), [...Array(12).keys()]);
  });

  it('stops at a token budget before any price is known, and refuses a cost budget on an unpriced endpoint', async () => {
    const result = await runDataset(
      t,
      'budget-tokens',
      input('tokens', { budget: { maxTokens: 1 }, concurrency: 4 }),
    );
    // Until one dialogue is done its cost is unknown, so it runs alone though the window is 4;
    // it spends more than 1 token, and none starts after it.
    assert.equal(result.completed, 1);
    assert.equal(result.stopped?.notStarted, 11);

    const handle = await startDataset(
      t,
      'budget-unpriced',
      input('unpriced', {
        answer: { endpoint: 'free', model: FAKE_MODEL },
        budget: { maxCostUsd: 5 },
      }),
    );
    await assert.rejects(handle.result(), (err: WorkflowFailedError) => {
      const cause = err.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'UnpricedEndpoint');
      assert.match(
        cause.message,
        /^budget\.maxCostUsd: answer\.endpoint 'free' has no price .*PARROT_ENDPOINT_FREE_PRICE_IN/,
      );
      return true;
    });
  });

  it('starts paused (update-with-start) and stays paused across continue-as-new until unpaused', async () => {
    const workflowId = 'budget-start-paused';
    const startWorkflowOperation = new WithStartWorkflowOperation(generateDataset, {
      workflowId,
      taskQueue: t.taskQueue,
      workflowIdConflictPolicy: 'FAIL',
      // A timer every second while paused, so that the paused run fills its history and continues as new.
      args: [input('start-paused', { stallCheckSeconds: 1, concurrency: 4 })],
    });
    const requests = s.fake.requests.length;
    // The update comes with the start, in the first workflow task: before the dataset has opened.
    const answer = await t.env.client.workflow.executeUpdateWithStart(pauseUpdate, {
      startWorkflowOperation,
    });
    assert.deepEqual(answer, { paused: true, phase: 'opening' });
    const handle = await startWorkflowOperation.workflowHandle();
    const p = await progressWhen(handle, (p) => p.runs >= 2, { what: 'a continue-as-new while paused' });
    assert.deepEqual(
      { phase: p.phase, paused: p.paused, started: p.started, completed: p.completed },
      { phase: 'paused', paused: true, started: 0, completed: 0 },
    );
    assert.equal(s.fake.requests.length, requests, 'no dialogue ran while paused');
    assert.deepEqual(await handle.executeUpdate(unpauseUpdate), { paused: false, phase: 'generating' });
    const result = await handle.result();
    assert.equal(result.completed, 12);
  });

  it('pauses and unpauses from the Temporal CLI: nothing starts while paused, then the dataset finishes', async () => {
    const workflowId = 'budget-pause';
    s.fake.slowNext(1_500, 1000); // slow enough that the dataset cannot finish before the CLI pauses it
    const handle = await startDataset(t, workflowId, input('pause', { concurrency: 2 }));
    const progress = () => handle.query(progressQuery).catch(() => undefined);
    // Not spawnSync: the worker runs in this process and must answer the update meanwhile.
    const cli = async (name: string) => {
      const args = [
        'workflow',
        'update',
        'execute',
        '-o',
        'json',
        '--address',
        t.env.address,
        '--workflow-id',
        workflowId,
      ];
      const { stdout } = await execFileAsync(requireTool(TEMPORAL_BIN), [...args, '--name', name], {
        encoding: 'utf8',
      });
      return stdout;
    };
    await progressWhen(handle, (p) => p.completed >= 2, { what: '2 dialogues to complete' });

    assert.match(await cli('pause'), /"paused":\s*true/);
    // The dialogues in flight finish; then nothing more is asked of the provider.
    const p = await progressWhen(handle, (p) => p.running === 0, {
      what: 'the dialogues in flight to finish',
    });
    const requests = s.fake.requests.length;
    await sleep(2_000);
    assert.equal(s.fake.requests.length, requests, 'the provider got requests while paused');
    const paused = await progress();
    assert.deepEqual(
      { phase: paused?.phase, paused: paused?.paused, completed: paused?.completed },
      { phase: 'paused', paused: true, completed: p.completed },
    );
    assert.ok(p.completed < 12);
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    assert.match(currentDetails, /\*\*Paused\*\*/);

    assert.match(await cli('unpause'), /"paused":\s*false/);
    const result = await handle.result();
    assert.equal(result.completed, 12);
    assert.deepEqual(exportedIndices('pause'), [...Array(12).keys()]);
  });
});
