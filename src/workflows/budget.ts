// What a dataset has spent, what it is heading for, and whether its budget stops new dialogues.
// Pure arithmetic on the usage the dialogues report (workflow code: no I/O).
import type { DatasetInput } from '../config/dataset-input';
import type { TokenUsage } from '../types';

/** Tokens (prompt + completion) and USD of the ask and answer calls; unpriced calls are not in the cost. */
export interface Spend {
  tokens: number;
  costUsd: number;
  unpricedCalls: number;
}

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
 * Whether no new dialogue may start: what `done` dialogues spent, plus `running` more at their
 * mean, reaches the budget. Before any is done nothing is known of the mean; only the spend counts.
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
    (budget.maxCostUsd !== undefined && expected(spent.costUsd) >= budget.maxCostUsd)
  );
}
