// Activities that write and read a dataset's objects: one record per dialogue, then metrics
// and the export streamed over those records.
import { Context } from '@temporalio/activity';
import type { AllowedRoots } from '../config/allowed-roots';
import { exportFormatsOf, type DatasetInput } from '../config/dataset-input';
import type { SeedReport } from '../seeds/seed-source';
import type { GaveUp } from '../workflows/controls';
import { openBlobStore } from '../storage/open-blob-store';
import { fenceDatasets } from './dataset-fence';
import {
  CARD_KEY,
  DIALOGUES_PER_SHARD,
  finishedKey,
  lineageKey,
  MANIFEST_KEY,
  progressKey,
  recordKey,
  REPORT_KEY,
} from '../storage/dataset-layout';
import { removeStaleShards, writeShards } from '../storage/export-shards';
import { heartbeatWhile } from './heartbeats';
import { renderHtmlReport, type ReportData } from '../report/html-report';
import { renderDatasetCard } from '../report/dataset-card';
import { ApplicationFailure } from '@temporalio/common';
import { includes, RangesBuilder, type IndexRanges } from '../index-ranges';
import { addUsage, emptyUsage } from '../usage';
import { readDatasetRecords } from '../storage/dialogue-records';
import type { BlobStore } from '../storage/blob-store';
import { IndexBitmap } from '../storage/index-bitmap';
import { writeMissing } from '../storage/missing-dialogues';
import { checkOwner, claimOwner } from '../storage/output-owner';
import {
  toRunRef,
  type DatasetFailure,
  type DatasetStop,
  type DatasetMetrics,
  type DatasetRunRef,
  type DialogueRecord,
  type ExportedShard,
  type ExportResult,
  type FormatExport,
  type MissingDialogues,
  type TokenUsage,
} from '../types';

export const HEARTBEAT_EVERY = 200;
/** Dialogues the report shows in full. */
const REPORT_SAMPLES = 3;

export interface DatasetRef {
  datasetId: string;
  output: string;
  count: number;
  /** Datasets whose records count as this one's: itself first, then those it resumed. */
  lineage: DatasetRunRef[];
}

export interface OpenDatasetInput {
  datasetId: string;
  /** Its first run ID: records and lineage are keyed by it, so a workflow ID used again starts afresh. */
  runId: string;
  output: string;
  count: number;
  resumeFrom?: string;
}

export interface OpenedDataset {
  lineage: DatasetRunRef[];
  /** Dialogues already stored by the datasets resumed, and their token usage. */
  finishedCount: number;
  finishedUsage: { ask: TokenUsage; answer: TokenUsage };
  /** Where the set of them is kept (a key under the output, for nextToRun); absent when there are none. */
  finishedKey?: string;
}

export interface NextToRunInput {
  output: string;
  /** OpenedDataset.finishedKey. */
  finishedKey: string;
  /** The first index to look at. */
  from: number;
  maxRanges: number;
}

/** A block of the indices still to run: at most maxRanges ranges, and where the next block starts. */
export interface ToRunBlock {
  ranges: IndexRanges;
  next: number;
}

export interface ExportInput extends DatasetRef {
  input: DatasetInput;
  usage: { ask: TokenUsage; answer: TokenUsage };
  failures: DatasetFailure[];
  seeds?: SeedReport;
  /** Present when the budget stopped new dialogues. */
  stopped?: DatasetStop;
  /** Present when stuck groups were given up. */
  givenUp?: GaveUp;
}

export interface ReportInput extends DatasetRef {
  /** Absent when they could not be computed: `metricsError` says why. */
  metrics?: DatasetMetrics;
  metricsError?: string;
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
  metrics?: DatasetMetrics;
  /** Why some or all metrics are missing; the export stands. */
  metricsError?: string;
  usage: { ask: TokenUsage; answer: TokenUsage };
  input: DatasetInput;
}

/** The first `REPORT_SAMPLES` exported dialogues. */
async function firstExported(
  store: BlobStore,
  lineage: readonly DatasetRunRef[],
  count: number,
): Promise<DialogueRecord[]> {
  const samples: DialogueRecord[] = [];
  for await (const record of readDatasetRecords(store, lineage, count)) {
    samples.push(record);
    if (samples.length >= REPORT_SAMPLES) break;
  }
  return samples;
}

export function createDatasetStorageActivities(roots: AllowedRoots, shardSize = DIALOGUES_PER_SHARD) {
  return {
    /** `dropProgress`: the dialogue went on from stored progress (./dialogue-progress.ts), removed now. */
    async storeDialogue({
      output,
      record,
      dropProgress,
    }: {
      output: string;
      record: DialogueRecord;
      dropProgress?: boolean;
    }): Promise<string> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const key = recordKey(record.index);
        await store.put(key, JSON.stringify(record));
        if (dropProgress) await store.delete([progressKey(record.index)]);
        return store.uriOf(key);
      });
    },

    /**
     * Claims the output, records which datasets this one continues, and finds the dialogues they
     * already stored, so a resumed run redoes only the missing and failed ones. Those are kept in
     * the output, not returned: at any scatter the workflow reads them a block at a time.
     */
    async openDataset({
      datasetId,
      runId,
      output,
      count,
      resumeFrom,
    }: OpenDatasetInput): Promise<OpenedDataset> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const self = { datasetId, runId };
        const lineage = [self, ...(resumeFrom ? await resumedLineage(store, self, resumeFrom) : [])];
        await checkOwner(store, self, resumeFrom);
        // No dialogue of an earlier dataset may still run (and store) while this one decides what to redo.
        await fenceDatasets(Context.current().client, datasetId, lineage.slice(1));
        await claimOwner(store, self);
        await store.put(lineageKey(datasetId), JSON.stringify(lineage));
        if (!resumeFrom)
          return { lineage, finishedCount: 0, finishedUsage: { ask: emptyUsage(), answer: emptyUsage() } };
        return { lineage, ...(await findFinished(store, datasetId, lineage, count)) };
      });
    },

    nextToRun,

    /**
     * Writes the JSONL shards of each format the input names, removes those an earlier export
     * left beyond them, then a manifest that lists exactly the shards written. It needs no
     * metrics (writeReport adds them): a metrics mistake cannot cost the paid dialogues their export.
     */
    async exportDataset({
      datasetId,
      lineage,
      output,
      count,
      input,
      usage,
      failures,
      seeds,
      stopped,
      givenUp,
    }: ExportInput): Promise<ExportResult> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const formats = exportFormatsOf(input);
        const missing = new RangesBuilder();
        let exported = 0;
        const shards: ExportedShard[] = [];
        const summaries: FormatExport[] = [];
        // One pass over the records per format: each shard stays a plain stream of one format's lines.
        for (const [i, format] of formats.entries()) {
          const first = i === 0;
          const records = readDatasetRecords(store, lineage, count, first ? missing : undefined)[
            Symbol.asyncIterator
          ]();
          const written = await writeShards(store, records, format, shardSize, (_, read) => {
            if (first) exported = read;
            if (read % HEARTBEAT_EVERY === 0) Context.current().heartbeat({ format, read });
          });
          shards.push(...written.shards);
          summaries.push(written.summary);
        }
        await removeStaleShards(store, shards);
        // A dialogue counted failed whose record is there after all (its group was stopped
        // between storing it and reporting it) is exported, not failed.
        const storedAfterAll = failures.filter((f) => !includes(missing.ranges, f.index)).map((f) => f.index);
        failures = failures.filter((f) => includes(missing.ranges, f.index));
        const missingSummary = await writeMissing(store, missing);
        const resumed = lineage.slice(1).map((r) => r.datasetId);
        const manifest: DatasetManifest = {
          datasetId,
          resumed,
          /** The default format (the card's default config); `formats` has each one's counts. */
          format: `${formats[0]}-jsonl`,
          formats: summaries,
          requested: count,
          exported,
          missing: missingSummary,
          failures,
          seeds,
          ...(stopped && { stopped }),
          ...(givenUp && { givenUp }),
          shards,
          usage,
          input,
        };
        await store.put(MANIFEST_KEY, JSON.stringify(manifest, null, 2));
        return {
          manifestUri: store.uriOf(MANIFEST_KEY),
          exported,
          missing: missingSummary,
          storedAfterAll,
          shards,
          formats: summaries,
        };
      });
    },

    /**
     * The export's last step: the metrics, or why there are none, into the manifest, then the
     * report and the dataset card, which show the first few exported dialogues.
     */
    async writeReport({
      output,
      count,
      lineage,
      metrics,
      metricsError,
    }: ReportInput): Promise<{ reportUri: string; cardUri: string }> {
      roots.check('output', output);
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const stored = await store.get(MANIFEST_KEY);
        if (stored === undefined)
          throw ApplicationFailure.nonRetryable(
            `output: ${store.uriOf(MANIFEST_KEY)} is gone`,
            'MissingManifest',
          );
        const { metrics: _, metricsError: __, ...exported } = JSON.parse(stored) as DatasetManifest;
        const manifest: DatasetManifest = {
          ...exported,
          ...(metrics && { metrics }),
          ...(metricsError && { metricsError }),
        };
        await store.put(MANIFEST_KEY, JSON.stringify(manifest, null, 2));
        const report: ReportData = {
          datasetId: manifest.datasetId,
          generatedAt: new Date().toISOString(),
          input: manifest.input,
          exported: manifest.exported,
          missing: manifest.missing.count,
          failed: manifest.failures.length,
          metrics,
          metricsError,
          usage: manifest.usage,
          samples: await firstExported(store, lineage, count),
          formats: manifest.formats.map((summary) => ({
            ...summary,
            files: manifest.shards.filter((s) => s.format === summary.format).map((s) => s.key),
          })),
        };
        await store.put(REPORT_KEY, renderHtmlReport(report));
        await store.put(CARD_KEY, renderDatasetCard(report));
        return { reportUri: store.uriOf(REPORT_KEY), cardUri: store.uriOf(CARD_KEY) };
      });
    },
  };
}

/** The next block of indices a resumed dataset has still to run, from `from` on. */
async function nextToRun({ output, finishedKey: key, from, maxRanges }: NextToRunInput): Promise<ToRunBlock> {
  return heartbeatWhile(async (signal) => {
    const store = openBlobStore(output, { signal });
    const text = await store.get(key);
    if (text === undefined)
      throw ApplicationFailure.nonRetryable(
        `${store.uriOf(key)} is missing (deleted from the output?): the dataset cannot tell which dialogues are stored`,
        'FinishedSetMissing',
      );
    return IndexBitmap.parse(text).rangesOutside(from, maxRanges);
  });
}

/** The lineage of the latest dataset with workflow ID `resumeFrom` at this output, `self` left out. */
async function resumedLineage(store: BlobStore, self: DatasetRunRef, resumeFrom: string) {
  // Each dataset writes its own lineage when it starts.
  const previous = await store.get(lineageKey(resumeFrom));
  if (previous === undefined) {
    throw ApplicationFailure.nonRetryable(
      `resumeFrom: no dataset '${resumeFrom}' was started with output ${store.uri}`,
      'InvalidInput',
    );
  }
  return (JSON.parse(previous) as (string | DatasetRunRef)[])
    .map(toRunRef)
    .filter((ref) => !(ref.datasetId === self.datasetId && ref.runId === self.runId));
}

/** The dialogues of the lineage stored among 0..count-1: kept as a bitmap under the output, counted, their usage summed. */
async function findFinished(
  store: BlobStore,
  datasetId: string,
  lineage: DatasetRunRef[],
  count: number,
): Promise<Omit<OpenedDataset, 'lineage'>> {
  const finished = IndexBitmap.empty(count);
  const usage = { ask: emptyUsage(), answer: emptyUsage() };
  for await (const record of readDatasetRecords(store, lineage, count)) {
    finished.add(record.index);
    usage.ask = addUsage(usage.ask, record.usage.ask);
    usage.answer = addUsage(usage.answer, record.usage.answer);
    if (finished.count % HEARTBEAT_EVERY === 0) Context.current().heartbeat({ seen: finished.count });
  }
  if (finished.count === 0) return { finishedCount: 0, finishedUsage: usage };
  const key = finishedKey(datasetId);
  await store.put(key, finished.serialize());
  return { finishedCount: finished.count, finishedUsage: usage, finishedKey: key };
}
