// Names of the objects a dataset writes under its output location.
//   records/00000042.json    one stored dialogue (written when the dialogue finishes)
//   data/part-00000.jsonl    export shards, ShareGPT-style JSONL
//   manifest.json            counts, shards with sha256, input, metrics, token usage, failures
//   report.html              charts and metrics beside the paper's, sample dialogues (self-contained)
//   README.md                dataset card with a Hugging Face YAML header
//   lineage/<id>.json        the datasets (workflow ID and first run ID) whose records a dataset
//                            counts as its own: itself and those it resumed, written when it starts
export const DIALOGUES_PER_SHARD = 5000;

export const recordKey = (index: number) => `records/${String(index).padStart(8, '0')}.json`;
export const shardKey = (shard: number) => `data/part-${String(shard).padStart(5, '0')}.jsonl`;
export const SHARDS_PREFIX = 'data/';
/** Whether a key is one of ours in `data/` (an export shard), as opposed to a file someone else put there. */
export const isShardKey = (key: string) => /^data\/part-\d{5,}\.jsonl$/.test(key);
export const MANIFEST_KEY = 'manifest.json';
export const REPORT_KEY = 'report.html';
export const CARD_KEY = 'README.md';
export const lineageKey = (datasetId: string) => `lineage/${encodeURIComponent(datasetId)}.json`;
