// The requests the metrics activities make to their models (embeddings, an LLM judge): each
// bounded by its own deadline, retried a few times in the activity, and failing with a message
// that names the input field, the model and the endpoint.
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { Context } from '@temporalio/activity';
import type { EndpointConfig, EndpointRegistry } from '../config/endpoints';
import type { CallLimits, LlmProvider } from '../providers/openai-provider';
import type { LlmMetrics } from '../telemetry/llm-metrics';
import type { ChatMessage } from '../types';
import { endpointFor } from './llm';

/** The judge's reply: yes or no. The probe asks the same way, so that a request the judge's model refuses is refused at the start. */
const JUDGE_SAMPLING = { maxTokens: 4, temperature: 0 };

/**
 * Retries one model call inside the activity (a 429 after its Retry-After, else 1, 2, 4… s), so a
 * blip does not make Temporal rerun the whole activity. Permanent errors, and the last try's
 * error, go to Temporal as they are.
 */
export async function withLocalRetries<T>(
  call: () => Promise<T>,
  tries = 5,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const cancelled =
        err instanceof Error && (err.name === 'AbortError' || err.name === 'APIUserAbortError');
      if (cancelled || attempt >= tries || (err instanceof ApplicationFailure && err.nonRetryable)) throw err;
      const asked =
        err instanceof ApplicationFailure && err.nextRetryDelay != null
          ? msToNumber(err.nextRetryDelay)
          : undefined;
      await sleep(asked ?? 1_000 * 2 ** (attempt - 1));
    }
  }
}

/** A metrics model's request failed for good: the message names the input field, the model and its endpoint. */
function modelFailure(field: string, model: string, endpoint: string, err: unknown): ApplicationFailure {
  const message = `${field}: '${model}' on endpoint '${endpoint}' failed: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof ApplicationFailure)
    return err.nonRetryable
      ? ApplicationFailure.nonRetryable(message, err.type)
      : ApplicationFailure.retryable(message, err.type);
  return ApplicationFailure.retryable(message, err instanceof Error ? err.name : 'Error');
}

async function named<T>(
  field: string,
  model: string,
  endpoint: EndpointConfig,
  call: () => Promise<T>,
  tries?: number,
) {
  try {
    return await withLocalRetries(call, tries);
  } catch (err) {
    throw modelFailure(field, model, endpoint.name, err);
  }
}

/** What the metrics activities' model calls are made with; built once per worker. */
export interface ModelCallDeps {
  endpoints: EndpointRegistry;
  provider: LlmProvider;
  observe: Record<'embed' | 'judge', ReturnType<LlmMetrics['observer']>>;
}

/** The embedding and judge requests of one activity: each bounded by its deadline and tried a few times here; progress heartbeated. */
export function modelCalls(
  { endpoints, provider, observe }: ModelCallDeps,
  callTimeoutSeconds: number,
  signal: AbortSignal,
  progress: Record<string, number>,
  tries?: number,
) {
  const limits = (role: 'embed' | 'judge'): CallLimits => ({
    signal,
    deadline: Date.now() + callTimeoutSeconds * 1000,
    observe: observe[role],
  });
  return {
    async embed({ endpoint: name, model }: { endpoint: string; model: string }, texts: string[]) {
      const endpoint = endpointFor(endpoints, 'metrics.embeddings.endpoint', name);
      const { vectors } = await named(
        'metrics.embeddings.model',
        model,
        endpoint,
        () => provider.embed(endpoint, model, texts, limits('embed')),
        tries,
      );
      progress.embedded = (progress.embedded ?? 0) + texts.length;
      Context.current().heartbeat(progress);
      return vectors;
    },
    async judge({ endpoint: name, model }: { endpoint: string; model: string }, messages: ChatMessage[]) {
      const endpoint = endpointFor(endpoints, 'metrics.judge.endpoint', name);
      const reply = await named(
        'metrics.judge.model',
        model,
        endpoint,
        () => provider.chat(endpoint, { model, ...JUDGE_SAMPLING }, messages, limits('judge')),
        tries,
      );
      progress.judged = (progress.judged ?? 0) + 1;
      Context.current().heartbeat(progress);
      return reply.text;
    },
  };
}
