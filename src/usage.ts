// Token usage arithmetic, shared by workflows and activities.
import type { TokenUsage } from './types';

export const emptyUsage = (): TokenUsage => ({ promptTokens: 0, completionTokens: 0, calls: 0 });

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  calls: a.calls + b.calls,
});
