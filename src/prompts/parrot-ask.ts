// The `parrot-ask` Ask mode: a model trained (or able) to continue a transcript as the human,
// served as raw text completion. The prompt is PlatoLM's "Socratic" layout (../shared/PARROT.md):
// a system line, the turns as `Human:` / `Assistant:`, and a final `Human:` after which the
// model writes the next question. Stop sequences end it before it writes the assistant's turn.
import type { ChatMessage } from '../types';

export const SOCRATIC_SYSTEM_LINE =
  'A chat between a curious human and an artificial intelligence assistant. The human can ask further questions ' +
  'based on previous conversations, or he can directly ask brand new questions without any conversations as context.';

/** Where the model must stop: the start of the next turn, whoever's. */
export const PARROT_ASK_STOP = ['\nAssistant:', '\nHuman:', 'Assistant:', '</s>'];

export function socraticPrompt(dialogue: ChatMessage[], systemLine = SOCRATIC_SYSTEM_LINE): string {
  const turns = dialogue
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role === 'user' ? 'Human' : 'Assistant'}: ${m.content.trim()}`);
  return `${systemLine}\n\n${turns.join('\n')}\nHuman:`;
}
