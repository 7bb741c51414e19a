// A provider's output and error lines as parrot's outcomes: a reply (trimmed, an ask's judged as
// online: src/prompts/question-reply.ts; priced at the batch price), or the provider's error and
// whether a later batch may succeed (expired, cancelled, 429, 5xx: yes; any other 4xx: no).
import type { AskSettings } from '../config/dataset-input';
import { batchPrices } from '../config/batch-endpoints';
import type { EndpointConfig } from '../config/endpoints';
import { judgeQuestion } from '../prompts/question-reply';
import { batchCallUsage } from '../usage';
import type { BatchOutcome, BatchRole } from './batch-types';

export interface ReplyContext {
  role: BatchRole;
  /** The ask settings that judge a question (filters). */
  ask: Pick<AskSettings, 'questionFilters' | 'minQuestionWords'>;
  endpoint: Pick<
    EndpointConfig,
    'name' | 'priceIn' | 'priceOut' | 'batchPriceIn' | 'batchPriceOut' | 'batchDiscount'
  >;
  /** Ask: the dialogue's questions so far, by custom_id. */
  earlier?: ReadonlyMap<string, string[]>;
}

/** A chat or raw completion, or an error, as a line's response body holds it. */
interface ResponseBody {
  choices?: { message?: { content?: unknown }; text?: unknown }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

interface ProviderLine {
  custom_id?: string;
  response?: { status_code?: number; body?: ResponseBody } | null;
  error?: { code?: string; message?: string } | null;
}

const RETRYABLE_STATUS = (status: number) =>
  status === 408 || status === 409 || status === 429 || status >= 500;

const failed = (customId: string, message: string, type: string, retryable: boolean): BatchOutcome => ({
  customId,
  error: { message, type, retryable },
});

/** One output or error line's outcome; undefined for a line that names no custom_id. */
export function outcomeOfLine(text: string, ctx: ReplyContext): BatchOutcome | undefined {
  const line = JSON.parse(text) as ProviderLine;
  const id = line.custom_id;
  if (!id) return undefined;
  const status = line.response?.status_code;
  if (status === 200) return replyOf(id, line.response!.body, ctx);
  const name = ctx.endpoint.name;
  if (status !== undefined) {
    const message = String(line.response?.body?.error?.message ?? `HTTP ${status}`);
    return failed(id, `${name}: HTTP ${status}: ${message}`, `Http${status}`, RETRYABLE_STATUS(status));
  }
  const code = line.error?.code ?? 'batch_error';
  const message = `${name}: ${code}: ${line.error?.message ?? 'the batch gave no reason'}`;
  if (code === 'batch_expired') return failed(id, message, 'BatchExpired', true);
  if (code === 'batch_cancelled') return failed(id, message, 'BatchCancelled', true);
  return failed(id, message, 'BatchLineFailed', true);
}

function replyOf(id: string, body: ResponseBody | undefined, ctx: ReplyContext): BatchOutcome {
  const choice = body?.choices?.[0];
  const raw: unknown = choice?.message?.content ?? choice?.text;
  const name = ctx.endpoint.name;
  if (typeof raw !== 'string')
    return failed(id, `${name}: the completion had no text`, 'MalformedCompletion', true);
  const promptTokens = Number(body?.usage?.prompt_tokens ?? 0);
  const completionTokens = Number(body?.usage?.completion_tokens ?? 0);
  const prices = batchPrices(ctx.endpoint);
  const cost = prices && (promptTokens * prices.priceIn + completionTokens * prices.priceOut) / 1_000_000;
  const usage = batchCallUsage(promptTokens, completionTokens, cost);
  if (ctx.role === 'answer') {
    const text = raw.trim();
    if (!text) return failed(id, `answer: ${name} returned an empty answer`, 'EmptyCompletion', true);
    return { customId: id, reply: { text, usage } };
  }
  const question = judgeQuestion(ctx.ask, ctx.earlier?.get(id) ?? [], raw);
  if (!question)
    return failed(
      id,
      `ask: ${name} returned no usable question (raw: ${JSON.stringify(raw.slice(0, 200))})`,
      'EmptyQuestion',
      true,
    );
  return { customId: id, reply: { ...question, usage } };
}

/** A request the provider's files do not mention (its batch was lost): a later batch may answer it. */
export const unanswered = (customId: string, endpoint: string, why: string): BatchOutcome =>
  failed(customId, `${endpoint}: ${why}`, 'BatchLineMissing', true);
