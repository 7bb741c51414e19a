// What OpenAI's fine-tuning checks would say about a line of a chat-format JSONL file.
const OPENAI_ROLES = new Set(['system', 'user', 'assistant']);

/**
 * The checks OpenAI documents for chat fine-tuning files (its data-preparation cookbook's
 * format validation), made strict where a trainer needs it: returns what is wrong with one
 * JSONL line, or nothing.
 */
export function openAiChatProblems(line: string): string[] {
  let example: unknown;
  try {
    example = JSON.parse(line);
  } catch {
    return ['not JSON'];
  }
  if (typeof example !== 'object' || example === null || Array.isArray(example)) return ['not an object'];
  const messages = (example as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) return ['missing or empty messages list'];
  const problems: string[] = [];
  const roles: string[] = [];
  for (const [i, message] of (messages as unknown[]).entries()) {
    if (typeof message !== 'object' || message === null) {
      problems.push(`message ${i}: not an object`);
      continue;
    }
    const { role, content, ...rest } = message as Record<string, unknown>;
    if (Object.keys(rest).length)
      problems.push(`message ${i}: unrecognized keys ${Object.keys(rest).join(', ')}`);
    if (typeof role !== 'string' || !OPENAI_ROLES.has(role))
      problems.push(`message ${i}: bad role ${String(role)}`);
    if (typeof content !== 'string' || !content.trim())
      problems.push(`message ${i}: content not a non-empty string`);
    roles.push(String(role));
  }
  const turns = roles[0] === 'system' ? roles.slice(1) : roles;
  if (turns.some((r, i) => r !== (i % 2 ? 'assistant' : 'user')))
    problems.push(`roles do not alternate user/assistant after the system message: ${roles.join(',')}`);
  if (turns.length === 0 || turns[turns.length - 1] !== 'assistant')
    problems.push('does not end on an assistant turn');
  return problems;
}
