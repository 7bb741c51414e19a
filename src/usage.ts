// Token usage arithmetic, shared by workflows and activities.
import type { TokenUsage } from './types';

export const emptyUsage = (): TokenUsage => ({ promptTokens: 0, completionTokens: 0, calls: 0 });

/**
 * The sum of two usages. `costUsd` and `unpricedCalls` appear only when either side has them, so
 * usage from unpriced endpoints keeps its old shape; an absent cost adds as 0 and is counted in
 * `unpricedCalls` by whoever made the call (src/providers/openai-provider.ts).
 */
export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  calls: a.calls + b.calls,
  ...((a.costUsd !== undefined || b.costUsd !== undefined) && {
    costUsd: (a.costUsd ?? 0) + (b.costUsd ?? 0),
  }),
  ...((a.unpricedCalls || b.unpricedCalls) && {
    unpricedCalls: (a.unpricedCalls ?? 0) + (b.unpricedCalls ?? 0),
  }),
  ...((a.batchCalls || b.batchCalls) && { batchCalls: (a.batchCalls ?? 0) + (b.batchCalls ?? 0) }),
  ...((a.batchCostUsd !== undefined || b.batchCostUsd !== undefined) && {
    batchCostUsd: (a.batchCostUsd ?? 0) + (b.batchCostUsd ?? 0),
  }),
});

/** The usage of one call: its cost when the endpoint is priced, else counted as unpriced. */
export function callUsage(
  promptTokens: number,
  completionTokens: number,
  costUsd: number | undefined,
): TokenUsage {
  return {
    promptTokens,
    completionTokens,
    calls: 1,
    ...(costUsd === undefined ? { unpricedCalls: 1 } : { costUsd }),
  };
}

/** The usage of one call answered through a batch API: `costUsd` at the batch price. */
export function batchCallUsage(
  promptTokens: number,
  completionTokens: number,
  costUsd: number | undefined,
): TokenUsage {
  return {
    ...callUsage(promptTokens, completionTokens, costUsd),
    batchCalls: 1,
    ...(costUsd !== undefined && { batchCostUsd: costUsd }),
  };
}

/** USD with enough digits to be read: cents above a dollar, four significant digits below. */
export const formatUsd = (usd: number) =>
  usd >= 1
    ? `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
    : `$${Number(usd.toPrecision(4))}`;
