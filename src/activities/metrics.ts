// The metrics activities, run after the export (the dataset stands whatever they do): one
// streaming pass over the stored dialogues for the text metrics; and, when the input asks for
// them, model metrics over a seeded sample (embeddings, an LLM judge), each request with a
// deadline of its own. The metrics models are probed when a dataset starts, before any paid work.
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { ModelMetricsSettings } from '../config/dataset-input';
import type { EndpointConfig, EndpointRegistry } from '../config/endpoints';
import { DatasetMetricsAccumulator } from '../metrics/dataset-metrics';
import {
  embeddingTopicMetrics,
  judgeContextDependence,
  questionsOf,
  type JudgeMetrics,
  type TopicMetrics,
} from '../metrics/model-metrics';
import type { CallLimits, LlmProvider } from '../providers/openai-provider';
import { openBlobStore } from '../storage/open-blob-store';
import { readDatasetRecords, sampleDatasetRecords } from '../storage/dialogue-records';
import type { ChatMessage, DatasetMetrics } from '../types';
import type { DatasetRef } from '../types';
import { HEARTBEAT_EVERY } from './heartbeats';
import { heartbeatWhile } from './heartbeats';
import { LlmMetrics } from '../telemetry/llm-metrics';
import { endpointFor } from './llm';

export interface ModelMetricsInput extends DatasetRef {
  models: ModelMetricsSettings;
  randomSeed: number;
  /** Each embedding or judge request is abandoned (and tried again) after this long: the input's llmCallTimeoutSeconds. */
  callTimeoutSeconds: number;
}

export interface ProbeInput {
  models: ModelMetricsSettings;
  callTimeoutSeconds: number;
}

/** The model metrics a dataset asked for, and why those missing are (one line each, naming the field). */
export interface ModelMetricsResult {
  metrics: Partial<TopicMetrics & JudgeMetrics>;
  errors: string[];
}

/** The judge's reply: yes or no. The probe asks the same way, so that a request the judge's model refuses is refused at the start. */
const JUDGE_SAMPLING = { maxTokens: 4, temperature: 0 };
const PROBE_TEXT = 'ping';

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

export function createMetricsActivities(
  endpoints: EndpointRegistry,
  provider: LlmProvider,
  roots: AllowedRoots,
  llmMetrics: LlmMetrics = new LlmMetrics(),
) {
  const observe = { embed: llmMetrics.observer('embed'), judge: llmMetrics.observer('judge') };

  /** The embedding and judge requests of one activity: each bounded by its deadline and tried a few times here; progress heartbeated. */
  function modelCalls(
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
    const named = async <T>(
      field: string,
      model: string,
      endpoint: EndpointConfig,
      call: () => Promise<T>,
    ) => {
      try {
        return await withLocalRetries(call, tries);
      } catch (err) {
        throw modelFailure(field, model, endpoint.name, err);
      }
    };
    return {
      async embed({ endpoint: name, model }: { endpoint: string; model: string }, texts: string[]) {
        const endpoint = endpointFor(endpoints, 'metrics.embeddings.endpoint', name);
        const { vectors } = await named('metrics.embeddings.model', model, endpoint, () =>
          provider.embed(endpoint, model, texts, limits('embed')),
        );
        progress.embedded = (progress.embedded ?? 0) + texts.length;
        Context.current().heartbeat(progress);
        return vectors;
      },
      async judge({ endpoint: name, model }: { endpoint: string; model: string }, messages: ChatMessage[]) {
        const endpoint = endpointFor(endpoints, 'metrics.judge.endpoint', name);
        const reply = await named('metrics.judge.model', model, endpoint, () =>
          provider.chat(endpoint, { model, ...JUDGE_SAMPLING }, messages, limits('judge')),
        );
        progress.judged = (progress.judged ?? 0) + 1;
        Context.current().heartbeat(progress);
        return reply.text;
      },
    };
  }

  return {
    /** The text metrics: one pass over every stored dialogue of the lineage, in bounded memory. */
    async computeMetrics({ lineage, output, count }: DatasetRef): Promise<DatasetMetrics> {
      roots.check('output', output);
      const ctx = Context.current();
      const metrics = new DatasetMetricsAccumulator();
      let seen = 0;
      for await (const record of readDatasetRecords(
        openBlobStore(output, { signal: ctx.cancellationSignal }),
        lineage,
        count,
      )) {
        metrics.add(record);
        if (++seen % HEARTBEAT_EVERY === 0) ctx.heartbeat({ seen });
      }
      return metrics.result();
    },

    /**
     * Topic metrics from embeddings and context-dependence from a judge, over seeded samples of
     * the stored dialogues. Each model on its own: one that fails for good (after a few tries of
     * a request, each bounded by its deadline) leaves its error, and the other's metrics stand.
     * Heartbeats every few seconds (a request may take up to its deadline) and after each request.
     */
    async computeModelMetrics({
      lineage,
      output,
      count,
      models,
      randomSeed,
      callTimeoutSeconds,
    }: ModelMetricsInput): Promise<ModelMetricsResult> {
      roots.check('output', output);
      const progress: Record<string, number> = {};
      return heartbeatWhile(
        async (signal) => {
          // Hundreds of model calls share the activity's cancellation signal, each listening on it.
          setMaxListeners(0, signal);
          const calls = modelCalls(callTimeoutSeconds, signal, progress);
          const sample = (size: number, salt: number) =>
            sampleDatasetRecords(openBlobStore(output, { signal }), lineage, count, size, randomSeed ^ salt);
          const result: ModelMetricsResult = { metrics: {}, errors: [] };
          // A model's failure is kept; a storage error (reading the sample) fails the try, to be tried again.
          const measure = async (metrics: () => Promise<ModelMetricsResult['metrics']>) => {
            try {
              Object.assign(result.metrics, await metrics());
            } catch (err) {
              if (signal.aborted) throw err;
              result.errors.push(err instanceof Error ? err.message : String(err));
            }
          };
          const { embeddings, judge } = models;
          if (embeddings) {
            const questions = (await sample(embeddings.sampleDialogues, 0x656d62)).map(questionsOf);
            await measure(() =>
              embeddingTopicMetrics(
                questions,
                (texts) => calls.embed(embeddings, texts),
                embeddings.topicShiftThreshold,
                randomSeed,
              ),
            );
          }
          if (judge) {
            const dialogues = await sample(judge.sampleDialogues, 0x6a7564);
            await measure(() => judgeContextDependence(dialogues, (m) => calls.judge(judge, m)));
          }
          return result;
        },
        () => progress,
      );
    },

    /**
     * One small request to each metrics model, as the metrics will make them (an embedding of one
     * word; a judge reply of a few tokens), when the dataset starts: a model name the endpoint does
     * not know, or a request it refuses, fails the dataset before any dialogue is paid for.
     */
    async probeMetricsModels({ models, callTimeoutSeconds }: ProbeInput): Promise<void> {
      await heartbeatWhile(async (signal) => {
        // One try each: Temporal retries the probe, and a model that keeps failing is only warned of.
        const calls = modelCalls(callTimeoutSeconds, signal, {}, 1);
        if (models.embeddings) await calls.embed(models.embeddings, [PROBE_TEXT]);
        if (models.judge) await calls.judge(models.judge, [{ role: 'user', content: PROBE_TEXT }]);
      });
    },
  };
}
