// Filters on the simulated user's questions (Parrot drops repetitive and too-short questions;
// ChatAlpaca rejects assistant-like user turns by keyword). A question that fails one is
// asked again; each hit is counted in the dataset metrics.
import { rougeL } from '../metrics/dialogue-metrics';
import { words } from '../metrics/text-metrics';

import type { QuestionFilter } from '../planning/filter-hits';

/** Phrases a user does not say, an assistant does. */
const ASSISTANT_SPEAK = [
  /\bas an ai\b/i,
  /\b(i am|i'm) an? (ai|artificial intelligence|language model|assistant)\b/i,
  /\blanguage model\b/i,
  /\b(i'm|i am) (here|happy|glad) to help\b/i,
  /\bhow (can|may) i (help|assist) you\b/i,
  /\bfeel free to (ask|reach out)\b/i,
  /\bi hope (this|that) helps\b/i,
  /\bis there anything else\b/i,
  /\blet me know if you (have|need)\b/i,
];
/** A turn marker left inside the text: the model wrote (part of) another turn. */
const ROLE_LEAK = /(^|\n)\s*\**\s*(assistant|ai|gpt|chatgpt|human|user)\s*\**\s*[:：]/i;
/** Narrating the user instead of speaking as them ("The user is a student who wants..."): small models do. */
const NARRATION = /^\W*the (user|human)(?:'s| (?:is|was|has|wants|would|asks|says|then|now)\b)/i;

/** Near-duplicate: ROUGE-L F1 with an earlier question of the same dialogue at least this. */
export const NEAR_DUPLICATE_ROUGE_L = 0.8;
/** Answering instead of asking: this many words with no question mark. */
const ANSWER_LIKE_WORDS = 60;

/**
 * Degenerate repetition inside one question (small models loop: "Hey there! Hey there! ..."): at
 * least this many words, and under this share of its word trigrams distinct.
 */
const REPETITIVE_MIN_WORDS = 12;
const REPETITIVE_DISTINCT_TRIGRAMS = 0.5;

export function isRepetitive(tokens: string[]): boolean {
  if (tokens.length < REPETITIVE_MIN_WORDS) return false;
  const trigrams = tokens.slice(2).map((t, i) => `${tokens[i]} ${tokens[i + 1]} ${t}`);
  return new Set(trigrams).size / trigrams.length < REPETITIVE_DISTINCT_TRIGRAMS;
}

/** The first filter a question fails, or undefined if it passes them all. */
export function failedFilter(question: string, earlier: string[], minWords = 2): QuestionFilter | undefined {
  const tokens = words(question);
  if (tokens.length < minWords) return 'tooShort';
  if (ROLE_LEAK.test(question) || NARRATION.test(question)) return 'roleLeak';
  if (isRepetitive(tokens)) return 'repetitive';
  if (ASSISTANT_SPEAK.some((re) => re.test(question))) return 'assistantSpeak';
  if (tokens.length >= ANSWER_LIKE_WORDS && !question.includes('?')) return 'assistantSpeak';
  if (earlier.some((q) => rougeL(tokens, words(q)) >= NEAR_DUPLICATE_ROUGE_L)) return 'nearDuplicate';
  return undefined;
}

/**
 * The simulated user taking leave ("Thanks, that's all!") rather than asking: the dialogue ends
 * there. Short, no question mark, and opening with thanks or a goodbye, so that "Thanks! And what
 * about X?" still counts as a question.
 */
const USER_DONE =
  /^(?:ok(?:ay)?[,!. ]*)?(?:thanks?|thank you|thx|cheers|bye|goodbye|that'?s (?:all|it|everything)|no more questions|i'?m (?:done|good|all set))\b/i;
const USER_DONE_MAX_WORDS = 12;

export function isUserDone(question: string): boolean {
  const text = question.trim();
  return USER_DONE.test(text) && !text.includes('?') && text.split(/\s+/).length <= USER_DONE_MAX_WORDS;
}
