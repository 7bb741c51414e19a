// Names of the objects a dataset writes under its output location.
//   records/00000042.json    one stored dialogue (written when the dialogue finishes)
//   progress/00000042.json   a dialogue its group handed on to the group's next run, as far as it
//                            had got (removed once the dialogue is stored)
//   data/part-00000.jsonl    export shards, ShareGPT-style JSONL (exportFormats "sharegpt", the default)
//   data/openai/part-00000.jsonl   export shards, OpenAI chat-format JSONL (exportFormats "openai")
//   manifest.json            counts, shards with sha256, input, metrics, token usage, failures
//   missing.json             every requested dialogue not exported, as index ranges (the manifest counts them)
//   owner.json               the dataset that writes here (workflow ID and first run ID); another
//                            may only by resuming it
//   report.html              charts and metrics beside the paper's, sample dialogues (self-contained)
//   README.md                dataset card with a Hugging Face YAML header
//   lineage/<id>.json        the datasets (workflow ID and first run ID) whose records a dataset
//                            counts as its own: itself and those it resumed, written when it starts
//   finished/<id>.json       the dialogues a resuming dataset found stored when it started, one
//                            bit per index: it runs the others, reading a block of them at a time
import type { ExportFormat } from '../config/dataset-input';

export const DIALOGUES_PER_SHARD = 5000;

export const RECORDS_PREFIX = 'records/';
export const recordKey = (index: number) => `records/${String(index).padStart(8, '0')}.json`;
export const progressKey = (index: number) => `progress/${String(index).padStart(8, '0')}.json`;
/** Where a format's shards live: ShareGPT, the default, in `data/`; each other format in a folder of its own name. */
const SHARD_FOLDERS: Record<ExportFormat, string> = { sharegpt: 'data/', openai: 'data/openai/' };
export const shardFolder = (format: ExportFormat) => SHARD_FOLDERS[format];
export const shardKey = (format: ExportFormat, shard: number) =>
  `${SHARD_FOLDERS[format]}part-${String(shard).padStart(5, '0')}.jsonl`;
export const SHARDS_PREFIX = 'data/';
/** Whether a key is an export shard of any format, as opposed to a file someone else put under `data/`. */
export const isShardKey = (key: string) =>
  Object.values(SHARD_FOLDERS).some(
    (folder) => key.startsWith(folder) && /^part-\d{5,}\.jsonl$/.test(key.slice(folder.length)),
  );
export const MANIFEST_KEY = 'manifest.json';
export const REPORT_KEY = 'report.html';
export const CARD_KEY = 'README.md';
export const lineageKey = (datasetId: string) => `lineage/${encodeURIComponent(datasetId)}.json`;
export const finishedKey = (datasetId: string) => `finished/${encodeURIComponent(datasetId)}.json`;
export const MISSING_KEY = 'missing.json';
export const OWNER_KEY = 'owner.json';
