// All activities of a parrot worker, built from their dependencies (samples-typescript's
// factory idiom). Workflows import only the type.
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { EndpointRegistry } from '../config/endpoints';
import { LlmProvider } from '../providers/openai-provider';
import { SeedSource } from '../seeds/seed-source';
import { createSeedActivities } from './seeds';
import { createDatasetStorageActivities } from './dataset-storage';
import { isRunning } from './dataset-fence';
import { taskQueuePolls } from './task-queue-polls';
import { createDialogueProgressActivities } from './dialogue-progress';
import { createGroupRecoveryActivities } from './group-recovery';
import { createLlmActivities } from './llm';
import { createBatchActivities } from './batch';
import { BatchMetrics } from '../telemetry/batch-metrics';
import { createMetricsActivities } from './metrics';
import { LlmMetrics } from '../telemetry/llm-metrics';

export interface ActivityDeps {
  endpoints: EndpointRegistry;
  /** Where datasets may read seeds and write output (PARROT_ALLOWED_ROOTS: src/config/allowed-roots.ts). */
  roots: AllowedRoots;
  provider?: LlmProvider;
  seeds?: SeedSource;
  /** Dialogues per exported JSONL shard (default 5,000). */
  dialoguesPerShard?: number;
  /** Where the LLM metrics go (src/telemetry/llm-metrics.ts); none: nowhere. */
  llmMetrics?: LlmMetrics;
  /** Where the batch API metrics go (src/telemetry/batch-metrics.ts); none: nowhere. */
  batchMetrics?: BatchMetrics;
}

export function createActivities({
  endpoints,
  roots,
  provider = new LlmProvider(),
  seeds = new SeedSource(),
  dialoguesPerShard,
  llmMetrics = new LlmMetrics(),
  batchMetrics = new BatchMetrics(),
}: ActivityDeps) {
  return {
    ...createLlmActivities(endpoints, provider, llmMetrics),
    ...createBatchActivities(endpoints, batchMetrics),
    ...createDatasetStorageActivities(roots, dialoguesPerShard),
    ...createMetricsActivities(endpoints, provider, roots, llmMetrics),
    ...createGroupRecoveryActivities(roots),
    taskQueuePolls,
    /** A group as it starts: whether the dataset that started it (that chain of runs) still runs. */
    async datasetStillRuns({ datasetId, firstRunId }: { datasetId: string; firstRunId?: string }) {
      return isRunning(Context.current().client, datasetId, firstRunId);
    },
    /** The dataset's first step: its seeds and output lie under the worker's allowed roots, or it fails at once. */
    async checkRoots({ seeds: uri, output }: { seeds: string; output: string }): Promise<void> {
      roots.check('seeds', uri);
      roots.check('output', output);
    },
    ...createDialogueProgressActivities(roots),
    ...createSeedActivities(roots, seeds),
  };
}

export type Activities = ReturnType<typeof createActivities>;
