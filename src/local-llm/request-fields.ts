// Reading and checking the OpenAI request fields the handlers share; a bad field is a 400 naming it.
import { HttpError } from './http-error';

export type RequestBody = Record<string, unknown>;

/** Sampling options in node-llama-cpp's terms, with OpenAI's defaults where a field is absent. */
export function sampling(body: RequestBody) {
  return {
    maxTokens: optionalNumber(body, 'max_tokens') ?? optionalNumber(body, 'max_completion_tokens') ?? 256,
    temperature: optionalNumber(body, 'temperature') ?? 0.7,
    topP: optionalNumber(body, 'top_p'),
    seed: optionalNumber(body, 'seed'),
  };
}

export function optionalNumber(body: RequestBody, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `${field}: must be a number`);
  return v;
}

export function stopList(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = Array.isArray(stop) ? stop : [stop];
  if (!list.every((s) => typeof s === 'string' && s.length > 0))
    throw new HttpError(400, 'stop: must be a string or an array of strings');
  return list as string[];
}

const isTextPart = (p: unknown): p is { type: 'text'; text: string } =>
  typeof p === 'object' &&
  p !== null &&
  'type' in p &&
  p.type === 'text' &&
  'text' in p &&
  typeof p.text === 'string';

export function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  // OpenAI's content-part form: [{type: 'text', text}]
  if (Array.isArray(content) && content.every(isTextPart)) {
    return content.map((p) => p.text).join('');
  }
  throw new HttpError(400, `${field}: must be a string or text parts`);
}

export function usage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** OpenAI's finish_reason for node-llama-cpp's stop reason. */
export const finishReason = (stop: string) => (stop === 'maxTokens' ? 'length' : 'stop');

/** A response id in OpenAI's shape (`chatcmpl-…`, `cmpl-…`); unique enough for logs. */
export const responseId = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
