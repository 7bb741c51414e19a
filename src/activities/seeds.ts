// The seed steps: reading the seed source once into chunks, and picking a group's seeds from them.
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { SeedChunks } from '../seeds/seed-chunks';
import type { SeedReport, SeedSource } from '../seeds/seed-source';
import { heartbeatWhile } from './heartbeats';

/** Most seed text one pickSeeds call returns. */
export const SEED_BLOCK_BYTES = 256 * 1024;

export function createSeedActivities(roots: AllowedRoots, seeds: SeedSource) {
  return {
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
