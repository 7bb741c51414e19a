// Every model — local, vLLM, OpenAI — is reached the same way: through the `openai` package.
// Provider errors become Temporal failures here: permanent ones non-retryable, rate limits
// retried after the delay the provider asked for.
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import type { EndpointConfig } from '../config/endpoints';
import type { ChatMessage, LlmReply } from '../types';

export interface Sampling {
  model: string;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
}

export class LlmProvider {
  private readonly clients = new Map<string, OpenAI>();

  private client(endpoint: EndpointConfig): OpenAI {
    let c = this.clients.get(endpoint.name);
    if (!c) {
      // Retries are Temporal's job (visible in history, durable), so the client's own are off.
      c = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey, maxRetries: 0, timeout: 10 * 60_000 });
      this.clients.set(endpoint.name, c);
    }
    return c;
  }

  async chat(endpoint: EndpointConfig, sampling: Sampling, messages: ChatMessage[], signal?: AbortSignal): Promise<LlmReply> {
    try {
      const r = await this.client(endpoint).chat.completions.create(
        {
          model: sampling.model,
          messages,
          temperature: sampling.temperature,
          top_p: sampling.topP,
          max_tokens: sampling.maxTokens,
        },
        { signal },
      );
      const text = r.choices[0]?.message?.content;
      if (typeof text !== 'string') throw ApplicationFailure.retryable(`${endpoint.name}: the completion had no message content`, 'EmptyCompletion');
      return {
        text,
        usage: { promptTokens: r.usage?.prompt_tokens ?? 0, completionTokens: r.usage?.completion_tokens ?? 0, calls: 1 },
      };
    } catch (err) {
      throw toActivityFailure(endpoint.name, err);
    }
  }
}

const PERMANENT_STATUS = new Set([400, 401, 403, 404, 422]);

export function toActivityFailure(endpointName: string, err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    const message = `${endpointName}: HTTP ${err.status}: ${err.message}`;
    if (PERMANENT_STATUS.has(err.status)) return ApplicationFailure.nonRetryable(message, `Http${err.status}`);
    if (err.status === 429) {
      const delayMs = retryAfterMs(err.headers);
      return ApplicationFailure.create({ message, type: 'RateLimited', nextRetryDelay: delayMs ?? undefined });
    }
    return ApplicationFailure.retryable(message, `Http${err.status}`);
  }
  return err; // connection errors, timeouts: Temporal's retry policy backs off.
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
