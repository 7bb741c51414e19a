// All activities of a parrot worker, built from their dependencies (samples-typescript's
// factory idiom). Workflows import only the type.
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { EndpointRegistry } from '../config/endpoints';
import { LlmProvider } from '../providers/openai-provider';
import type { SeedChunks } from '../seeds/seed-chunks';
import { SeedSource, type SeedReport } from '../seeds/seed-source';
import { createDatasetStorageActivities } from './dataset-storage';
import { isRunning } from './dataset-fence';
import { taskQueuePolls } from './task-queue-polls';
import { createDialogueProgressActivities } from './dialogue-progress';
import { createGroupRecoveryActivities } from './group-recovery';
import { heartbeatWhile } from './heartbeats';
import { createLlmActivities } from './llm';
import { createBatchActivities } from './batch';
import { BatchMetrics } from '../telemetry/batch-metrics';
import { createMetricsActivities } from './metrics';
import { LlmMetrics } from '../telemetry/llm-metrics';

/** Most seed text one pickSeeds call returns. */
export const SEED_BLOCK_BYTES = 256 * 1024;

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
    /**
     * Reads the seed source once at the start, streaming, into chunks in the dataset's output: a
     * missing or empty one fails the run at once. Heartbeats its progress in bytes; cancellable.
     */
    async inspectSeeds({
      seeds: uri,
      output,
      datasetId,
    }: {
      seeds: string;
      output: string;
      datasetId: string;
    }): Promise<SeedReport> {
      roots.check('seeds', uri);
      roots.check('output', output);
      const ctx = Context.current();
      return seeds.normalize(uri, output, datasetId, {
        onBytes: (bytesRead) => ctx.heartbeat({ bytesRead }),
        signal: ctx.cancellationSignal,
      });
    },
    /**
     * Seeds for a block of dialogues (a group's). Returns a prefix of `indexes` (at least one) that fits SEED_BLOCK_BYTES, to keep
     * the payload far below Temporal's 2 MB limit however long the seeds are.
     */
    async pickSeeds({
      seeds: uri,
      seedChunks,
      randomSeed,
      indexes,
    }: {
      seeds: string;
      seedChunks?: SeedChunks;
      randomSeed: number;
      indexes: number[];
    }): Promise<string[]> {
      roots.check('seeds', uri);
      if (seedChunks) roots.check('output', seedChunks.output);
      // Without chunks, the first pick in a worker reads the whole seed file, which may take longer than the heartbeat timeout.
      return heartbeatWhile(async () => {
        // Together: a group's seeds lie in as many chunks as it has dialogues (the order is a
        // random permutation), and the chunk cache shares a read that is under way.
        const all = await Promise.all(indexes.map((i) => seeds.pick(uri, randomSeed, i, seedChunks)));
        const picked: string[] = [];
        let bytes = 0;
        for (const seed of all) {
          bytes += Buffer.byteLength(seed);
          if (picked.length > 0 && bytes > SEED_BLOCK_BYTES) break;
          picked.push(seed);
        }
        return picked;
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
