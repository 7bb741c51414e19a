// A dataset's seeds, normalised once into its output location as fixed-size chunks, so a worker
// picks seed i by reading one small object instead of the whole source:
//   seeds/<dataset id>/00000.jsonl   seeds 0 … SEEDS_PER_CHUNK-1, one JSON string a line
//   seeds/<dataset id>/index.json    the SeedChunks below plus the source's skipped lines
import { ApplicationFailure } from '@temporalio/common';
import type { BlobStore } from '../storage/blob-store';
import { openBlobStore } from '../storage/open-blob-store';

export const SEEDS_PER_CHUNK = 1000;

/** Where a dataset's normalised seeds are: all a workflow keeps of them. */
export interface SeedChunks {
  /** The dataset's output location (s3://… or file:///…) and the chunks' folder in it. */
  output: string;
  folder: string;
  count: number;
  perChunk: number;
  /** The source as read: its sha256 (hex) and size in bytes. */
  sourceSha256: string;
  sourceBytes: number;
}

export const seedChunksFolder = (datasetId: string) => `seeds/${encodeURIComponent(datasetId)}`;
export const seedChunkKey = (folder: string, chunk: number) =>
  `${folder}/${String(chunk).padStart(5, '0')}.jsonl`;
export const seedIndexKey = (folder: string) => `${folder}/index.json`;

/** Writes seeds in order, a chunk at a time; `close` writes the last, partial one. */
export class SeedChunkWriter {
  private pending: string[] = [];
  private chunks = 0;
  count = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly folder: string,
    readonly perChunk = SEEDS_PER_CHUNK,
  ) {}

  async add(seed: string): Promise<void> {
    this.pending.push(JSON.stringify(seed));
    this.count++;
    if (this.pending.length === this.perChunk) await this.flush();
  }

  async close(): Promise<void> {
    if (this.pending.length) await this.flush();
  }

  private async flush() {
    await this.store.put(seedChunkKey(this.folder, this.chunks++), this.pending.join('\n') + '\n');
    this.pending = [];
  }
}

/** Chunks read so far, by source, least recently used dropped first once they hold more than `maxChars`. */
export class SeedChunkCache {
  private readonly chunks = new Map<string, Promise<string[]>>();
  private readonly sizes = new Map<string, number>();
  private chars = 0;

  constructor(private readonly maxChars = 32 * 1024 * 1024) {}

  async seed(chunks: SeedChunks, i: number): Promise<string> {
    const chunk = Math.floor(i / chunks.perChunk);
    const seeds = await this.chunk(chunks, chunk);
    const seed = seeds[i % chunks.perChunk];
    if (seed === undefined)
      throw ApplicationFailure.nonRetryable(
        `seeds: ${chunks.output}/${seedChunkKey(chunks.folder, chunk)} holds ${seeds.length} seeds, not seed ${i}`,
        'SeedsMissing',
      );
    return seed;
  }

  private chunk({ output, folder, sourceSha256 }: SeedChunks, chunk: number): Promise<string[]> {
    // By the source's hash too: a dataset started again under the same workflow ID writes another
    // seed file's chunks into the same folder, and a warm worker must not pick from the old ones.
    const key = `${sourceSha256}:${output}/${seedChunkKey(folder, chunk)}`;
    const cached = this.chunks.get(key);
    if (cached) {
      this.chunks.delete(key); // re-inserted: most recently used last
      this.chunks.set(key, cached);
      return cached;
    }
    const read = readChunk(openBlobStore(output), seedChunkKey(folder, chunk)).then((seeds) => {
      this.remember(
        key,
        seeds.reduce((n, s) => n + s.length, 0),
      );
      return seeds;
    });
    read.catch(() => this.chunks.delete(key));
    this.chunks.set(key, read);
    return read;
  }

  private remember(key: string, chars: number) {
    this.sizes.set(key, chars);
    this.chars += chars;
    for (const old of this.chunks.keys()) {
      if (this.chars <= this.maxChars) break;
      if (old === key || !this.sizes.has(old)) continue; // the newest, or still being read
      this.chars -= this.sizes.get(old)!;
      this.sizes.delete(old);
      this.chunks.delete(old);
    }
  }
}

async function readChunk(store: BlobStore, key: string): Promise<string[]> {
  const text = await store.get(key);
  // Deleted since the dataset wrote it: retrying will not bring it back.
  if (text === undefined)
    throw ApplicationFailure.nonRetryable(
      `seeds: ${store.uriOf(key)} is missing (deleted from the output?)`,
      'SeedsMissing',
    );
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string);
}
