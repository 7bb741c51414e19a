// Parrot's per-dialogue measures that need no model (../shared/PARROT.md, "Quality metrics"):
// context-dependent questions (a heuristic; the paper used an LLM judge), Self-ROUGE-L of
// questions, and MTLD of user turns. Near-duplicate dialogues: near-duplicates.ts.
import { words } from './text-metrics';

// Words that point back to something said earlier (anaphora), and openings that leave out what
// the question is about (ellipsis): "and in Python?", "what about the second one?".
const ANAPHORA = new Set([
  'it',
  'its',
  'that',
  'those',
  'these',
  'they',
  'them',
  'their',
  'this',
  'such',
  'above',
  'previous',
  'earlier',
  'former',
  'latter',
  'same',
  'there',
  'one',
  'ones',
]);
const ELLIPTIC_OPENINGS = [
  /^(and|or|but|also|so)\b/,
  /^(what|how) about\b/,
  /^(why|how come|really|then)\??$/,
  /^(in|for|with|without|on) [^?]{1,30}\??$/,
  /^(more|another|other|else)\b/,
  /^(can|could) you (elaborate|explain more|expand|give (me )?(an|another|more) examples?)/,
];

/**
 * Whether a question (not the first of its dialogue) leans on the dialogue before it: it opens
 * elliptically, or it uses a word that refers back and is short enough (≤ 25 words) not to
 * carry its own context. A documented heuristic, not the paper's LLM judge.
 */
export function isContextDependent(question: string): boolean {
  const text = question.trim().toLowerCase();
  if (ELLIPTIC_OPENINGS.some((re) => re.test(text))) return true;
  const tokens = words(text);
  return tokens.length <= 25 && tokens.some((t) => ANAPHORA.has(t));
}

/** Length of the longest common subsequence of two token lists (O(n·m), small texts). */
function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j];
      row[j] = a[i - 1] === b[j - 1] ? prev + 1 : Math.max(row[j], row[j - 1]);
      prev = keep;
    }
  }
  return row[b.length];
}

/** ROUGE-L F1 of two token lists, 0–1. */
export function rougeL(a: string[], b: string[]): number {
  if (!a.length || !b.length) return 0;
  const l = lcs(a, b);
  if (l === 0) return 0;
  const p = l / b.length;
  const r = l / a.length;
  return (2 * p * r) / (p + r);
}

/**
 * Self-ROUGE-L of a dialogue's questions, 0–100: the mean, over its questions, of the ROUGE-L
 * between a question and each other question (lower = the user repeats less). Within a
 * dialogue, so it streams over a dataset; undefined for fewer than two questions.
 */
export function selfRougeL(questions: string[][]): number | undefined {
  if (questions.length < 2) return undefined;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < questions.length; i++) {
    for (let j = 0; j < questions.length; j++) {
      if (i === j) continue;
      sum += rougeL(questions[i], questions[j]);
      pairs++;
    }
  }
  return (100 * sum) / pairs;
}

/** MTLD (McCarthy & Jarvis 2010): mean of the forward and backward passes, TTR threshold 0.72. */
export function mtld(tokens: string[], threshold = 0.72): number | undefined {
  if (tokens.length === 0) return undefined;
  const pass = (seq: string[]) => {
    let factors = 0;
    let types = new Set<string>();
    let count = 0;
    for (const t of seq) {
      types.add(t);
      count++;
      if (types.size / count <= threshold) {
        factors++;
        types = new Set();
        count = 0;
      }
    }
    if (count > 0) factors += (1 - types.size / count) / (1 - threshold); // the partial factor
    return factors === 0 ? seq.length : seq.length / factors;
  };
  return (pass(tokens) + pass([...tokens].reverse())) / 2;
}
