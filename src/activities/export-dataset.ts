// The export: every stored dialogue of the lineage, in each format the input names, as JSONL
// shards; the shards an earlier export left beyond them removed; then `manifest.json`, which lists
// exactly the shards written. It needs no metrics (writeReport adds them later): a metrics mistake
// cannot cost the paid dialogues their export.
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import type { DatasetInput, ExportFormat } from '../config/dataset-input';
import { includes, RangesBuilder } from '../index-ranges';
import type { SeedReport } from '../seeds/seed-source';
import type { BlobStore } from '../storage/blob-store';
import { MANIFEST_KEY } from '../storage/dataset-layout';
import { readDatasetRecords } from '../storage/dialogue-records';
import { removeStaleShards, writeShards } from '../storage/export-shards';
import { writeMissing } from '../storage/missing-dialogues';
import { openBlobStore } from '../storage/open-blob-store';
import type {
  DatasetFailure,
  DatasetMetrics,
  DatasetRef,
  DatasetStop,
  ExportedShard,
  DatasetExport,
  FormatExport,
  MissingDialogues,
  TokenUsage,
} from '../types';
import type { GaveUp } from '../types';
import type { BatcherProgress } from '../batch/batch-types';
import { HEARTBEAT_EVERY, heartbeatWhile } from './heartbeats';

export interface ExportInput extends DatasetRef {
  input: DatasetInput;
  usage: { ask: TokenUsage; answer: TokenUsage };
  failures: DatasetFailure[];
  seeds?: SeedReport;
  /** Present when the budget stopped new dialogues. */
  stopped?: DatasetStop;
  /** Present when stuck groups were given up. */
  givenUp?: GaveUp;
  /** Each batched role's batches: rounds, batches, requests (empty: every call online). */
  batches: BatcherProgress[];
}

/** `manifest.json`: what the export wrote, and then the metrics (writeReport). */
export interface DatasetManifest {
  datasetId: string;
  resumed: string[];
  format: string;
  formats: FormatExport[];
  requested: number;
  exported: number;
  missing: MissingDialogues;
  failures: DatasetFailure[];
  seeds?: SeedReport;
  stopped?: DatasetStop;
  givenUp?: GaveUp;
  shards: ExportedShard[];
  /** Which calls ran in batch: each batched role's rounds, batches and requests (empty: every call online). */
  batches: Omit<BatcherProgress, 'inFlight'>[];
  metrics?: DatasetMetrics;
  /** Why some or all metrics are missing; the export stands. */
  metricsError?: string;
  usage: { ask: TokenUsage; answer: TokenUsage };
  input: DatasetInput;
}

/** The shards of every format, and what the first pass learnt: how many were read, which were missing. */
interface WrittenShards {
  exported: number;
  missing: RangesBuilder;
  shards: ExportedShard[];
  formats: FormatExport[];
}

export function exportDatasetActivity(roots: AllowedRoots, shardSize: number) {
  return async function exportDataset(input: ExportInput): Promise<DatasetExport> {
    roots.check('output', input.output);
    return heartbeatWhile(async (signal) => {
      const store = openBlobStore(input.output, { signal });
      const formats = input.input.exportFormats;
      const written = await writeAllShards(store, input, formats, shardSize);
      await removeStaleShards(store, written.shards);
      // A dialogue counted failed whose record is there after all (its group was stopped
      // between storing it and reporting it) is exported, not failed.
      const notStored = written.missing.ranges;
      const storedAfterAll = input.failures.filter((f) => !includes(notStored, f.index)).map((f) => f.index);
      const failures = input.failures.filter((f) => includes(notStored, f.index));
      const missing = await writeMissing(store, written.missing);
      const manifest = manifestOf(input, formats[0], { ...written, missing, failures });
      await store.put(MANIFEST_KEY, JSON.stringify(manifest, null, 2));
      const { exported, shards } = written;
      const manifestUri = store.uriOf(MANIFEST_KEY);
      return { manifestUri, exported, missing, storedAfterAll, shards, formats: written.formats };
    });
  };
}

/** One pass over the records per format: each shard stays a plain stream of one format's lines. */
async function writeAllShards(
  store: BlobStore,
  { lineage, count }: DatasetRef,
  formats: readonly ExportFormat[],
  shardSize: number,
): Promise<WrittenShards> {
  const written: WrittenShards = { exported: 0, missing: new RangesBuilder(), shards: [], formats: [] };
  for (const [i, format] of formats.entries()) {
    const first = i === 0;
    const records = readDatasetRecords(store, lineage, count, first ? written.missing : undefined);
    const shards = await writeShards(store, records[Symbol.asyncIterator](), format, shardSize, (_, read) => {
      if (first) written.exported = read;
      if (read % HEARTBEAT_EVERY === 0) Context.current().heartbeat({ format, read });
    });
    written.shards.push(...shards.shards);
    written.formats.push(shards.summary);
  }
  return written;
}

function manifestOf(
  { datasetId, lineage, count, input, usage, seeds, stopped, givenUp, batches }: ExportInput,
  format: ExportFormat,
  written: Omit<WrittenShards, 'missing'> & { missing: MissingDialogues; failures: DatasetFailure[] },
): DatasetManifest {
  return {
    datasetId,
    resumed: lineage.slice(1).map((r) => r.datasetId),
    /** The default format (the card's default config); `formats` has each one's counts. */
    format: `${format}-jsonl`,
    formats: written.formats,
    requested: count,
    exported: written.exported,
    missing: written.missing,
    failures: written.failures,
    seeds,
    ...(stopped && { stopped }),
    ...(givenUp && { givenUp }),
    shards: written.shards,
    batches: batches.map(({ inFlight: _, ...totals }) => totals),
    usage,
    input,
  };
}
