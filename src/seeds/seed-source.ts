// First questions for dialogues: the built-in set, or a user's file on disk or in S3 (formats in
// seed-formats.ts). A dataset streams its source once into chunks in its output (seed-chunks.ts);
// workers then read only the chunks of the seeds they pick.
// A run visits the seeds in a permutation fixed by its randomSeed: without replacement
// until every seed has been used once.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { addAbortSignal, pipeline, Transform, type Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { permutation, prng } from '../random';
import { openBlobStore } from '../storage/open-blob-store';
import {
  SeedChunkCache,
  SeedChunkWriter,
  seedChunksFolder,
  seedIndexKey,
  type SeedChunks,
} from './seed-chunks';
import {
  jsonErrorPosition,
  readSeedItems,
  SeedFileError,
  seedFormatOf,
  type SeedItem,
  type SkippedLine,
} from './seed-formats';

export type { SkippedLine };

const BUILTIN_PATH = path.join(__dirname, 'builtin-seeds.txt');
/** Skipped lines a report lists (all are counted). */
const LISTED_SKIPS = 20;

/** What a run's seed source holds: shown in the run's result, manifest and UI. */
export interface SeedReport {
  uri: string;
  seeds: number;
  skippedLines: number;
  /** The first skipped lines, with their reasons. */
  firstSkipped: SkippedLine[];
  /** Where the normalised seeds are (absent in runs that read the source in every worker). */
  chunks?: SeedChunks;
}

/** How a long read reports that it is alive, and learns that it should stop. */
export interface ReadProgress {
  onBytes?(bytesRead: number): void;
  signal?: AbortSignal;
}

export class SeedSource {
  private readonly chunks = new SeedChunkCache();
  private readonly orders = new Map<string, Uint32Array>();
  private readonly wholeSources = new Map<string, Promise<WholeSource>>();

  /** Streams the source once into chunks under `output`; a missing, empty or unreadable source fails for good. */
  async normalize(
    uri: string,
    output: string,
    datasetId: string,
    progress: ReadProgress = {},
  ): Promise<SeedReport> {
    const store = openBlobStore(output);
    const folder = seedChunksFolder(datasetId);
    const writer = new SeedChunkWriter(store, folder);
    const skipped = new SkippedLines();
    const source = await openSource(uri, progress);
    for await (const item of itemsOf(uri, source.bytes)) {
      if ('seed' in item) await writer.add(item.seed);
      else skipped.add(item.skipped);
    }
    await writer.close();
    if (writer.count === 0) throw noQuestions(uri, skipped.listed);
    const chunks: SeedChunks = {
      output,
      folder,
      count: writer.count,
      perChunk: writer.perChunk,
      ...source.digest(),
    };
    const report: SeedReport = {
      uri,
      seeds: writer.count,
      skippedLines: skipped.count,
      firstSkipped: skipped.listed,
      chunks,
    };
    await store.put(seedIndexKey(folder), JSON.stringify(report));
    return report;
  }

  /** Seed `index` of a run: the `index`-th of the permutation fixed by `randomSeed`. */
  async pick(uri: string, randomSeed: number, index: number, chunks?: SeedChunks): Promise<string> {
    if (!chunks) return this.pickFromWholeSource(uri, randomSeed, index);
    return this.chunks.seed(chunks, this.order(chunks.count, randomSeed)[index % chunks.count]);
  }

  private async pickFromWholeSource(uri: string, randomSeed: number, index: number): Promise<string> {
    const { seeds } = await this.wholeSource(uri);
    return seeds[this.order(seeds.length, randomSeed)[index % seeds.length]];
  }

  private order(count: number, randomSeed: number): Uint32Array {
    const key = `${count}#${randomSeed}`;
    let order = this.orders.get(key);
    if (!order) {
      order = permutation(count, prng(randomSeed));
      this.orders.set(key, order);
    }
    return order;
  }

  private wholeSource(uri: string): Promise<WholeSource> {
    let seeds = this.wholeSources.get(uri);
    if (!seeds) {
      seeds = readWholeSource(uri);
      seeds.catch(() => this.wholeSources.delete(uri));
      this.wholeSources.set(uri, seeds);
    }
    return seeds;
  }
}

/**
 * The first `limit` seeds of a source, the rest left unread: enough to know their lengths for an
 * estimate. `complete`: the source holds no more.
 */
export async function firstSeeds(
  uri: string,
  limit: number,
): Promise<{ seeds: string[]; complete: boolean }> {
  const seeds: string[] = [];
  const skipped = new SkippedLines();
  for await (const item of itemsOf(uri, (await openSource(uri)).bytes)) {
    if (!('seed' in item)) skipped.add(item.skipped);
    else if (seeds.length === limit) return { seeds, complete: false };
    else seeds.push(item.seed);
  }
  if (seeds.length === 0) throw noQuestions(uri, skipped.listed);
  return { seeds, complete: true };
}

interface WholeSource {
  seeds: string[];
  skipped: SkippedLines;
}

async function readWholeSource(uri: string): Promise<WholeSource> {
  const seeds: string[] = [];
  const skipped = new SkippedLines();
  for await (const item of itemsOf(uri, (await openSource(uri)).bytes)) {
    if ('seed' in item) seeds.push(item.seed);
    else skipped.add(item.skipped);
  }
  if (seeds.length === 0) throw noQuestions(uri, skipped.listed);
  return { seeds, skipped };
}

/** The source's items; a source broken past some point fails the run, naming where. */
async function* itemsOf(uri: string, bytes: Readable): AsyncGenerator<SeedItem> {
  const column = /#(.+)$/.exec(uri)?.[1];
  try {
    yield* readSeedItems(bytes, seedFormatOf(uri), column && decodeURIComponent(column));
  } catch (err) {
    if (!(err instanceof SeedFileError)) throw err;
    const where =
      seedFormatOf(uri) === 'json' ? await jsonErrorPosition((await openSource(uri)).bytes) : undefined;
    throw ApplicationFailure.nonRetryable(
      `seeds file ${uri} ${where ?? err.where}: ${err.reason}`,
      'InvalidInput',
    );
  } finally {
    bytes.destroy(); // a reader that stopped early leaves the source open otherwise
  }
}

/** The source's bytes, hashed and counted as they are read; cancelled by `progress.signal`. */
async function openSource(uri: string, progress: ReadProgress = {}) {
  const key = uri.replace(/#.*$/, ''); // a CSV's #column is not part of the key
  const slash = key.lastIndexOf('/');
  const raw =
    uri === 'builtin'
      ? fs.createReadStream(BUILTIN_PATH)
      : await openBlobStore(key.slice(0, slash)).getStream(key.slice(slash + 1));
  if (!raw) throw ApplicationFailure.nonRetryable(`seeds: ${uri} does not exist`, 'InvalidInput');
  const hash = createHash('sha256');
  let bytesRead = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytesRead += chunk.length;
      progress.onBytes?.(bytesRead);
      done(null, chunk);
    },
  });
  const bytes = pipeline(raw, tap, () => undefined); // errors reach the reader through `tap`
  if (progress.signal) addAbortSignal(progress.signal, bytes);
  return { bytes, digest: () => ({ sourceSha256: hash.digest('hex'), sourceBytes: bytesRead }) };
}

function noQuestions(uri: string, skipped: SkippedLine[]) {
  const why = skipped
    .slice(0, 3)
    .map((s) => `line ${s.line}: ${s.reason}`)
    .join('; ');
  return ApplicationFailure.nonRetryable(
    `seeds: ${uri} holds no questions${why ? ` (${why})` : ''}`,
    'InvalidInput',
  );
}

/** Lines that held no seed: all counted, the first few kept with their reasons. */
class SkippedLines {
  count = 0;
  readonly listed: SkippedLine[] = [];
  add(line: SkippedLine) {
    if (this.count++ < LISTED_SKIPS) this.listed.push(line);
  }
}
