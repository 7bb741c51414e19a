// A group's requests as batch-file lines: each the request its online call would send
// (src/prompts/call-prompts.ts), under its custom_id. An ask line keeps, beside it, the dialogue's
// questions so far, which judging its reply needs (src/prompts/question-reply.ts).
import type { AnswerSettings, AskSettings } from '../config/dataset-input';
import { answerMessages, questionPrompt } from '../prompts/call-prompts';
import type { Sampling } from '../providers/openai-provider';
import type { BatchRole, BatchUrl, StagedCall } from './batch-types';

/** Characters a token, as the estimate and the rate gate count (no tokenizer is a dependency). */
const CHARS_PER_TOKEN = 4;

/** The url a role's lines name. */
export const batchUrlOf = (role: BatchRole, settings: Pick<AskSettings, 'mode'> | object): BatchUrl =>
  role === 'ask' && 'mode' in settings && settings.mode === 'parrot-ask'
    ? '/v1/completions'
    : '/v1/chat/completions';

export interface PieceLines {
  /** Exact batch-file lines, each ending in a newline. */
  lines: string;
  /** Ask only: `{"custom_id", "earlier"}` lines. */
  meta?: string;
  count: number;
  tokens: number;
  bytes: number;
}

/** The sampling fields of a request body, as the online calls send them. */
function samplingBody(s: Sampling) {
  return {
    model: s.model,
    ...(s.temperature !== undefined && { temperature: s.temperature }),
    ...(s.topP !== undefined && { top_p: s.topP }),
    ...(s.seed !== undefined && { seed: s.seed }),
    ...(s.maxTokens !== undefined && { max_tokens: s.maxTokens }),
  };
}

function requestBody(role: BatchRole, settings: AskSettings | AnswerSettings, call: StagedCall) {
  if (role === 'answer')
    return { ...samplingBody(settings), messages: answerMessages(settings as AnswerSettings, call.dialogue) };
  const p = questionPrompt(settings as AskSettings, call.dialogue, call.persona);
  return { ...samplingBody(settings), ...p };
}

export function pieceLines(
  role: BatchRole,
  settings: AskSettings | AnswerSettings,
  calls: StagedCall[],
): PieceLines {
  const url = batchUrlOf(role, settings);
  let lines = '';
  let meta = '';
  let chars = 0;
  for (const call of calls) {
    const body = requestBody(role, settings, call);
    chars += 'prompt' in body ? body.prompt.length : body.messages.reduce((n, m) => n + m.content.length, 0);
    // custom_id first: the submit step reads it off the line without parsing the rest.
    lines += `${JSON.stringify({ custom_id: call.customId, method: 'POST', url, body })}\n`;
    if (role === 'ask') {
      const earlier = call.dialogue.filter((m) => m.role === 'user').map((m) => m.content);
      meta += `${JSON.stringify({ custom_id: call.customId, earlier })}\n`;
    }
  }
  return {
    lines,
    ...(role === 'ask' && { meta }),
    count: calls.length,
    tokens: Math.ceil(chars / CHARS_PER_TOKEN),
    bytes: Buffer.byteLength(lines),
  };
}

/** A line's custom_id, as pieceLines wrote it (first). */
export function customIdOfLine(line: string): string {
  const m = /^\{"custom_id":"([^"]+)"/.exec(line);
  if (!m) throw new Error(`not a parrot batch line: ${line.slice(0, 80)}`);
  return m[1];
}
