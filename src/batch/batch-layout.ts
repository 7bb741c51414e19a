// Names of the batch objects a dataset writes under its output (pure: the workflows build keys too).
//   batches/<run>/<role>/requests/<group>/<n>.jsonl   a group's requests, exact batch-file lines
//   batches/<run>/<role>/requests/<group>/<n>.meta.jsonl   what judging an ask reply needs (earlier questions)
//   batches/<run>/<role>/submitted/<seq>.json         a batch's pieces and custom_ids, then its file and batch IDs
//   batches/<run>/<role>/results/<seq>/<group>.jsonl  a finished batch's outcomes for one group
// <run> is the dataset's first run ID; <group> the group's first-last indices.
import type { BatchPlace } from './batch-types';

const base = (p: BatchPlace) => `batches/${p.datasetRunId}/${p.role}`;
const pad = (n: number) => String(n).padStart(6, '0');

export const pieceKey = (p: BatchPlace, group: string, n: number) =>
  `${base(p)}/requests/${group}/${pad(n)}.jsonl`;
export const pieceMetaKey = (key: string) => key.replace(/\.jsonl$/, '.meta.jsonl');
export const submittedKey = (p: BatchPlace, seq: number) => `${base(p)}/submitted/${pad(seq)}.json`;
export const resultKey = (p: BatchPlace, seq: number, group: string) =>
  `${base(p)}/results/${pad(seq)}/${group}.jsonl`;

/** A group's name in keys: its indices (`<dataset>/<first>-<last>` → `<first>-<last>`). */
export const groupPart = (groupId: string) => groupId.slice(groupId.lastIndexOf('/') + 1);

/** What names a batch at the provider (its metadata `parrot_batch`), so that a retry finds it rather than submits it again. */
export const batchKey = (p: BatchPlace, seq: number) => `${p.datasetRunId}:${p.role}:${seq}`;
export const BATCH_METADATA_KEY = 'parrot_batch';
