// Every model — local, vLLM, OpenAI — is reached the same way: through the `openai` package.
// Provider errors become Temporal failures here: permanent ones non-retryable, rate limits
// retried after the delay the provider asked for.
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { callCostUsd, type EndpointConfig } from '../config/endpoints';
import { msToNumber as msOf } from '@temporalio/common/lib/time';
import type { ChatMessage, EndpointStatus, LlmReply } from '../types';
import { EndpointFlow, type EndpointState } from './endpoint-flow';
import { callUsage } from '../usage';

/**
 * How long a call may take. Its `timeoutMs` runs from the request sent: waiting at the worker's
 * gates does not count. `deadline` (epoch ms) is when its caller gives up on it (the activity's
 * retry budget): a request that cannot finish before then is not sent, and one sent ends by then.
 */
export interface CallLimits {
  signal?: AbortSignal;
  timeoutMs?: number;
  deadline?: number;
  /** Told how each call that reached the provider ended (the worker's metrics: src/telemetry/llm-metrics.ts). */
  observe?: (call: CallRecord) => void;
}

/** How a call that was sent ended: a reply, a 429, a 5xx, its deadline, a permanent 4xx, cancelled, or another error. */
export type CallOutcome = 'ok' | '429' | '5xx' | 'timeout' | 'permanent' | 'cancelled' | 'error';

/** One call that reached the provider, as the worker's metrics see it. */
export interface CallRecord {
  endpoint: string;
  outcome: CallOutcome;
  /** From the request sent to its reply or error. */
  ms: number;
  /** Held at this worker's gates before it was sent: by the rate gate (TPM, RPM, a 429's cool-down), then for a place under the concurrency limit. */
  rateWaitMs: number;
  limitWaitMs: number;
  promptTokens: number;
  completionTokens: number;
  /** The endpoint as this worker sees it after the call. */
  state: EndpointState;
}

export interface Sampling {
  model: string;
  temperature?: number;
  topP?: number;
  seed?: number;
  maxTokens?: number;
}

export class LlmProvider {
  private readonly clients = new Map<string, OpenAI>();
  private readonly flows = new Map<string, EndpointFlow>();
  private workers = 1;

  /** The gates and counts of one endpoint on this worker. */
  private flow(endpoint: EndpointConfig): EndpointFlow {
    let f = this.flows.get(endpoint.name);
    if (!f) this.flows.set(endpoint.name, (f = new EndpointFlow(endpoint, this.workers)));
    return f;
  }

  /** How many workers call the endpoints: each takes its share of their declared limits. */
  setWorkers(workers: number): void {
    this.workers = Math.max(1, workers);
    for (const f of this.flows.values()) f.setWorkers(this.workers);
  }

  /** The endpoint as this worker sees it now (nothing called yet: all zero but the limit). */
  state(endpoint: EndpointConfig): EndpointStatus {
    return { ...this.flow(endpoint).state(), workers: this.workers };
  }

  private client(endpoint: EndpointConfig): OpenAI {
    let c = this.clients.get(endpoint.name);
    if (!c) {
      // Retries are Temporal's job (visible in history, durable), so the client's own are off.
      // Calls with a deadline time out at it (requestOptions); the rest after the client's default.
      c = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey, maxRetries: 0 });
      this.clients.set(endpoint.name, c);
    }
    return c;
  }

  async chat(
    endpoint: EndpointConfig,
    sampling: Sampling,
    messages: ChatMessage[],
    limits: CallLimits = {},
  ): Promise<LlmReply> {
    return this.gated(
      endpoint,
      sampling,
      messages.reduce((n, m) => n + m.content.length, 0),
      limits,
      async (options) => {
        const r = await this.client(endpoint).chat.completions.create(
          {
            model: sampling.model,
            messages,
            temperature: sampling.temperature,
            top_p: sampling.topP,
            seed: sampling.seed,
            max_tokens: sampling.maxTokens,
          },
          options,
        );
        return { text: r.choices?.[0]?.message?.content, usage: r.usage };
      },
    );
  }

  /** Raw text completion (`/v1/completions`), for models served without a chat template. */
  async complete(
    endpoint: EndpointConfig,
    sampling: Sampling,
    prompt: string,
    stop: string[],
    limits: CallLimits = {},
  ): Promise<LlmReply> {
    return this.gated(endpoint, sampling, prompt.length, limits, async (options) => {
      const r = await this.client(endpoint).completions.create(
        {
          model: sampling.model,
          prompt,
          stop,
          temperature: sampling.temperature,
          top_p: sampling.topP,
          seed: sampling.seed,
          max_tokens: sampling.maxTokens,
        },
        options,
      );
      return { text: r.choices?.[0]?.text, usage: r.usage };
    });
  }

  /** Embeddings (`/v1/embeddings`), in the order of `inputs`. */
  async embed(
    endpoint: EndpointConfig,
    model: string,
    inputs: string[],
    limits: CallLimits = {},
  ): Promise<{ vectors: number[][]; usage: LlmReply['usage'] }> {
    let vectors: number[][] = [];
    const reply = await this.gated(
      endpoint,
      { model, maxTokens: 0 },
      inputs.reduce((n, s) => n + s.length, 0),
      limits,
      async (options) => {
        const r = await this.client(endpoint).embeddings.create(
          { model, input: inputs, encoding_format: 'float' },
          options,
        );
        vectors = [...r.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        if (vectors.length !== inputs.length)
          throw ApplicationFailure.retryable(
            `${endpoint.name}: ${vectors.length} embeddings for ${inputs.length} inputs`,
            'MalformedCompletion',
          );
        return { text: '', usage: { prompt_tokens: r.usage?.prompt_tokens } };
      },
    );
    return { vectors, usage: reply.usage };
  }

  /** One call through the endpoint's gates, its usage settled and its errors made Temporal failures. */
  private async gated(
    endpoint: EndpointConfig,
    sampling: Sampling,
    promptChars: number,
    limits: CallLimits,
    call: (options: RequestOptions) => Promise<{
      text: string | null | undefined;
      usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
    }>,
  ): Promise<LlmReply> {
    const { signal, deadline, observe: observer } = limits;
    const flow = this.flow(endpoint);
    const estimated = flow.estimate(promptChars, sampling.maxTokens);
    const { ticket, permit, rateWaitMs, limitWaitMs } = await flow.admit(estimated, signal, deadline);
    const started = performance.now();
    const observe = (outcome: CallOutcome, promptTokens = 0, completionTokens = 0) =>
      observer?.({
        endpoint: endpoint.name,
        outcome,
        ms: Math.round(performance.now() - started),
        rateWaitMs,
        limitWaitMs,
        promptTokens,
        completionTokens,
        state: flow.state(),
      });
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call(requestOptions(limits));
    } catch (err) {
      const failure = toActivityFailure(endpoint.name, err);
      const outcome = callOutcome(err, signal);
      flow.settle(ticket, permit, estimated, Math.round(performance.now() - started), {
        rejected: isRejection(err),
        abandoned: outcome === 'timeout' || outcome === 'cancelled',
        timedOut: outcome === 'timeout',
        ...(failure instanceof ApplicationFailure &&
          failure.type === 'RateLimited' && {
            rateLimited: { retryAfterMs: failure.nextRetryDelay ? msOf(failure.nextRetryDelay) : 1_000 },
          }),
      });
      observe(outcome);
      throw failure;
    }
    const ms = Math.round(performance.now() - started);
    const promptTokens = r.usage?.prompt_tokens ?? 0;
    const completionTokens = r.usage?.completion_tokens ?? 0;
    flow.settle(ticket, permit, estimated, ms, { ok: { promptTokens, completionTokens } });
    observe('ok', promptTokens, completionTokens);
    // Retried a few times by the activity, which knows the attempt (src/activities/llm.ts).
    if (typeof r.text !== 'string')
      throw ApplicationFailure.retryable(
        `${endpoint.name}: the completion had no text`,
        'MalformedCompletion',
      );
    const usage = callUsage(
      promptTokens,
      completionTokens,
      callCostUsd(endpoint, promptTokens, completionTokens),
    );
    return { text: r.text, usage, ms, waitMs: rateWaitMs + limitWaitMs };
  }
}

/** How a failed call ended, for the metrics (toActivityFailure says what Temporal does next). */
export function callOutcome(err: unknown, signal?: AbortSignal): CallOutcome {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
  if (err instanceof OpenAI.APIUserAbortError || signal?.aborted) return 'cancelled';
  const status = err instanceof OpenAI.APIError ? (err.status as number | undefined) : undefined;
  if (status === 429) return '429';
  if (status !== undefined && status >= 500) return '5xx';
  if (status !== undefined && isPermanent(status)) return 'permanent';
  return 'error';
}

interface RequestOptions {
  signal?: AbortSignal;
  timeout?: number;
}

/** The request ends, with a timeout error, at its own timeout from now (it is being sent) or at the deadline, whichever comes first. */
function requestOptions({ signal, timeoutMs, deadline }: CallLimits): RequestOptions {
  const timeout = Math.min(timeoutMs ?? Infinity, deadline === undefined ? Infinity : deadline - Date.now());
  return { signal, ...(Number.isFinite(timeout) && { timeout: Math.max(1, Math.round(timeout)) }) };
}

/** The provider refused the call outright (a 4xx): it counted no tokens. */
const isRejection = (err: unknown) =>
  err instanceof OpenAI.APIError && err.status !== undefined && err.status >= 400 && err.status < 500;

/** 4xx answers that may succeed if asked again: request timeout, conflict, rate limit. Every other 4xx is permanent. */
const RETRYABLE_4XX = new Set([408, 409, 429]);

const isPermanent = (status: number) => status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);

export function toActivityFailure(endpointName: string, err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status: number = err.status;
    const message = `${endpointName}: HTTP ${status}: ${err.message}`;
    if (isPermanent(status)) return ApplicationFailure.nonRetryable(message, `Http${status}`);
    if (status === 429) {
      const delayMs = retryAfterMs(err.headers as Headers | undefined);
      return ApplicationFailure.create({
        message,
        type: 'RateLimited',
        nextRetryDelay: delayMs ?? undefined,
      });
    }
    return ApplicationFailure.retryable(message, `Http${status}`);
  }
  return err; // connection errors, timeouts: Temporal's retry policy backs off.
}

/**
 * The wait a 429 asks for: `retry-after-ms`, `Retry-After` (seconds or an HTTP date), else the
 * later of OpenAI's `x-ratelimit-reset-requests` / `-tokens` (durations such as "1s", "6m0s", "20ms").
 */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers.get('retry-after');
  if (raw) {
    const secs = Number(raw);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(raw);
    if (Number.isFinite(at)) return Math.max(0, at - Date.now());
  }
  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((h) => parseDurationMs(headers.get(h)))
    .filter((x): x is number => x !== undefined);
  return resets.length ? Math.max(...resets) : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations as OpenAI sends them: "1s", "6m0s", "1h2m3.5s", "20ms". */
export function parseDurationMs(raw: string | null): number | undefined {
  if (!raw || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw.trim())) return undefined;
  let total = 0;
  for (const m of raw.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return Math.ceil(total);
}
