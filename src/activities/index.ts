// All activities of a parrot worker, built from their dependencies (samples-typescript's
// factory idiom). Workflows import only the type.
import type { EndpointRegistry } from '../config/endpoints';
import { LlmProvider } from '../providers/openai-provider';
import { SeedSource } from '../seeds/seed-source';
import { createDatasetStorageActivities } from './dataset-storage';
import { createLlmActivities } from './llm';

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
    async pickSeed({ seeds: uri, randomSeed, index }: { seeds: string; randomSeed: number; index: number }): Promise<string> {
      return seeds.pick(uri, randomSeed, index);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
