// The metrics activity: one streaming pass over the stored dialogues for the text metrics, and,
// when the input asks for them, model metrics over a seeded sample (embeddings, an LLM judge).
import { setMaxListeners } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { Context } from '@temporalio/activity';
import type { ModelMetricsSettings } from '../config/dataset-input';
import type { AllowedRoots } from '../config/allowed-roots';
import type { EndpointRegistry } from '../config/endpoints';
import { DatasetMetricsAccumulator } from '../metrics/dataset-metrics';
import {
  embeddingTopicMetrics,
  judgeContextDependence,
  questionsOf,
  Reservoir,
} from '../metrics/model-metrics';
import type { LlmProvider } from '../providers/openai-provider';
import { openBlobStore } from '../storage/open-blob-store';
import { readDatasetRecords } from '../storage/dialogue-records';
import type { DatasetMetrics, DialogueRecord } from '../types';
import { HEARTBEAT_EVERY, type DatasetRef } from './dataset-storage';
import { LlmMetrics } from '../telemetry/llm-metrics';
import { endpointFor } from './llm';

export interface ComputeMetricsInput extends DatasetRef {
  /** Model metrics to add (absent in runs started before them, or not asked for). */
  models?: ModelMetricsSettings;
  randomSeed?: number;
}

/**
 * Retries one model call inside the activity (a 429 after its Retry-After, else 1, 2, 4… s), so a
 * blip does not make Temporal rerun the whole activity — the pass over every record included.
 * Permanent errors, and the last try's error, go to Temporal as they are.
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

export function createMetricsActivities(
  endpoints: EndpointRegistry,
  provider: LlmProvider,
  roots: AllowedRoots,
  llmMetrics: LlmMetrics = new LlmMetrics(),
) {
  const observe = { embed: llmMetrics.observer('embed'), judge: llmMetrics.observer('judge') };
  return {
    async computeMetrics({
      lineage,
      output,
      count,
      models,
      randomSeed = 0,
    }: ComputeMetricsInput): Promise<DatasetMetrics> {
      roots.check('output', output);
      const ctx = Context.current();
      // Hundreds of model calls share the activity's cancellation signal, each listening on it.
      setMaxListeners(0, ctx.cancellationSignal);
      const metrics = new DatasetMetricsAccumulator();
      const embedSample = models?.embeddings
        ? new Reservoir<string[]>(models.embeddings.sampleDialogues, randomSeed ^ 0x656d62)
        : undefined;
      const judgeSample = models?.judge
        ? new Reservoir<DialogueRecord>(models.judge.sampleDialogues, randomSeed ^ 0x6a7564)
        : undefined;
      let seen = 0;
      for await (const record of readDatasetRecords(
        openBlobStore(output, { signal: ctx.cancellationSignal }),
        lineage,
        count,
      )) {
        metrics.add(record);
        embedSample?.add(questionsOf(record));
        judgeSample?.add(record);
        if (++seen % HEARTBEAT_EVERY === 0) ctx.heartbeat({ seen });
      }
      let result: DatasetMetrics = metrics.result();

      if (models?.embeddings && embedSample) {
        const { endpoint: name, model, topicShiftThreshold } = models.embeddings;
        const endpoint = endpointFor(endpoints, 'metrics.embeddings.endpoint', name);
        let embedded = 0;
        const topics = await embeddingTopicMetrics(
          embedSample.items,
          async (texts) => {
            const { vectors } = await withLocalRetries(() =>
              provider.embed(endpoint, model, texts, {
                signal: ctx.cancellationSignal,
                observe: observe.embed,
              }),
            );
            ctx.heartbeat({ seen, embedded: (embedded += texts.length) });
            return vectors;
          },
          topicShiftThreshold,
          randomSeed,
        );
        result = { ...result, ...topics };
      }
      if (models?.judge && judgeSample) {
        const { endpoint: name, model } = models.judge;
        const endpoint = endpointFor(endpoints, 'metrics.judge.endpoint', name);
        let judged = 0;
        const verdicts = await judgeContextDependence(judgeSample.items, async (messages) => {
          const reply = await withLocalRetries(() =>
            provider.chat(endpoint, { model, maxTokens: 4, temperature: 0 }, messages, {
              signal: ctx.cancellationSignal,
              observe: observe.judge,
            }),
          );
          ctx.heartbeat({ seen, judged: ++judged });
          return reply.text;
        });
        result = { ...result, ...verdicts };
      }
      return result;
    },
  };
}
