// What each LLM call sends, whether online (src/activities/llm.ts) or in a batch file
// (src/batch/batch-requests.ts): the answerer sees its system prompt and the dialogue; the
// simulated user a prompted chat (src/prompts/prompted-user.ts) or a raw Socratic transcript
// (src/prompts/parrot-ask.ts).
import type { AnswerSettings, AskSettings } from '../config/dataset-input';
import type { ChatMessage } from '../types';
import { PARROT_ASK_STOP, socraticPrompt } from './parrot-ask';
import { promptedUserMessages } from './prompted-user';

export type CallPrompt = { messages: ChatMessage[] } | { prompt: string; stop: string[] };

/** The answer request's messages: the system prompt, if any, then the dialogue. */
export function answerMessages(
  settings: Pick<AnswerSettings, 'systemPrompt'>,
  dialogue: ChatMessage[],
): ChatMessage[] {
  return settings.systemPrompt ? [{ role: 'system', content: settings.systemPrompt }, ...dialogue] : dialogue;
}

/** The question request, as the Ask mode makes it. */
export function questionPrompt(
  settings: AskSettings,
  dialogue: ChatMessage[],
  persona: string | undefined,
): CallPrompt {
  return settings.mode === 'parrot-ask'
    ? {
        prompt: socraticPrompt(dialogue, settings.instruction),
        stop: settings.stop ?? PARROT_ASK_STOP.slice(0, 4),
      }
    : { messages: promptedUserMessages(dialogue, settings.instruction, persona) };
}
