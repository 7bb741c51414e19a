// The `prompted` Ask mode: a chat model plays the user. It is shown the dialogue so far, then an
// instruction appended after it (UltraChat's approach), and its reply is cleaned of the role
// prefixes and quotes such models like to add.
import type { ChatMessage } from '../types';

export const DEFAULT_USER_INSTRUCTION =
  'Above is a conversation between a user and an AI assistant. Now suppose you are the user. ' +
  'Write the next thing the user says to continue the conversation: a short, casual follow-up question ' +
  'about what the assistant just said, the way a real person would type it. Reply with the question only.';

/** The instruction, and who the user is when the dialogue has a persona (src/prompts/personas.ts). */
export function promptedUserMessages(
  dialogue: ChatMessage[],
  instruction = DEFAULT_USER_INSTRUCTION,
  persona?: string,
): ChatMessage[] {
  const transcript = dialogue
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content.trim()}`)
    .join('\n\n');
  const who = persona ? `\nThe user is ${persona}. Write as they would.` : '';
  return [{ role: 'user', content: `${transcript}\n\n---\n${instruction}${who}` }];
}

const ROLE_PREFIX =
  /^\s*(?:\*\*)?\s*(?:(?:the )?user|human|me|you|question|q|follow[- ]?up(?: question)?)\s*(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*/i;
const NEXT_TURN = /\n\s*(?:\*\*)?\s*(?:assistant|ai|gpt|bot|answer|a)\s*(?:\*\*)?\s*[:：]/i;
const QUOTES: [string, string][] = [
  ['"', '"'],
  ['“', '”'],
  ["'", "'"],
  ['«', '»'],
];

/** The user's question from a prompted model's reply; empty when nothing usable is left. */
export function cleanUserReply(reply: string): string {
  let text = reply.replace(/\r/g, '');
  const next = NEXT_TURN.exec(text);
  if (next) text = text.slice(0, next.index);
  for (let i = 0; i < 3; i++) {
    const before = text;
    text = text.trim().replace(ROLE_PREFIX, '').trim();
    for (const [open, close] of QUOTES) {
      if (text.length >= 2 && text.startsWith(open) && text.endsWith(close))
        text = text.slice(open.length, -close.length).trim();
    }
    if (text === before) break;
  }
  return text;
}
