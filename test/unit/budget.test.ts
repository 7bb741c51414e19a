// The budget's arithmetic: spend from usage, the projection, and when new dialogues stop.
import assert from 'node:assert/strict';
import {
  budgetAllowsStart,
  budgetReached,
  minusSpend,
  projectSpend,
  spendOf,
} from '../../src/planning/budget';

const usage = (promptTokens: number, completionTokens: number, costUsd?: number, unpricedCalls?: number) => ({
  promptTokens,
  completionTokens,
  calls: 1,
  ...(costUsd !== undefined && { costUsd }),
  ...(unpricedCalls !== undefined && { unpricedCalls }),
});

describe('budget arithmetic', () => {
  it('sums tokens and cost of both roles, and subtracts what was reused', () => {
    const all = spendOf({ ask: usage(100, 20, 0.5), answer: usage(300, 80, 1.25, 2) });
    assert.deepEqual(all, { tokens: 500, costUsd: 1.75, unpricedCalls: 2 });
    const reused = spendOf({ ask: usage(10, 2, 0.25), answer: usage(30, 8) });
    assert.deepEqual(minusSpend(all, reused), { tokens: 450, costUsd: 1.5, unpricedCalls: 2 });
  });

  it('projects the spend of every dialogue at the mean of those done', () => {
    assert.equal(projectSpend({ tokens: 400, costUsd: 2, unpricedCalls: 0 }, 0, 10), undefined);
    assert.deepEqual(projectSpend({ tokens: 400, costUsd: 2, unpricedCalls: 1 }, 4, 10), {
      tokens: 1000,
      costUsd: 5,
      unpricedCalls: 2.5,
    });
  });

  it('stops when the spend plus the expected cost of the dialogues in flight reaches the budget', () => {
    const spent = { tokens: 400, costUsd: 2, unpricedCalls: 0 }; // 4 done: 100 tokens, $0.50 each
    assert.equal(budgetReached(undefined, spent, 4, 100), false);
    assert.equal(budgetReached({ maxTokens: 1000 }, spent, 4, 5), false); // 400 + 500 < 1000
    assert.equal(budgetReached({ maxTokens: 1000 }, spent, 4, 6), true); // 400 + 600
    assert.equal(budgetReached({ maxCostUsd: 5 }, spent, 4, 5), false); // $2 + $2.50
    assert.equal(budgetReached({ maxCostUsd: 5 }, spent, 4, 6), true); // $2 + $3
    assert.equal(budgetReached({ maxCostUsd: 5, maxTokens: 100_000 }, spent, 4, 6), true); // either cap
    // Before any dialogue is done, only what is spent counts.
    assert.equal(budgetReached({ maxTokens: 1000 }, { ...spent, tokens: 999 }, 0, 50), false);
    assert.equal(budgetReached({ maxTokens: 1000 }, { ...spent, tokens: 1000 }, 0, 50), true);
    // A call of unknown price reaches a cost budget, not a token budget.
    assert.equal(budgetReached({ maxCostUsd: 5 }, { ...spent, unpricedCalls: 1 }, 4, 0), true);
    assert.equal(budgetReached({ maxTokens: 1000 }, { ...spent, unpricedCalls: 1 }, 4, 0), false);
  });

  it('starts one group alone until a dialogue is done, then while the budget allows', () => {
    const none = { tokens: 0, costUsd: 0, unpricedCalls: 0 };
    assert.equal(budgetAllowsStart(undefined, none, 0, 500), true);
    assert.equal(budgetAllowsStart({ maxTokens: 1000 }, none, 0, 0), true); // the first group
    assert.equal(budgetAllowsStart({ maxTokens: 1000 }, none, 0, 1), false); // nothing known yet
    const spent = { tokens: 400, costUsd: 2, unpricedCalls: 0 };
    assert.equal(budgetAllowsStart({ maxTokens: 1000 }, spent, 4, 5), true);
    assert.equal(budgetAllowsStart({ maxTokens: 1000 }, spent, 4, 6), false);
  });
});
