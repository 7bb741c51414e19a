// The dataset's counters at the end: the export's view of what was stored wins.
import assert from 'node:assert/strict';
import { parseDatasetInput } from '../../src/config/dataset-input';
import { emptyUsage } from '../../src/usage';
import { DatasetRun, initialRunState, type DatasetRunState } from '../../src/workflows/dataset-run';

const input = parseDatasetInput({
  count: 6,
  turns: 1,
  output: 'file:///tmp/x',
  ask: { endpoint: 'fake', model: 'm' },
  answer: { endpoint: 'fake', model: 'm' },
});

function runWith(failed: number[], completed: number): DatasetRun {
  const state: DatasetRunState = {
    ...initialRunState(input, {
      opened: {
        lineage: [{ datasetId: 'd', runId: 'r' }],
        finishedCount: 0,
        finishedUsage: { ask: emptyUsage(), answer: emptyUsage() },
      },
      seeds: { uri: 'builtin', seeds: 10, skippedLines: 0, firstSkipped: [] },
      routes: {},
    }),
    toRun: [],
    scannedTo: 6,
    launched: 6,
    completed,
    failedCount: failed.length,
    failures: failed.map((index) => ({ index, id: `d/${index}`, error: 'stuck' })),
    startedAt: 0,
  };
  return new DatasetRun(input, 'd', state);
}

describe('DatasetRun budget', () => {
  it("spends only what it ran itself, not the reused dialogues' usage", () => {
    const run = runWith([], 3);
    run.state.usage = {
      ask: { promptTokens: 100, completionTokens: 10, calls: 3, costUsd: 3 },
      answer: { promptTokens: 200, completionTokens: 40, calls: 3, costUsd: 5 },
    };
    run.state.reusedUsage = {
      ask: { promptTokens: 30, completionTokens: 3, calls: 1, costUsd: 1 },
      answer: { promptTokens: 60, completionTokens: 12, calls: 1, costUsd: 2 },
    };
    assert.deepEqual(run.spent(), { tokens: 245, costUsd: 5, unpricedCalls: 0 });
  });

  it('says it stopped at its budget only while dialogues were left to start', () => {
    const spentAll = (run: DatasetRun) =>
      (run.state.usage = {
        ask: emptyUsage(),
        answer: { promptTokens: 500, completionTokens: 500, calls: 4, costUsd: 10 },
      });
    const budgeted = { ...input, budget: { maxTokens: 100 } };
    const done = new DatasetRun(budgeted, 'd', runWith([], 6).state); // nothing left to start
    spentAll(done);
    assert.equal(done.checkBudget(), false);
    const midway = new DatasetRun(budgeted, 'd', { ...runWith([], 4).state, toRun: [[4, 5]], launched: 4 });
    spentAll(midway);
    assert.equal(midway.checkBudget(), true);
    assert.equal(midway.state.stoppedBy, 'budget');
    assert.equal(midway.hasWork, false);
  });
});

describe('DatasetRun.reconcileWithExport', () => {
  it('counts a failed dialogue the export found stored as completed, and keeps the others failed', () => {
    const run = runWith([1, 4], 4);
    run.reconcileWithExport([1]);
    assert.deepEqual(
      {
        completed: run.state.completed,
        failed: run.state.failedCount,
        failures: run.state.failures.map((f) => f.index),
      },
      { completed: 5, failed: 1, failures: [4] },
    );
  });
});

describe('DatasetRun group sizing', () => {
  it('sizes the next groups from what groups report of their histories, and carries it on', () => {
    const long = { ...input, turns: 4 };
    const run = new DatasetRun(long, 'd', { ...runWith([], 0).state, inFlight: [] });
    // Before any report: 16 turns² of 17,128 bytes (2,048-token answers through the codec) in 3 MiB.
    assert.equal(run.groupSize, 11);
    run.started('d/0-2', [0, 1, 2]);
    // 3,000-token answers: 20,000 bytes a turn²; and the server suggested continue-as-new at 1 MiB.
    run.settle({ id: 'd/0-2', outcomes: [], history: { bytes: 2_000_000, turnsSquared: 100 } });
    assert.equal(run.groupSize, 9, '3 MiB / (16 × 20,000)');
    run.settle({
      id: 'd/0-2',
      outcomes: [],
      history: { bytes: 2_000_000, turnsSquared: 100, handedOnAt: 1 << 20 },
    });
    assert.equal(run.groupSize, 2, '786,432 / 320,000');
    const carried = { ...run.state }; // what carry() hands the next run, with the groups in flight
    assert.equal(new DatasetRun(long, 'd', carried).groupSize, 2, 'the next run of the parent knows it too');
  });
});
