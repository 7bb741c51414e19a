// The numbers the Parrot paper and its peers report (../shared/PARROT.md), shown beside a
// dataset's own in its report and card. The paper's code and data were never published: they
// are reference points from the paper, not numbers we reproduced.
import type { DatasetMetrics } from '../types';

export const REFERENCE_DATASETS = ['Parrot-40K', 'ShareGPT', 'UltraChat', 'Baize'] as const;
export type ReferenceDataset = (typeof REFERENCE_DATASETS)[number];

export interface ReferenceRow {
  label: string;
  /** How this dataset's value is read off its metrics (undefined: not measured). */
  ours: (m: Partial<DatasetMetrics>) => number | undefined;
  reference: Partial<Record<ReferenceDataset, number | string>>;
  /** How ours is measured where it differs from the paper. */
  note?: string;
}

export const REFERENCE_ROWS: ReferenceRow[] = [
  {
    label: 'turns per dialogue',
    ours: (m) => m.turnsPerDialogue,
    reference: { 'Parrot-40K': 8.71, ShareGPT: 6.67, UltraChat: 3.85, Baize: 4.54 },
  },
  {
    label: 'context-dependent questions per dialogue',
    ours: (m) => m.contextDependentQuestionsPerDialogue,
    reference: { 'Parrot-40K': 3.42, ShareGPT: 4.62, UltraChat: 1.45, Baize: 1.75 },
    note: 'ours: an anaphora/ellipsis heuristic (src/metrics/dialogue-metrics.ts); the paper used an LLM judge',
  },
  {
    label: 'context-dependent questions per dialogue, LLM judge',
    ours: (m) => m.contextDependentQuestionsPerDialogueJudge,
    reference: { 'Parrot-40K': 3.42, ShareGPT: 4.62, UltraChat: 1.45, Baize: 1.75 },
    note: 'ours: the judge in metrics.judge, over a sample of dialogues (judgedDialogues)',
  },
  {
    label: 'topic shifts per dialogue',
    ours: (m) => m.topicShiftsPerDialogue,
    reference: { 'Parrot-40K': '~8.0 (v1, unverified)' },
    note: 'ours: a question less similar to the previous one than the threshold (default: the mean similarity of questions from different dialogues)',
  },
  {
    label: 'Self-ROUGE-L of questions (lower = more diverse)',
    ours: (m) => m.selfRougeLQuestions,
    reference: { 'Parrot-40K': 12.5 },
  },
  {
    label: 'topic diversity: mean pairwise cosine of question embeddings (lower = more diverse)',
    ours: (m) => m.topicSimilarity,
    reference: {},
  },
  { label: 'MTLD of questions (higher = richer vocabulary)', ours: (m) => m.mtldQuestions, reference: {} },
  {
    label: 'tokens per dialogue',
    ours: (m) => m.generatedTokensPerDialogue,
    reference: { 'Parrot-40K': '~751 (v1, unverified)' },
    note: 'ours: generated tokens (the seed question not counted)',
  },
];
