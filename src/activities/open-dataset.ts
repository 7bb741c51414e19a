// Opening a dataset: it claims its output, records which datasets it continues (its lineage),
// fences them, and finds the dialogues they stored, so that a resume redoes only the missing and
// failed ones. That set stays in the output: the workflow reads it a block at a time (nextToRun).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AllowedRoots } from '../config/allowed-roots';
import type { IndexRanges } from '../index-ranges';
import type { BlobStore } from '../storage/blob-store';
import { finishedKey, lineageKey } from '../storage/dataset-layout';
import { readDatasetRecords } from '../storage/dialogue-records';
import { IndexBitmap } from '../storage/index-bitmap';
import { openBlobStore } from '../storage/open-blob-store';
import { checkOwner, claimOwner } from '../storage/output-owner';
import type { DatasetRunRef, TokenUsage } from '../types';
import { addUsage, emptyUsage } from '../usage';
import { fenceDatasets } from './dataset-fence';
import { HEARTBEAT_EVERY, heartbeatWhile } from './heartbeats';

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

export function createOpenDatasetActivities(roots: AllowedRoots) {
  return {
    async openDataset(input: OpenDatasetInput): Promise<OpenedDataset> {
      roots.check('output', input.output);
      return heartbeatWhile((signal) => openDataset(input, openBlobStore(input.output, { signal })));
    },

    /** The next block of indices a resumed dataset has still to run, from `from` on. */
    async nextToRun({ output, finishedKey: key, from, maxRanges }: NextToRunInput): Promise<ToRunBlock> {
      roots.check('output', output);
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
    },
  };
}

async function openDataset(
  { datasetId, runId, count, resumeFrom }: OpenDatasetInput,
  store: BlobStore,
): Promise<OpenedDataset> {
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
  return (JSON.parse(previous) as DatasetRunRef[]).filter(
    (ref) => !(ref.datasetId === self.datasetId && ref.runId === self.runId),
  );
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
