// The question filters' names and their hit counts: what a dialogue carries and the metrics sum.
// Apart from the filters themselves (src/prompts/question-filters.ts), so that workflows count
// hits without bundling the filters' text metrics.
export const FILTER_NAMES = [
  'tooShort',
  'nearDuplicate',
  'assistantSpeak',
  'roleLeak',
  'repetitive',
] as const;
export type QuestionFilter = (typeof FILTER_NAMES)[number];
export type FilterHits = Partial<Record<QuestionFilter, number>>;

/** Two counts of filter hits added up. */
export function addHits(a: FilterHits | undefined, b: FilterHits | undefined): FilterHits {
  const out: FilterHits = { ...a };
  for (const [k, v] of Object.entries(b ?? {}))
    out[k as QuestionFilter] = (out[k as QuestionFilter] ?? 0) + (v ?? 0);
  return out;
}
