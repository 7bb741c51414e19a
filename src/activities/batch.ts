// The batch steps: which roles go to a batch API (at the dataset's start); a group writing its
// requests to storage; the batcher submitting a batch file, polling, reading a finished batch's
// files into each group's outcomes, and cancelling; a group reading its outcomes. Every step is
// idempotent: a retry after a worker died finds what the first try did rather than doing it again.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AnswerSettings, AskSettings, BatchSettings } from '../config/dataset-input';
import { batchLimits } from '../config/batch-endpoints';
import type { EndpointConfig, EndpointRegistry } from '../config/endpoints';
import { openBlobStore } from '../storage/open-blob-store';
import { batchKey, resultKey, submittedKey } from '../batch/batch-layout';
import { batchUrlOf, pieceLines } from '../batch/batch-requests';
import { usesBatch } from '../batch/batch-routing';
import {
  buildBatchFile,
  readJson,
  readOutcomes,
  writePiece,
  type SubmittedManifest,
} from '../batch/batch-store';
import type {
  BatchPlace,
  BatchRole,
  BatchRoute,
  BatchUrl,
  CollectedBatch,
  PieceRef,
  PolledBatch,
  StageInput,
} from '../batch/batch-types';
import { ProviderBatches, polled } from '../batch/provider-batches';
import { collectOutcomes } from '../batch/collect-batch';
import { BatchMetrics } from '../telemetry/batch-metrics';
import { endpointFor } from './llm';
import { heartbeatWhile } from './heartbeats';

/** Most outcome bytes one readBatchResults returns: far below Temporal's 2 MB payload limit. */
export const RESULT_BLOCK_BYTES = 512 * 1024;
/** How far back a retried submit looks for the batch an earlier try may have created (provider clocks differ a little). */
const FIND_SLACK_SECONDS = 3_600;

export interface SubmitInput {
  place: BatchPlace;
  seq: number;
  pieces: PieceRef[];
  url: BatchUrl;
  completionWindow: string;
  datasetId: string;
}

export interface CollectInput {
  place: BatchPlace;
  seq: number;
  batch: PolledBatch;
  /** Workflow time (ms) the batch was created: for the turnaround metric. */
  createdAt: number;
  /** Ask: the settings that judge a question. */
  settings: AskSettings | AnswerSettings;
}

export function createBatchActivities(endpoints: EndpointRegistry, metrics = new BatchMetrics()) {
  const providers = new Map<string, ProviderBatches>();
  const provider = (name: string) => {
    let p = providers.get(name);
    if (!p) providers.set(name, (p = new ProviderBatches(endpointFor(endpoints, 'endpoint', name))));
    return p;
  };

  return {
    /** The roles whose calls go to a batch API, with their endpoint's limits; an unknown endpoint fails naming its field. */
    async batchRoutes(
      roles: {
        role: BatchRole;
        endpoint: string;
        batch?: boolean | BatchSettings;
        mode?: AskSettings['mode'];
      }[],
    ): Promise<BatchRoute[]> {
      return roles.flatMap((r) => {
        const config = endpointFor(endpoints, `${r.role}.endpoint`, r.endpoint);
        if (!usesBatch(r.batch, config)) return [];
        return [{ role: r.role, endpoint: r.endpoint, url: batchUrlOf(r.role, r), ...batchLimits(config) }];
      });
    },

    /** Writes a group's requests as batch-file lines: the batcher gets only this reference. */
    async stageBatchRequests({ place, key, settings, calls }: StageInput): Promise<Omit<PieceRef, 'group'>> {
      return heartbeatWhile(async (signal) => {
        const piece = pieceLines(place.role, settings, calls);
        await writePiece(openBlobStore(place.output, { signal }), key, piece);
        return { key, count: piece.count, tokens: piece.tokens, bytes: piece.bytes };
      });
    },

    /**
     * Submits the pieces as one batch, or finds the batch an earlier try submitted: its ID is in
     * storage once created, and in the provider's metadata from the moment it is. So a worker
     * killed at any point, and a second worker, never submit the same requests twice.
     */
    async submitBatch(input: SubmitInput): Promise<PolledBatch> {
      return heartbeatWhile((signal) => submit(input, provider(input.place.endpoint), metrics, signal));
    },

    /** The batches' statuses and counts now. */
    async pollBatches({ place, ids }: { place: BatchPlace; ids: string[] }): Promise<PolledBatch[]> {
      return heartbeatWhile((signal) => poll(provider(place.endpoint), place, ids, metrics, signal));
    },

    /** A finished batch's output and error files, read into one outcome file per group; or why it was refused. */
    async collectBatch(input: CollectInput): Promise<CollectedBatch> {
      const endpoint = endpointFor(endpoints, `${input.place.role}.endpoint`, input.place.endpoint);
      return heartbeatWhile((signal) => collect(input, endpoint, provider(endpoint.name), metrics, signal));
    },

    /** A group's outcomes from a finished batch, a block at a time (`next`: where the next block starts). */
    async readBatchResults({ output, key, from = 0 }: { output: string; key: string; from?: number }) {
      return heartbeatWhile((signal) =>
        readOutcomes(openBlobStore(output, { signal }), key, from, RESULT_BLOCK_BYTES),
      );
    },

    /** Cancels the batches at the provider: nobody waits for them any more. */
    async cancelBatches({ place, ids }: { place: BatchPlace; ids: string[] }): Promise<void> {
      await heartbeatWhile(async (signal) => {
        const p = provider(place.endpoint);
        await Promise.all(ids.map((id) => p.cancel(id, signal)));
      });
    },
  };
}

const tags = (place: BatchPlace) => ({ endpoint: place.endpoint, role: place.role });

async function poll(
  provider: ProviderBatches,
  place: BatchPlace,
  ids: string[],
  metrics: BatchMetrics,
  signal: AbortSignal,
): Promise<PolledBatch[]> {
  const batches = await Promise.all(ids.map(async (id) => polled(id, await provider.retrieve(id, signal))));
  const unfinished = batches.reduce((n, b) => n + Math.max(0, b.total - b.completed - b.failed), 0);
  metrics.polled(tags(place), unfinished);
  return batches;
}

async function collect(
  input: CollectInput,
  endpoint: EndpointConfig,
  provider: ProviderBatches,
  metrics: BatchMetrics,
  signal: AbortSignal,
): Promise<CollectedBatch> {
  const { place, seq } = input;
  const store = openBlobStore(place.output, { signal });
  const manifest = await readJson<SubmittedManifest>(store, submittedKey(place, seq));
  if (!manifest)
    throw ApplicationFailure.nonRetryable(`batch ${input.batch.id}: its record is missing from storage`);
  const collected = await collectOutcomes({
    store,
    manifest,
    batch: input.batch,
    provider,
    context: { role: place.role, ask: input.settings as AskSettings, endpoint },
    resultKeyOf: (group) => resultKey(place, seq, group),
    signal,
    onOutcome: (outcome) => metrics.outcome(tags(place), outcome),
  });
  if (!collected.rejection && !collected.quota)
    metrics.finished(tags(place), (Date.now() - input.createdAt) / 1000);
  return collected;
}

async function submit(
  input: SubmitInput,
  provider: ProviderBatches,
  metrics: BatchMetrics,
  signal: AbortSignal,
) {
  const { place, seq } = input;
  const store = openBlobStore(place.output, { signal });
  const recordKey = submittedKey(place, seq);
  const key = batchKey(place, seq);
  let manifest = await readJson<SubmittedManifest>(store, recordKey);
  if (manifest?.batchId) return polled(manifest.batchId, await provider.retrieve(manifest.batchId, signal));
  const since = Context.current().info.scheduledTimestampMs / 1000 - FIND_SLACK_SECONDS;
  const found = await provider.find(key, since, signal);
  if (found) {
    if (manifest) await store.put(recordKey, JSON.stringify({ ...manifest, batchId: found.id }));
    return polled(found.id, found);
  }
  const file = await buildBatchFile(store, input.pieces);
  manifest = { key, pieces: file.pieces, ...(manifest?.fileId && { fileId: manifest.fileId }) };
  await store.put(recordKey, JSON.stringify(manifest));
  if (!manifest.fileId) {
    manifest.fileId = await provider.upload(`parrot-${key.replace(/:/g, '-')}.jsonl`, file.content, signal);
    await store.put(recordKey, JSON.stringify(manifest));
  }
  // A try that has been given up on (its heartbeat timed out) must not create a batch its successor will.
  if (signal.aborted) throw new Error('cancelled before the batch was created');
  const batch = await provider.create({ ...input, fileId: manifest.fileId, key }, signal);
  await store.put(recordKey, JSON.stringify({ ...manifest, batchId: batch.id }));
  metrics.created(
    { endpoint: place.endpoint, role: place.role },
    file.pieces.reduce((n, p) => n + p.count, 0),
  );
  return polled(batch.id, batch);
}
