// Activities that write and read a dataset's objects: one record per dialogue, then metrics
// and the export streamed over those records.
import { Context } from '@temporalio/activity';
import { exportFormatsOf, type DatasetInput } from '../config/dataset-input';
import type { SeedReport } from '../seeds/seed-source';
import { openBlobStore } from '../storage/open-blob-store';
import { fenceDatasets } from './dataset-fence';
import {
  CARD_KEY,
  DIALOGUES_PER_SHARD,
  lineageKey,
  MANIFEST_KEY,
  recordKey,
  REPORT_KEY,
} from '../storage/dataset-layout';
import { removeStaleShards, writeShards } from '../storage/export-shards';
import { heartbeatWhile } from './heartbeats';
import { renderHtmlReport, type ReportData } from '../report/html-report';
import { renderDatasetCard } from '../report/dataset-card';
import { ApplicationFailure } from '@temporalio/common';
import { rangesFromSorted, type IndexRanges } from '../index-ranges';
import { addUsage, emptyUsage } from '../usage';
import { readDatasetRecords } from '../storage/dialogue-records';
import type { BatcherProgress } from '../workflows/dataset-batches';
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
  finished: IndexRanges;
  finishedCount: number;
  finishedUsage: { ask: TokenUsage; answer: TokenUsage };
}

export interface ExportInput extends DatasetRef {
  input: DatasetInput;
  metrics: DatasetMetrics;
  usage: { ask: TokenUsage; answer: TokenUsage };
  failures: DatasetFailure[];
  seeds?: SeedReport;
  /** Present when the budget stopped new dialogues. */
  stopped?: DatasetStop;
  /** Each batched role's batches: rounds, batches, requests (absent or empty: every call online). */
  batches?: BatcherProgress[];
}

export function createDatasetStorageActivities(shardSize = DIALOGUES_PER_SHARD) {
  return {
    async storeDialogue({ output, record }: { output: string; record: DialogueRecord }): Promise<string> {
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const key = recordKey(record.index);
        await store.put(key, JSON.stringify(record));
        return store.uriOf(key);
      });
    },

    /**
     * Records which datasets this one continues, and finds the dialogues they already stored,
     * so a resumed run redoes only the missing and failed ones.
     */
    async openDataset({
      datasetId,
      runId,
      output,
      count,
      resumeFrom,
    }: OpenDatasetInput): Promise<OpenedDataset> {
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const lineage: DatasetRunRef[] = [{ datasetId, runId }];
        if (resumeFrom) {
          // The lineage of the latest dataset with that workflow ID (each writes its own on start).
          const previous = await store.get(lineageKey(resumeFrom));
          if (previous === undefined) {
            throw ApplicationFailure.nonRetryable(
              `resumeFrom: no dataset '${resumeFrom}' was started with output ${output}`,
              'InvalidInput',
            );
          }
          lineage.push(
            ...(JSON.parse(previous) as (string | DatasetRunRef)[])
              .map(toRunRef)
              .filter((ref) => !(ref.datasetId === datasetId && ref.runId === runId)),
          );
        }
        // No dialogue of an earlier dataset may still run (and store) while this one decides what to redo.
        await fenceDatasets(Context.current().client, datasetId, lineage.slice(1));
        await store.put(lineageKey(datasetId), JSON.stringify(lineage));
        const finishedIndices: number[] = [];
        const usage = { ask: emptyUsage(), answer: emptyUsage() };
        if (resumeFrom) {
          let seen = 0;
          for await (const record of readDatasetRecords(store, lineage, count)) {
            finishedIndices.push(record.index);
            usage.ask = addUsage(usage.ask, record.usage.ask);
            usage.answer = addUsage(usage.answer, record.usage.answer);
            if (++seen % HEARTBEAT_EVERY === 0) Context.current().heartbeat({ seen });
          }
        }
        return {
          lineage,
          finished: rangesFromSorted(finishedIndices),
          finishedCount: finishedIndices.length,
          finishedUsage: usage,
        };
      });
    },

    /**
     * Writes the JSONL shards of each format the input names, removes those an earlier export
     * left beyond them, then a manifest, report and card that list exactly the shards written.
     */
    async exportDataset({
      datasetId,
      lineage,
      output,
      count,
      input,
      metrics,
      usage,
      failures,
      seeds,
      stopped,
      batches,
    }: ExportInput): Promise<ExportResult> {
      return heartbeatWhile(async (signal) => {
        const store = openBlobStore(output, { signal });
        const formats = exportFormatsOf(input);
        const missing: number[] = [];
        const samples: DialogueRecord[] = [];
        let exported = 0;
        const shards: ExportedShard[] = [];
        const summaries: FormatExport[] = [];
        // One pass over the records per format: each shard stays a plain stream of one format's lines.
        for (const [i, format] of formats.entries()) {
          const first = i === 0;
          const records = readDatasetRecords(store, lineage, count, first ? missing : [])[
            Symbol.asyncIterator
          ]();
          const written = await writeShards(store, records, format, shardSize, (record, read) => {
            if (first) {
              exported = read;
              if (samples.length < REPORT_SAMPLES) samples.push(record);
            }
            if (read % HEARTBEAT_EVERY === 0) Context.current().heartbeat({ format, read });
          });
          shards.push(...written.shards);
          summaries.push(written.summary);
        }
        await removeStaleShards(store, shards);
        // A dialogue counted failed whose record is there after all (its group was stopped
        // between storing it and reporting it) is exported, not failed.
        const notStored = new Set(missing);
        failures = failures.filter((f) => notStored.has(f.index));
        const resumed = lineage.slice(1).map((r) => r.datasetId);
        const manifest = {
          datasetId,
          resumed,
          /** The default format (the card's default config); `formats` has each one's counts. */
          format: `${formats[0]}-jsonl`,
          formats: summaries,
          requested: count,
          exported,
          missing,
          failures,
          seeds,
          ...(stopped && { stopped }),
          shards,
          metrics,
          usage,
          ...(batches?.length && { batches: batches.map(({ inFlight: _, ...totals }) => totals) }),
          input,
        };
        await store.put(MANIFEST_KEY, JSON.stringify(manifest, null, 2));
        const report: ReportData = {
          datasetId,
          generatedAt: new Date().toISOString(),
          input,
          exported,
          missing: missing.length,
          failed: failures.length,
          metrics,
          usage,
          samples,
          formats: summaries.map((summary) => ({
            ...summary,
            files: shards.filter((s) => s.format === summary.format).map((s) => s.key),
          })),
        };
        await store.put(REPORT_KEY, renderHtmlReport(report));
        await store.put(CARD_KEY, renderDatasetCard(report));
        return {
          manifestUri: store.uriOf(MANIFEST_KEY),
          reportUri: store.uriOf(REPORT_KEY),
          cardUri: store.uriOf(CARD_KEY),
          exported,
          missing,
          shards,
          formats: summaries,
        };
      });
    },
  };
}
