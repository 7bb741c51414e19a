// The dataset's metrics steps. The metrics models are probed when the dataset starts, so that a
// mistyped model fails it before any dialogue is paid for; after the export, the metrics are best
// effort: whatever goes wrong with them is reported in the result, the manifest and the report,
// and the export stands.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetRef } from '../types';
import type { DatasetInput, ModelMetricsSettings } from '../config/dataset-input';
import type { DatasetMetrics } from '../types';
import { describeFailure } from './failures';
import { datasetSteps, metricsProbe, modelMetrics } from './activity-options';

/** The probe's requests are tiny: one that takes longer than this says the model is not ready, not that it is slow. */
const PROBE_TIMEOUT_SECONDS = 60;

function metricsSteps(input: DatasetInput) {
  const { computeMetrics } = proxyActivities<Activities>(datasetSteps(input).export);
  const { computeModelMetrics } = proxyActivities<Activities>(modelMetrics);
  const { probeMetricsModels } = proxyActivities<Activities>(metricsProbe(probeTimeoutSeconds(input)));
  return { computeMetrics, computeModelMetrics, probeMetricsModels };
}

const probeTimeoutSeconds = (input: DatasetInput) =>
  Math.min(input.llmCallTimeoutSeconds, PROBE_TIMEOUT_SECONDS);

/**
 * One small request to each metrics model. A permanent refusal (an unknown model: 404; a bad
 * request: 400; no access) fails the dataset at once, naming the field; a model that cannot be
 * reached now is only warned of, as the metrics are best effort.
 */
export async function probeModels(input: DatasetInput, models: ModelMetricsSettings): Promise<void> {
  try {
    await metricsSteps(input).probeMetricsModels({ models, callTimeoutSeconds: probeTimeoutSeconds(input) });
  } catch (err) {
    const permanent =
      err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable;
    if (permanent || isCancellation(err)) throw err;
    log.warn('a metrics model did not answer its probe; the dataset goes on, its metrics may fail', {
      error: describeFailure(err),
    });
  }
}

export interface MeasuredMetrics {
  metrics?: DatasetMetrics;
  metricsError?: string;
}

/**
 * The text metrics (one pass over every record, tried within the storage retry budget), then the
 * model metrics the input asks for. A failure is kept in `metricsError`, not thrown: the text
 * metrics' (then there are no metrics), or the model metrics' (then only the text metrics).
 */
export async function measureDataset(input: DatasetInput, ref: DatasetRef): Promise<MeasuredMetrics> {
  const { computeMetrics, computeModelMetrics } = metricsSteps(input);
  const errors: string[] = [];
  const text = await bestEffort('metrics', errors, () => computeMetrics(ref));
  const models = input.metrics;
  const model =
    text && models
      ? await bestEffort('model metrics', errors, () =>
          computeModelMetrics({
            ...ref,
            models,
            randomSeed: input.randomSeed,
            callTimeoutSeconds: input.llmCallTimeoutSeconds,
          }),
        )
      : undefined;
  errors.push(...(model?.errors ?? []));
  return {
    metrics: text && { ...text, ...model?.metrics },
    ...(errors.length > 0 && { metricsError: errors.join('; ') }),
  };
}

async function bestEffort<T>(what: string, errors: string[], step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    // The dataset's own cancellation ends it; a failure (or a cancellation) of the metrics alone does not.
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
    const error = `${what}: ${describeFailure(err)}`;
    log.warn('metrics failed; the export stands', { error });
    errors.push(error);
    return undefined;
  }
}
