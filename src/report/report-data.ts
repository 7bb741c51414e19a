// What a dataset's report and card are made from, gathered by the writeReport activity.
import type { DatasetInput } from '../config/dataset-input';
import type { DatasetMetrics, DialogueRecord, FormatExport, TokenUsage } from '../types';

export interface ReportData {
  datasetId: string;
  generatedAt: string;
  input: DatasetInput;
  exported: number;
  missing: number;
  failed: number;
  /** Absent when they could not be computed; `metricsError` says why (also when only some failed). */
  metrics?: DatasetMetrics;
  metricsError?: string;
  usage: { ask: TokenUsage; answer: TokenUsage };
  /** The first few dialogues, shown in full. */
  samples: DialogueRecord[];
  /** Each format exported, the first the default, with its shards relative to the report. */
  formats: ReportFormat[];
}

export interface ReportFormat extends FormatExport {
  files: string[];
}
