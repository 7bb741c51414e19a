// The export's last step: the metrics, or why there are none, into the manifest; then the HTML
// report and the dataset card, which show the first few exported dialogues.
import { ApplicationFailure } from '@temporalio/common';
import type { AllowedRoots } from '../config/allowed-roots';
import { renderDatasetCard } from '../report/dataset-card';
import { renderHtmlReport, type ReportData } from '../report/html-report';
import type { BlobStore } from '../storage/blob-store';
import { CARD_KEY, MANIFEST_KEY, REPORT_KEY } from '../storage/dataset-layout';
import { readDatasetRecords } from '../storage/dialogue-records';
import { openBlobStore } from '../storage/open-blob-store';
import type { DatasetMetrics, DatasetRef, DatasetRunRef, DialogueRecord } from '../types';
import type { DatasetManifest } from './export-dataset';
import { heartbeatWhile } from './heartbeats';

/** Dialogues the report shows in full. */
const REPORT_SAMPLES = 3;

export interface ReportInput extends DatasetRef {
  /** Absent when they could not be computed: `metricsError` says why. */
  metrics?: DatasetMetrics;
  metricsError?: string;
}

export function writeReportActivity(roots: AllowedRoots) {
  return async function writeReport(input: ReportInput): Promise<{ reportUri: string; cardUri: string }> {
    roots.check('output', input.output);
    return heartbeatWhile(async (signal) => {
      const store = openBlobStore(input.output, { signal });
      const manifest = await addMetrics(store, input);
      const report = await reportOf(store, input, manifest);
      await store.put(REPORT_KEY, renderHtmlReport(report));
      await store.put(CARD_KEY, renderDatasetCard(report));
      return { reportUri: store.uriOf(REPORT_KEY), cardUri: store.uriOf(CARD_KEY) };
    });
  };
}

/** The manifest the export wrote, with these metrics (or their error) in place of any earlier ones. */
async function addMetrics(
  store: BlobStore,
  { metrics, metricsError }: ReportInput,
): Promise<DatasetManifest> {
  const stored = await store.get(MANIFEST_KEY);
  if (stored === undefined)
    throw ApplicationFailure.nonRetryable(`output: ${store.uriOf(MANIFEST_KEY)} is gone`, 'MissingManifest');
  const { metrics: _, metricsError: __, ...exported } = JSON.parse(stored) as DatasetManifest;
  const manifest: DatasetManifest = {
    ...exported,
    ...(metrics && { metrics }),
    ...(metricsError && { metricsError }),
  };
  await store.put(MANIFEST_KEY, JSON.stringify(manifest, null, 2));
  return manifest;
}

async function reportOf(
  store: BlobStore,
  input: ReportInput,
  manifest: DatasetManifest,
): Promise<ReportData> {
  return {
    datasetId: manifest.datasetId,
    generatedAt: new Date().toISOString(),
    input: manifest.input,
    exported: manifest.exported,
    missing: manifest.missing.count,
    failed: manifest.failures.length,
    metrics: input.metrics,
    metricsError: input.metricsError,
    usage: manifest.usage,
    samples: await firstExported(store, input.lineage, input.count),
    formats: manifest.formats.map((summary) => ({
      ...summary,
      files: manifest.shards.filter((s) => s.format === summary.format).map((s) => s.key),
    })),
  };
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
