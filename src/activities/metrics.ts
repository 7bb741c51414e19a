// The metrics activities, run after the export (the dataset stands whatever they do): one
// streaming pass over the stored dialogues for the text metrics; and, when the input asks for
// them, model metrics over a seeded sample (embeddings, an LLM judge), each request with a
// deadline of its own (metrics-model-calls.ts). The metrics models are probed when a dataset
// starts, before any paid work.
import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { ModelMetricsSettings } from '../config/dataset-input';
import type { EndpointRegistry } from '../config/endpoints';
import { DatasetMetricsAccumulator } from '../metrics/dataset-metrics';
import {
  embeddingTopicMetrics,
  judgeContextDependence,
  questionsOf,
  type JudgeMetrics,
  type TopicMetrics,
} from '../metrics/model-metrics';
import type { LlmProvider } from '../providers/openai-provider';
import { openBlobStore } from '../storage/open-blob-store';
import { readDatasetRecords, sampleDatasetRecords } from '../storage/dialogue-records';
import type { DatasetMetrics, DatasetRef } from '../types';
import { HEARTBEAT_EVERY, heartbeatWhile } from './heartbeats';
import { LlmMetrics } from '../telemetry/llm-metrics';
import { modelCalls, type ModelCallDeps } from './metrics-model-calls';

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

const PROBE_TEXT = 'ping';

/** Seeds of the two samples, so embeddings and judge draw different dialogues from one random seed. */
const EMBEDDINGS_SALT = 0x656d62;
const JUDGE_SALT = 0x6a7564;

export function createMetricsActivities(
  endpoints: EndpointRegistry,
  provider: LlmProvider,
  roots: AllowedRoots,
  llmMetrics: LlmMetrics = new LlmMetrics(),
) {
  const deps: ModelCallDeps = {
    endpoints,
    provider,
    observe: { embed: llmMetrics.observer('embed'), judge: llmMetrics.observer('judge') },
  };
  return {
    computeMetrics: (ref: DatasetRef) => computeMetrics(roots, ref),
    computeModelMetrics: (input: ModelMetricsInput) => computeModelMetrics(deps, roots, input),
    probeMetricsModels: (input: ProbeInput) => probeMetricsModels(deps, input),
  };
}

/** The text metrics: one pass over every stored dialogue of the lineage, in bounded memory. */
async function computeMetrics(
  roots: AllowedRoots,
  { lineage, output, count }: DatasetRef,
): Promise<DatasetMetrics> {
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
}

/**
 * Topic metrics from embeddings and context-dependence from a judge, over seeded samples of
 * the stored dialogues. Each model on its own: one that fails for good (after a few tries of
 * a request, each bounded by its deadline) leaves its error, and the other's metrics stand.
 * Heartbeats every few seconds (a request may take up to its deadline) and after each request.
 */
async function computeModelMetrics(
  deps: ModelCallDeps,
  roots: AllowedRoots,
  { lineage, output, count, models, randomSeed, callTimeoutSeconds }: ModelMetricsInput,
): Promise<ModelMetricsResult> {
  roots.check('output', output);
  const progress: Record<string, number> = {};
  return heartbeatWhile(
    async (signal) => {
      // Hundreds of model calls share the activity's cancellation signal, each listening on it.
      setMaxListeners(0, signal);
      const calls = modelCalls(deps, callTimeoutSeconds, signal, progress);
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
        const questions = (await sample(embeddings.sampleDialogues, EMBEDDINGS_SALT)).map(questionsOf);
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
        const dialogues = await sample(judge.sampleDialogues, JUDGE_SALT);
        await measure(() => judgeContextDependence(dialogues, (m) => calls.judge(judge, m)));
      }
      return result;
    },
    () => progress,
  );
}

/**
 * One small request to each metrics model, as the metrics will make them (an embedding of one
 * word; a judge reply of a few tokens), when the dataset starts: a model name the endpoint does
 * not know, or a request it refuses, fails the dataset before any dialogue is paid for.
 */
async function probeMetricsModels(
  deps: ModelCallDeps,
  { models, callTimeoutSeconds }: ProbeInput,
): Promise<void> {
  await heartbeatWhile(async (signal) => {
    // One try each: Temporal retries the probe, and a model that keeps failing is only warned of.
    const calls = modelCalls(deps, callTimeoutSeconds, signal, {}, 1);
    if (models.embeddings) await calls.embed(models.embeddings, [PROBE_TEXT]);
    if (models.judge) await calls.judge(models.judge, [{ role: 'user', content: PROBE_TEXT }]);
  });
}
