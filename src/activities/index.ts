// All activities of a parrot worker, built from their dependencies (samples-typescript's
// factory idiom). Workflows import only the type.
import type { EndpointRegistry } from '../config/endpoints';
import { LlmProvider } from '../providers/openai-provider';
import { SeedSource, type SeedReport } from '../seeds/seed-source';
import { createDatasetStorageActivities } from './dataset-storage';
import { heartbeatWhile } from './heartbeats';
import { createLlmActivities } from './llm';
import { createMetricsActivities } from './metrics';

/** Most seed text one pickSeeds call returns. */
export const SEED_BLOCK_BYTES = 256 * 1024;

export interface ActivityDeps {
  endpoints: EndpointRegistry;
  provider?: LlmProvider;
  seeds?: SeedSource;
  /** Dialogues per exported JSONL shard (default 5,000). */
  dialoguesPerShard?: number;
}

export function createActivities({ endpoints, provider = new LlmProvider(), seeds = new SeedSource(), dialoguesPerShard }: ActivityDeps) {
  return {
    ...createLlmActivities(endpoints, provider),
    ...createDatasetStorageActivities(dialoguesPerShard),
    ...createMetricsActivities(endpoints, provider),
    /** Reads the seed source once at the start (heartbeating: it may be large): a missing or empty one fails the run at once. */
    async inspectSeeds({ seeds: uri }: { seeds: string }): Promise<SeedReport> {
      return heartbeatWhile(() => seeds.inspect(uri));
    },
    /**
     * Seeds for a block of dialogues (a group's). Returns a prefix of `indexes` (at least one) that fits SEED_BLOCK_BYTES, to keep
     * the payload far below Temporal's 2 MB limit however long the seeds are.
     */
    async pickSeeds({ seeds: uri, randomSeed, indexes }: { seeds: string; randomSeed: number; indexes: number[] }): Promise<string[]> {
      // The first pick in a worker reads the whole seed file, which may take longer than the heartbeat timeout.
      return heartbeatWhile(async () => {
        const picked: string[] = [];
        let bytes = 0;
        for (const index of indexes) {
          const seed = await seeds.pick(uri, randomSeed, index);
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
