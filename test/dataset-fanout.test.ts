// The parent stays within Temporal's history limits by continuing as new: at small scale with
// a small threshold, every run's history stays under it and every dialogue is counted once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { progressQuery } from '../src/workflows';
import type { DatasetResult } from '../src/types';
import { useFakeLlmSuite } from './helpers/fake-llm-suite';
import { eventually, GiveUp } from './helpers/eventually';
import { runDataset, startDataset, workflowIds } from './helpers/temporal';
import { fakeDatasetInput } from './helpers/inputs';

describe('generateDataset fan-out across continue-as-new (fake LLM server)', () => {
  // Priced, so that cost is summed across groups and runs like tokens.
  const s = useFakeLlmSuite('fanout', {
    endpointEnv: { PARROT_ENDPOINT_FAKE_PRICE_IN: '2', PARROT_ENDPOINT_FAKE_PRICE_OUT: '1000' },
  });
  const { t, outDir } = s;

  it('keeps every parent run under maxEventsPerRun and loses no dialogue', async () => {
    const count = 40;
    const maxEventsPerRun = 100;
    const workflowId = 'fanout-test';
    const handle = await startDataset(
      t,
      workflowId,
      fakeDatasetInput(outDir, { count, turns: 1, concurrency: 3, maxEventsPerRun }),
    );
    const result = await handle.result();

    assert.equal(result.completed, count);
    assert.equal(result.failedCount, 0);
    assert.equal(result.export.exported, count);
    assert.equal(result.usage.answer.calls, count, 'each dialogue counted once');
    assert.ok(result.runs >= 3, `expected several runs, got ${result.runs}`);
    // Each call's cost, summed across groups and runs: the tokens' at $2 / $1,000 per million.
    const { promptTokens, completionTokens, costUsd, unpricedCalls } = result.usage.answer;
    const expectedCost = (promptTokens * 2 + completionTokens * 1000) / 1e6;
    assert.ok(
      costUsd !== undefined && Math.abs(costUsd - expectedCost) < 1e-12,
      `cost ${costUsd}, expected ${expectedCost}`,
    );
    assert.equal(unpricedCalls, undefined);
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as Pick<
      DatasetResult,
      'usage'
    >;
    assert.equal(manifest.usage.answer.costUsd, costUsd);

    // Every run of the parent, as the server recorded it.
    const runIds: string[] = [];
    for await (const wf of t.env.client.workflow.list({ query: `WorkflowId="${workflowId}"` }))
      runIds.push(wf.runId);
    assert.equal(runIds.length, result.runs);
    for (const runId of runIds) {
      const history = await t.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      assert.ok(
        history.events!.length <= maxEventsPerRun,
        `run ${runId} has ${history.events!.length} events`,
      );
    }
    assert.ok(result.maxHistoryLength <= maxEventsPerRun);

    const lines = fs.readFileSync(path.join(outDir, 'data/part-00000.jsonl'), 'utf8').trim().split('\n');
    const ids = lines.map((l) => JSON.parse(l).id);
    assert.equal(new Set(ids).size, count);

    const progress = await handle.query(progressQuery);
    assert.equal(progress.phase, 'done');
    assert.equal(progress.remaining, 0);
  });

  it('counts a failed dialogue, lists it in the manifest and exports the rest', async () => {
    // The fake answers 401 once: that dialogue fails for good, the others complete.
    s.fake.failNext({ status: 401, message: 'bad key for this one' });
    const workflowId = 'fanout-failure-test';
    const out = path.join(outDir, 'with-failure');
    const result = await runDataset(
      t,
      workflowId,
      fakeDatasetInput(out, { count: 4, turns: 1, concurrency: 1 }),
    );
    assert.equal(result.completed, 3);
    assert.equal(result.failedCount, 1);
    assert.equal(result.failed[0].id, `${workflowId}/0`);
    assert.match(result.failed[0].error, /HTTP 401.*bad key for this one/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual([manifest.missing.count, manifest.missing.first], [1, [0]]);
    assert.equal(manifest.failures[0].index, 0);
    assert.equal(manifest.exported, 3);
  });

  it('counts as failed a dialogue from an earlier run that was terminated without reporting', async () => {
    const count = 20;
    const workflowId = 'fanout-terminated';
    s.fake.failNext({ status: 0, hang: true }); // the first call (dialogue 0's or 1's) never returns
    const handle = await startDataset(
      t,
      workflowId,
      fakeDatasetInput(path.join(outDir, 'terminated'), {
        count,
        turns: 1,
        concurrency: 2,
        dialoguesPerWorkflow: 1,
        maxEventsPerRun: 100,
        stallCheckSeconds: 1,
        llmCallTimeoutSeconds: 3600,
      }),
    );
    // Wait until only the hung dialogue is left, in a later run than the one that started it.
    await eventually(
      async () => {
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING') throw new GiveUp(`the dataset closed: ${status.name}`);
        const p = await handle.query(progressQuery); // none between runs
        return p.completed === count - 1 && p.runs > 1;
      },
      { what: 'only the hung dialogue to be left, in a later run' },
    );
    const [hung] = await eventually(
      () =>
        workflowIds(
          t.env.client,
          `ParrotDataset="${workflowId}" AND WorkflowType="generateDialogues" AND ExecutionStatus="Running"`,
        ).then((ids) => ids.length > 0 && ids),
      { what: 'the hung group to be listed' },
    );
    await t.env.client.workflow.getHandle(hung).terminate('by hand, in a test');
    const result = await handle.result();
    assert.equal(result.completed, count - 1);
    assert.equal(result.failedCount, 1);
    assert.equal(result.failed[0].id, hung);
    assert.match(result.failed[0].error, /closed without reporting an outcome/);
  });
});
