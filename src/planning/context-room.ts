// The tokens a dialogue's next round is assumed to take, and whether it still fits the models'
// contexts: the dialogue loop ends a dialogue before it would overflow, and the estimate counts
// turns the same way.
import type { DatasetInput } from '../config/dataset-input';

/** A question's and an answer's tokens when their maxTokens is unset. */
export const ASSUMED_QUESTION_TOKENS = 256;
export const ASSUMED_ANSWER_TOKENS = 512;

/** Room kept for the ask instruction (prompted) or the transcript's system line (parrot-ask). */
const ASK_PROMPT_EXTRA_TOKENS = 160;

/**
 * Whether another round (a question, then its answer) could overflow either model's context,
 * given the dialogue's size in tokens as the answerer last saw it.
 */
export function nextRoundOverflows(
  settings: Pick<DatasetInput, 'ask' | 'answer'>,
  dialogueTokens: number,
): boolean {
  const question = settings.ask.maxTokens ?? ASSUMED_QUESTION_TOKENS;
  const askLimit = settings.ask.contextTokens;
  const answerLimit = settings.answer.contextTokens;
  if (askLimit !== undefined && dialogueTokens + ASK_PROMPT_EXTRA_TOKENS + question > askLimit) return true;
  return (
    answerLimit !== undefined &&
    dialogueTokens + question + (settings.answer.maxTokens ?? ASSUMED_ANSWER_TOKENS) > answerLimit
  );
}
