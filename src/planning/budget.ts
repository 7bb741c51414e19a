// What a dataset has spent, what it is heading for, and whether its budget stops new dialogues.
// Pure arithmetic on the usage the dialogues report (workflow code: no I/O).
import type { DatasetInput } from '../config/dataset-input';
import type { Spend, TokenUsage } from '../types';

export type { Spend };

/** Tokens (prompt + completion) and USD of the ask and answer calls; unpriced calls are not in the cost. */

type RoleUsage = { ask: TokenUsage; answer: TokenUsage };

export const noSpend = (): Spend => ({ tokens: 0, costUsd: 0, unpricedCalls: 0 });

export function spendOf(usage: RoleUsage): Spend {
  const s = noSpend();
  for (const u of [usage.ask, usage.answer]) {
    s.tokens += u.promptTokens + u.completionTokens;
    s.costUsd += u.costUsd ?? 0;
    s.unpricedCalls += u.unpricedCalls ?? 0;
  }
  return s;
}

export const minusSpend = (a: Spend, b: Spend): Spend => ({
  tokens: a.tokens - b.tokens,
  costUsd: a.costUsd - b.costUsd,
  unpricedCalls: a.unpricedCalls - b.unpricedCalls,
});

/** `spent` over `done` dialogues, scaled to `total`; undefined before the first is done. */
export function projectSpend(spent: Spend, done: number, total: number): Spend | undefined {
  if (done <= 0) return undefined;
  const k = total / done;
  return { tokens: spent.tokens * k, costUsd: spent.costUsd * k, unpricedCalls: spent.unpricedCalls * k };
}

/**
 * Whether `spent`, plus `running` more dialogues at the mean of the `done` ones, reaches the
 * budget. Calls to an unpriced endpoint reach a cost budget: their cost is unknown, so it is not
 * known to be under it.
 */
export function budgetReached(
  budget: DatasetInput['budget'],
  spent: Spend,
  done: number,
  running: number,
): boolean {
  if (!budget) return false;
  const expected = (x: number) => x + (done > 0 ? (x / done) * running : 0);
  return (
    (budget.maxTokens !== undefined && expected(spent.tokens) >= budget.maxTokens) ||
    (budget.maxCostUsd !== undefined &&
      (spent.unpricedCalls > 0 || expected(spent.costUsd) >= budget.maxCostUsd))
  );
}

/**
 * Whether a budgeted dataset may start more dialogues now. Until one is done nothing is known of
 * a dialogue's cost: one group runs alone (a window of thousands would otherwise be started on a
 * budget of a few). Then: while the spend plus the expected cost of those in flight stays under it.
 */
export function budgetAllowsStart(
  budget: DatasetInput['budget'],
  spent: Spend,
  done: number,
  running: number,
): boolean {
  if (!budget) return true;
  if (done === 0 && running > 0) return false;
  return !budgetReached(budget, spent, done, running);
}
