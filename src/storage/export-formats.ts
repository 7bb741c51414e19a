// How one stored dialogue reads as a line of each export format.
//   sharegpt  {"id", "conversations": [{"from": "human" | "gpt", "value"}, …]}: the record's turns as they are.
//   openai    {"messages": [{"role": "user" | "assistant", "content"}, …], "id", "persona", "endedBy"}:
//             the chat format of OpenAI fine-tuning, TRL's SFTTrainer and axolotl's chat_template.
//             Trainers read `messages` and ignore the other columns.
import type { ExportFormat } from '../config/dataset-input';
import type { ChatMessage, DialogueRecord } from '../types';

/** A dialogue as one JSONL line; `trimmed` when turns it has were left out of the line. */
export interface ExportLine {
  text: string;
  trimmed: boolean;
}

/**
 * The dialogue's turns as chat messages: user/assistant pairs from the start, up to the first
 * that breaks the chat format's rules (a turn out of order, or with blank text). So every result
 * alternates user/assistant and ends on an answer; `trimmed` says turns were dropped.
 */
export function chatMessages(conversations: DialogueRecord['conversations']): {
  messages: ChatMessage[];
  trimmed: boolean;
} {
  const messages: ChatMessage[] = [];
  for (let i = 0; i + 1 < conversations.length; i += 2) {
    const [question, answer] = [conversations[i], conversations[i + 1]];
    if (question.from !== 'human' || answer.from !== 'gpt' || !question.value.trim() || !answer.value.trim())
      break;
    messages.push({ role: 'user', content: question.value }, { role: 'assistant', content: answer.value });
  }
  return { messages, trimmed: messages.length < conversations.length };
}

/** The record as a line of `format`, newline included; undefined when the format cannot hold even its first turn. */
export function exportLine(format: ExportFormat, r: DialogueRecord): ExportLine | undefined {
  switch (format) {
    case 'sharegpt':
      return {
        text:
          JSON.stringify({
            id: r.id,
            conversations: r.conversations.map(({ from, value }) => ({ from, value })),
          }) + '\n',
        trimmed: false,
      };
    case 'openai': {
      const { messages, trimmed } = chatMessages(r.conversations);
      if (!messages.length) return undefined;
      // Every line has every column (null where a record lacks one), so that readers that infer a
      // schema (Hugging Face datasets, pandas) see the same columns in every shard.
      const line = { messages, id: r.id, persona: r.persona ?? null, endedBy: r.endedBy };
      return { text: JSON.stringify(line) + '\n', trimmed };
    }
  }
}
