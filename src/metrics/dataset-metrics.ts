// Dataset-level metrics, accumulated one dialogue at a time in memory that does not grow with the
// dataset: under 17 MiB, of which 14.3 MiB for the near-duplicate sample (near-duplicates.ts)
// and ≤ 0.6 MiB for each of the four distinct-n counts (distinct-count.ts).
import type { DatasetMetrics, DialogueEnd, DialogueRecord } from '../types';
import { isContextDependent, mtld, selfRougeL } from './dialogue-metrics';
import { NearDuplicateFinder } from './near-duplicates';
import { DistinctNgrams, words } from './text-metrics';
import { addHits, type FilterHits } from '../prompts/question-filters';

/** Counts by bucket: `width` wide, the last bucket open from `max` on. */
class BucketCounts {
  private readonly counts = new Map<number, number>();
  constructor(
    private readonly width: number,
    private readonly max: number,
  ) {}
  add(x: number) {
    const bucket = Math.min(Math.floor(x / this.width) * this.width, this.max);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
  }
  /** "7" for a bucket one wide, else "5–9", and "200+" for the last. */
  private label(b: number): string {
    if (this.width === 1) return String(b);
    return b === this.max ? `${b}+` : `${b}–${b + this.width - 1}`;
  }
  result(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [b, n] of [...this.counts].sort((x, y) => x[0] - y[0])) out[this.label(b)] = n;
    return out;
  }
}

class Mean {
  private sum = 0;
  private n = 0;
  add(x: number) {
    this.sum += x;
    this.n++;
  }
  get value() {
    return this.n === 0 ? 0 : this.sum / this.n;
  }
}

export class DatasetMetricsAccumulator {
  private dialogues = 0;
  private readonly turns = new Mean();
  private readonly questionTokens = new Mean();
  private readonly answerTokens = new Mean();
  private readonly questionWords = new Mean();
  private readonly answerWords = new Mean();
  private readonly questionNgrams = new DistinctNgrams(2);
  private readonly answerNgrams = new DistinctNgrams(2);
  private readonly contextDependent = new Mean();
  private readonly selfRouge = new Mean();
  private readonly mtld = new Mean();
  private readonly nearDuplicates = new NearDuplicateFinder();
  private filterHits: FilterHits = {};
  private readonly endedBy: Partial<Record<DialogueEnd, number>> = {};
  private readonly generatedTokens = new Mean();
  private readonly turnCounts = new BucketCounts(1, 100);
  private readonly questionLengths = new BucketCounts(5, 200);
  private readonly answerLengths = new BucketCounts(50, 1500);

  add(record: DialogueRecord): void {
    this.dialogues++;
    this.turns.add(record.turns);
    this.turnCounts.add(record.turns);
    let generated = 0;
    const questions: string[][] = [];
    const all: string[] = [];
    let dependent = 0;
    for (const turn of record.conversations) {
      const tokens = words(turn.value);
      generated += turn.tokens ?? 0;
      all.push(...tokens);
      if (turn.from === 'human') {
        if (questions.length > 0 && isContextDependent(turn.value)) dependent++;
        questions.push(tokens);
        this.questionWords.add(tokens.length);
        if (turn.tokens !== undefined) this.questionTokens.add(turn.tokens);
        this.questionLengths.add(turn.tokens ?? tokens.length);
        this.questionNgrams.add(tokens);
      } else {
        this.answerWords.add(tokens.length);
        if (turn.tokens !== undefined) this.answerTokens.add(turn.tokens);
        this.answerLengths.add(turn.tokens ?? tokens.length);
        this.answerNgrams.add(tokens);
      }
    }
    this.contextDependent.add(dependent);
    this.generatedTokens.add(generated);
    const rouge = selfRougeL(questions);
    if (rouge !== undefined) this.selfRouge.add(rouge);
    const lexical = mtld(questions.flat());
    if (lexical !== undefined) this.mtld.add(lexical);
    this.nearDuplicates.add(all);
    this.filterHits = addHits(this.filterHits, record.filterHits);
    const end = record.endedBy;
    this.endedBy[end] = (this.endedBy[end] ?? 0) + 1;
  }

  result(): DatasetMetrics {
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return {
      dialogues: this.dialogues,
      turnsPerDialogue: r(this.turns.value),
      tokensPerQuestion: r(this.questionTokens.value),
      tokensPerAnswer: r(this.answerTokens.value),
      wordsPerQuestion: r(this.questionWords.value),
      wordsPerAnswer: r(this.answerWords.value),
      distinct1Questions: r(this.questionNgrams.distinct(1)),
      distinct2Questions: r(this.questionNgrams.distinct(2)),
      distinct1Answers: r(this.answerNgrams.distinct(1)),
      distinct2Answers: r(this.answerNgrams.distinct(2)),
      contextDependentQuestionsPerDialogue: r(this.contextDependent.value),
      selfRougeLQuestions: r(this.selfRouge.value),
      mtldQuestions: r(this.mtld.value),
      nearDuplicateDialogues: this.nearDuplicates.duplicates,
      ...(this.nearDuplicates.isExact
        ? {}
        : { nearDuplicateDialoguesStandardError: Math.round(this.nearDuplicates.standardError) }),
      questionFilterHits: this.filterHits,
      dialoguesEndedBy: { ...this.endedBy },
      generatedTokensPerDialogue: r(this.generatedTokens.value),
      histograms: {
        turns: this.turnCounts.result(),
        questionTokens: this.questionLengths.result(),
        answerTokens: this.answerLengths.result(),
      },
    };
  }
}
