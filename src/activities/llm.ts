// The two LLM steps of a dialogue: the simulated user asks, the answerer answers.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { AnswerSettings, AskSettings } from '../config/dataset-input';
import { callCostUsd, type EndpointConfig, type EndpointRegistry } from '../config/endpoints';
import { answerMessages, questionPrompt } from '../prompts/call-prompts';
import { judgeQuestion } from '../prompts/question-reply';
import type { CallLimits, CallRecord, LlmProvider } from '../providers/openai-provider';
import type { ChatMessage, EndpointStatus, LlmReply } from '../types';
import { llmTaskQueue } from '../config/task-queues';
import { heartbeatWhile } from './heartbeats';
import { LlmMetrics } from '../telemetry/llm-metrics';

/**
 * Heartbeats while a call waits and runs: a worker that dies is noticed within the heartbeat
 * timeout, and a cancelled dialogue's cancellation reaches the HTTP request. The request's own
 * timeout (`timeoutSeconds`, the input's llmCallTimeoutSeconds) runs from when it is sent; the
 * wait before (the endpoint's gates on this worker) is bounded by the activity's timeouts, the
 * call's retry budget, which is also when a request is no longer sent or given up.
 */
async function heartbeating<T extends LlmReply>(
  observe: (call: CallRecord) => void,
  timeoutSeconds: number | undefined,
  call: (limits: CallLimits) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const { info } = ctx;
  const startedAt = Date.now();
  // The schedule-to-close end is on the server's clock: one that looks past already is clock skew.
  const scheduleLeft = info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - startedAt;
  const deadline = Math.min(
    info.startToCloseTimeoutMs ? startedAt + info.startToCloseTimeoutMs : Infinity,
    info.scheduleToCloseTimeoutMs && scheduleLeft > 0 ? startedAt + scheduleLeft : Infinity,
  );
  // Waited in the task queue and between tries, before this try started.
  const queuedMs = Math.max(0, startedAt - info.scheduledTimestampMs);
  try {
    const reply = await heartbeatWhile((signal) =>
      call({
        signal,
        observe,
        ...(timeoutSeconds !== undefined && { timeoutMs: timeoutSeconds * 1000 }),
        ...(Number.isFinite(deadline) && { deadline }),
      }),
    );
    return { ...reply, waitMs: queuedMs + (reply.waitMs ?? 0) };
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'MalformedCompletion')
      throw unusable(err.message, err.type);
    throw err;
  }
}

/** Tries a call may return empty or unusable text before its dialogue fails (sampling may fix it; a broken model will not). */
export const MAX_UNUSABLE_TRIES = 5;

/** Empty or unusable text: retried, then, at the last try, a clear non-retryable failure. */
function unusable(message: string, type: string): ApplicationFailure {
  const attempt = Context.current().info.attempt;
  if (attempt >= MAX_UNUSABLE_TRIES)
    return ApplicationFailure.nonRetryable(`${message}, ${attempt} times: giving up`, type);
  return ApplicationFailure.retryable(message, type);
}

export interface LlmStepInput<S> {
  settings: S;
  /** One request's timeout, from when it is sent (the input's llmCallTimeoutSeconds); absent: the activity's own timeouts only. */
  timeoutSeconds?: number;
  /** The dialogue so far: user and assistant turns, first question first. */
  dialogue: ChatMessage[];
  /** ask, prompted mode: who the simulated user is. */
  persona?: string;
}

/** The endpoint an input field names, or a non-retryable failure naming the field. */
export function endpointFor(endpoints: EndpointRegistry, field: string, name: string): EndpointConfig {
  const e = endpoints.get(name);
  if (!e) {
    throw ApplicationFailure.nonRetryable(
      `${field}: unknown endpoint '${name}' (this worker knows: ${[...endpoints.keys()].join(', ')})`,
      'InvalidInput',
    );
  }
  return e;
}

/** One answer request: the system prompt, if any, then the dialogue. */
export function requestAnswer(
  provider: LlmProvider,
  endpoint: EndpointConfig,
  settings: AnswerSettings,
  dialogue: ChatMessage[],
  limits?: CallLimits,
): Promise<LlmReply> {
  return provider.chat(endpoint, settings, answerMessages(settings, dialogue), limits);
}

/** One question request, as the Ask mode makes it; its raw text, not yet cleaned or filtered. */
export function requestQuestion(
  provider: LlmProvider,
  endpoint: EndpointConfig,
  settings: AskSettings,
  dialogue: ChatMessage[],
  persona: string | undefined,
  limits?: CallLimits,
): Promise<LlmReply> {
  const p = questionPrompt(settings, dialogue, persona);
  return 'prompt' in p
    ? provider.complete(endpoint, settings, p.prompt, p.stop, limits)
    : provider.chat(endpoint, settings, p.messages, limits);
}

/** A cost budget needs every endpoint it pays for priced on the workers. */
function unpriced(field: string, endpoint: string) {
  const NAME = endpoint.toUpperCase().replace(/-/g, '_');
  return ApplicationFailure.nonRetryable(
    `budget.maxCostUsd: ${field} '${endpoint}' has no price on the workers: set PARROT_ENDPOINT_${NAME}_PRICE_IN and _PRICE_OUT (USD per million tokens; or priceIn/priceOut in PARROT_ENDPOINTS_FILE), or cap tokens with budget.maxTokens`,
    'UnpricedEndpoint',
  );
}

/** By input field: where a rate-limited endpoint's calls go, and its limit. */
export type EndpointRoutes = Record<string, { taskQueue: string; rpm: number }>;

export function createLlmActivities(
  endpoints: EndpointRegistry,
  provider: LlmProvider,
  metrics: LlmMetrics = new LlmMetrics(),
) {
  const observe = { ask: metrics.observer('ask'), answer: metrics.observer('answer') };
  return {
    /**
     * Fails at once, naming the field, if an endpoint name is unknown to the workers. Returns, by
     * field, the task queue and request limit of each endpoint that has one (see src/workers.ts).
     */
    async checkEndpoints(
      refs: { field: string; endpoint: string; needsPrice?: boolean }[],
    ): Promise<EndpointRoutes> {
      const routes: EndpointRoutes = {};
      for (const r of refs) {
        const config = endpointFor(endpoints, r.field, r.endpoint);
        if (r.needsPrice && callCostUsd(config, 0, 0) === undefined) throw unpriced(r.field, r.endpoint);
        const { rpm } = config;
        if (rpm)
          routes[r.field] = { taskQueue: llmTaskQueue(Context.current().info.taskQueue, r.endpoint), rpm };
      }
      return routes;
    },

    /**
     * The endpoints as this worker sees them now: requests open and waiting, the limit it has
     * learned, requests abandoned. The dataset asks every few seconds, to size its window.
     */
    async endpointStatus({
      endpoints: names,
    }: {
      endpoints: string[];
    }): Promise<Record<string, EndpointStatus>> {
      const status: Record<string, EndpointStatus> = {};
      for (const name of names) {
        const config = endpoints.get(name);
        if (config) status[name] = provider.state(config);
      }
      return status;
    },

    async answer({ settings, dialogue, timeoutSeconds }: LlmStepInput<AnswerSettings>): Promise<LlmReply> {
      const endpoint = endpointFor(endpoints, 'answer.endpoint', settings.endpoint);
      const reply = await heartbeating(observe.answer, timeoutSeconds, (limits) =>
        requestAnswer(provider, endpoint, settings, dialogue, limits),
      );
      if (!reply.text.trim())
        throw unusable(`answer: ${settings.endpoint} returned an empty answer`, 'EmptyCompletion');
      return { ...reply, text: reply.text.trim() };
    },

    /** One question from the simulated user (one request); a filter's rejection is returned, and the workflow asks again. */
    async ask({ settings, dialogue, persona, timeoutSeconds }: LlmStepInput<AskSettings>): Promise<LlmReply> {
      const endpoint = endpointFor(endpoints, 'ask.endpoint', settings.endpoint);
      const reply = await heartbeating(observe.ask, timeoutSeconds, (limits) =>
        requestQuestion(provider, endpoint, settings, dialogue, persona, limits),
      );
      const earlier = dialogue.filter((m) => m.role === 'user').map((m) => m.content);
      const question = judgeQuestion(settings, earlier, reply.text);
      if (!question)
        throw unusable(
          `ask: ${settings.endpoint} returned no usable question (raw: ${JSON.stringify(reply.text.slice(0, 200))})`,
          'EmptyQuestion',
        );
      if (question.rejectedBy) metrics.filterRejected(settings.endpoint, question.rejectedBy);
      return { ...reply, ...question };
    },
  };
}
