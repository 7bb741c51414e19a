// Metrics that need a model, over a seeded sample of dialogues: topic diversity and topic shifts
// from question embeddings (PlatoLM's measures), and context-dependence as an LLM judge sees it
// (the Parrot paper's method). The math is here; the calls come in as functions.
import { prng } from '../random';
import { CONTEXT_JUDGE_INSTRUCTION, parseJudgeVerdict } from '../prompts/context-judge';
import type { ChatMessage, DialogueRecord } from '../types';

export function cosine(a: number[], b: number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export interface TopicMetrics {
  /** Mean cosine similarity of pairs of questions from different dialogues; lower = more diverse. */
  topicSimilarity: number;
  topicShiftsPerDialogue: number;
  topicShiftThreshold: number;
  embeddedQuestions: number;
}

/** Most question pairs compared for the similarity mean (all pairs when fewer). */
const MAX_PAIRS = 2_000_000;

/**
 * `dialogues`: each dialogue's question embeddings in order. Topic diversity is the mean similarity
 * of questions from different dialogues; a shift is a question less similar to the one before it
 * than `threshold` (default: that mean — no closer to the last question than a random one is).
 */
export function topicMetrics(dialogues: number[][][], threshold?: number, seed = 0): TopicMetrics {
  const all = dialogues.flatMap((qs, d) => qs.map((v) => ({ d, v })));
  let sum = 0,
    pairs = 0;
  const total = (all.length * (all.length - 1)) / 2;
  if (total <= MAX_PAIRS) {
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        if (all[i].d !== all[j].d) {
          sum += cosine(all[i].v, all[j].v);
          pairs++;
        }
      }
    }
  } else {
    const rand = prng(seed);
    while (pairs < MAX_PAIRS) {
      const i = Math.floor(rand() * all.length),
        j = Math.floor(rand() * all.length);
      if (all[i].d !== all[j].d) {
        sum += cosine(all[i].v, all[j].v);
        pairs++;
      }
    }
  }
  const similarity = pairs ? sum / pairs : 0;
  const cut = threshold ?? similarity;
  let shifts = 0;
  for (const qs of dialogues)
    for (let k = 1; k < qs.length; k++) if (cosine(qs[k - 1], qs[k]) < cut) shifts++;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    topicSimilarity: r(similarity),
    topicShiftsPerDialogue: r(dialogues.length ? shifts / dialogues.length : 0),
    topicShiftThreshold: r(cut),
    embeddedQuestions: all.length,
  };
}

export const questionsOf = (record: DialogueRecord) =>
  record.conversations.filter((c) => c.from === 'human').map((c) => c.value);

/** Embeds each sampled dialogue's questions, `batch` at a time, and computes the topic metrics. */
export async function embeddingTopicMetrics(
  dialogues: string[][],
  embed: (texts: string[]) => Promise<number[][]>,
  threshold: number | undefined,
  seed: number,
  batch = 64,
): Promise<TopicMetrics> {
  const flat = dialogues.flat();
  const vectors: number[][] = [];
  for (let i = 0; i < flat.length; i += batch) vectors.push(...(await embed(flat.slice(i, i + batch))));
  let at = 0;
  return topicMetrics(
    dialogues.map((qs) => qs.map(() => vectors[at++])),
    threshold,
    seed,
  );
}

/** The judge's prompt for question `k` (k ≥ 1) of a dialogue: the turns before it, then it. */
export function contextJudgeMessages(record: DialogueRecord, k: number): ChatMessage[] {
  const turns = record.conversations;
  const humanAt = turns.map((c, i) => (c.from === 'human' ? i : -1)).filter((i) => i >= 0);
  const before = turns
    .slice(0, humanAt[k])
    .map((c) => `${c.from === 'human' ? 'User' : 'Assistant'}: ${c.value.trim()}`)
    .join('\n\n');
  return [
    {
      role: 'user',
      content: `${before}\n\n---\nThe user's latest message: ${turns[humanAt[k]].value.trim()}\n\n${CONTEXT_JUDGE_INSTRUCTION}`,
    },
  ];
}

export interface JudgeMetrics {
  /** Absent when the judge gave no clear yes or no at all (a model too small to judge). */
  contextDependentQuestionsPerDialogueJudge?: number;
  judgedDialogues: number;
  judgeUnclearReplies: number;
}

/** Asks the judge about every question after the first of each sampled dialogue, `parallel` at a time. */
export async function judgeContextDependence(
  records: DialogueRecord[],
  judge: (messages: ChatMessage[]) => Promise<string>,
  parallel = 4,
): Promise<JudgeMetrics> {
  const jobs = records.flatMap((r) =>
    questionsOf(r)
      .slice(1)
      .map((_, i) => ({ r, k: i + 1 })),
  );
  let dependent = 0,
    unclear = 0,
    next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { r, k } = jobs[next++];
      const verdict = parseJudgeVerdict(await judge(contextJudgeMessages(r, k)));
      if (verdict === 'dependent') dependent++;
      else if (verdict === undefined) unclear++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return {
    contextDependentQuestionsPerDialogueJudge:
      unclear < jobs.length ? Math.round((dependent / records.length) * 1000) / 1000 : undefined,
    judgedDialogues: records.length,
    judgeUnclearReplies: unclear,
  };
}
