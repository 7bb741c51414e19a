// Every model — local, vLLM, OpenAI — is reached the same way: through the `openai` package.
// Provider errors become Temporal failures here: permanent ones non-retryable, rate limits
// retried after the delay the provider asked for.
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { callCostUsd, type EndpointConfig } from '../config/endpoints';
import { msToNumber as msOf } from '@temporalio/common/lib/time';
import type { ChatMessage, LlmReply } from '../types';
import { RateGate, type Ticket } from './rate-gate';
import { AdaptiveConcurrency } from './adaptive-concurrency';
import { callUsage } from '../usage';

/** How a call may end early: cancelled, or at the activity's deadline (epoch ms), past which its answer is wasted. */
export interface CallLimits {
  signal?: AbortSignal;
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
  /** Held before it was sent: for a place in this worker's concurrency window (AIMD), then by the rate gate (TPM, RPM, a 429's cool-down). */
  windowWaitMs: number;
  rateWaitMs: number;
  promptTokens: number;
  completionTokens: number;
  /** The endpoint's concurrency window after the call: its limit and the calls it holds. */
  concurrencyLimit: number;
  inFlight: number;
}

export interface Sampling {
  model: string;
  temperature?: number;
  topP?: number;
  seed?: number;
  maxTokens?: number;
}

/** Requests a worker opens to an endpoint before it knows better (AIMD doubles it each round trip), and at most. */
const INITIAL_CONCURRENCY = 128;
const MAX_CONCURRENCY = 10_000;

export class LlmProvider {
  private readonly clients = new Map<string, OpenAI>();
  private readonly gates = new Map<string, RateGate>();
  private readonly windows = new Map<string, AdaptiveConcurrency>();

  /** How many requests this worker keeps open to the endpoint (AIMD on 429s). */
  private concurrency(endpoint: EndpointConfig): AdaptiveConcurrency {
    let w = this.windows.get(endpoint.name);
    if (!w) {
      // A declared RPM already holds the rate (the server dispatches no faster): start wide open.
      const initial = endpoint.maxConcurrency ?? (endpoint.rpm ? MAX_CONCURRENCY : INITIAL_CONCURRENCY);
      this.windows.set(
        endpoint.name,
        (w = new AdaptiveConcurrency({ initial, max: endpoint.maxConcurrency ?? MAX_CONCURRENCY })),
      );
    }
    return w;
  }

  private gate(endpoint: EndpointConfig): RateGate {
    let g = this.gates.get(endpoint.name);
    if (!g) this.gates.set(endpoint.name, (g = new RateGate(endpoint)));
    return g;
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
      async () => {
        const r = await this.client(endpoint).chat.completions.create(
          {
            model: sampling.model,
            messages,
            temperature: sampling.temperature,
            top_p: sampling.topP,
            seed: sampling.seed,
            max_tokens: sampling.maxTokens,
          },
          requestOptions(limits),
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
    return this.gated(endpoint, sampling, prompt.length, limits, async () => {
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
        requestOptions(limits),
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
      async () => {
        const r = await this.client(endpoint).embeddings.create(
          { model, input: inputs, encoding_format: 'float' },
          requestOptions(limits),
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

  /** One call through the endpoint's rate gate, its usage settled and its errors made Temporal failures. */
  private async gated(
    endpoint: EndpointConfig,
    sampling: Sampling,
    promptChars: number,
    { signal, observe: observer }: CallLimits,
    call: () => Promise<{
      text: string | null | undefined;
      usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
    }>,
  ): Promise<LlmReply> {
    const gate = this.gate(endpoint);
    const window = this.concurrency(endpoint);
    const estimated = gate.estimate(promptChars, sampling.maxTokens);
    const queued = performance.now();
    await window.acquire(signal);
    const admitted = performance.now();
    let ticket: Ticket;
    try {
      ticket = await gate.admit(estimated, signal);
    } catch (err) {
      window.release('other');
      throw err;
    }
    const started = performance.now();
    const observe = (outcome: CallOutcome, promptTokens = 0, completionTokens = 0) =>
      observer?.({
        endpoint: endpoint.name,
        outcome,
        ms: Math.round(performance.now() - started),
        windowWaitMs: Math.round(admitted - queued),
        rateWaitMs: Math.round(started - admitted),
        promptTokens,
        completionTokens,
        concurrencyLimit: window.limit,
        inFlight: window.active,
      });
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call();
    } catch (err) {
      gate.settle(ticket, isRejection(err) ? 0 : estimated); // a rejected call spent nothing
      const failure = toActivityFailure(endpoint.name, err);
      const rateLimited = failure instanceof ApplicationFailure && failure.type === 'RateLimited';
      window.release(rateLimited ? 'rateLimited' : 'other');
      if (rateLimited) gate.coolDown(failure.nextRetryDelay ? msOf(failure.nextRetryDelay) : 1_000);
      observe(callOutcome(err, signal));
      throw failure;
    }
    const ms = Math.round(performance.now() - started);
    window.release('ok', ms);
    const promptTokens = r.usage?.prompt_tokens ?? 0;
    const completionTokens = r.usage?.completion_tokens ?? 0;
    gate.settle(ticket, promptTokens + completionTokens, completionTokens);
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
    return { text: r.text, usage, ms };
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

/** The HTTP request ends at the deadline (time spent waiting at the gate counts), with a timeout error. */
function requestOptions({ signal, deadline }: CallLimits): { signal?: AbortSignal; timeout?: number } {
  return { signal, ...(deadline !== undefined && { timeout: Math.max(1, deadline - Date.now()) }) };
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
