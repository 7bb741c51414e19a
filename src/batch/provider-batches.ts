// A provider's Files and Batches API, through the `openai` package: upload a batch file, create a
// batch that names its parrot key in its metadata, find that batch again, read its status and its
// output and error files line by line, cancel it. Errors become Temporal failures as the online
// calls' do (src/providers/openai-provider.ts); a refusal for quota says so.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { ApplicationFailure } from '@temporalio/common';
import type { EndpointConfig } from '../config/endpoints';
import { toActivityFailure } from '../providers/openai-provider';
import { BATCH_METADATA_KEY } from './batch-layout';
import type { BatchUrl, PolledBatch } from './batch-types';

export type { Batch };

export class ProviderBatches {
  private readonly client: OpenAI;

  constructor(readonly endpoint: Pick<EndpointConfig, 'name' | 'baseURL' | 'apiKey'>) {
    // Retries are Temporal's (the activities are idempotent), as for the online calls.
    this.client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey, maxRetries: 0 });
  }

  /** The batch whose metadata names `key`, looking back to batches created at `sinceSeconds` (epoch s). */
  async find(key: string, sinceSeconds: number, signal?: AbortSignal): Promise<Batch | undefined> {
    return this.calling(async () => {
      for await (const b of this.client.batches.list({ limit: 100 }, { signal })) {
        if (b.metadata?.[BATCH_METADATA_KEY] === key) return b;
        if (b.created_at < sinceSeconds) return undefined; // newest first: older ones cannot be it
      }
      return undefined;
    });
  }

  async upload(filename: string, content: Buffer, signal?: AbortSignal): Promise<string> {
    return this.calling(async () => {
      const file = await this.client.files.create(
        { file: await toFile(content, filename, { type: 'application/jsonl' }), purpose: 'batch' },
        { signal },
      );
      return file.id;
    });
  }

  async create(
    a: { fileId: string; url: BatchUrl; completionWindow: string; key: string; datasetId: string },
    signal?: AbortSignal,
  ): Promise<Batch> {
    return this.calling(() =>
      this.client.batches.create(
        {
          input_file_id: a.fileId,
          endpoint: a.url,
          completion_window: a.completionWindow as '24h',
          metadata: { [BATCH_METADATA_KEY]: a.key, parrot_dataset: a.datasetId.slice(0, 512) },
        },
        { signal },
      ),
    );
  }

  /** The batch, or undefined when the provider no longer knows it (404). */
  async retrieve(id: string, signal?: AbortSignal): Promise<Batch | undefined> {
    try {
      return await this.client.batches.retrieve(id, { signal });
    } catch (err) {
      if (err instanceof OpenAI.NotFoundError) return undefined;
      throw this.failure(err);
    }
  }

  async cancel(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.batches.cancel(id, { signal });
    } catch (err) {
      // Finished already (409/400) or gone (404): nothing left to cancel.
      if (err instanceof OpenAI.APIError && [400, 404, 409].includes(err.status as number)) return;
      throw this.failure(err);
    }
  }

  /** A file's lines, streamed (output files run to hundreds of MB). */
  async *lines(fileId: string, signal?: AbortSignal): AsyncGenerator<string> {
    const response = await this.calling(() => this.client.files.content(fileId, { signal }));
    if (!response.body) return;
    const input = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim()) yield line;
  }

  private async calling<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.failure(err);
    }
  }

  /**
   * A refusal for quota is said to be one and not retried here: `BatchQueueFull` (the enqueued-token
   * limit: the batcher waits for batches in flight, then submits again) or `BatchQuota` (billing:
   * the dataset fails, saying so). The rest as the online calls'.
   */
  private failure(err: unknown): unknown {
    if (!(err instanceof OpenAI.APIError)) return toActivityFailure(this.endpoint.name, err);
    const kind = quotaRefusal(err.code, err.message);
    if (kind)
      return ApplicationFailure.nonRetryable(
        `${this.endpoint.name}: the provider refused the batch for quota: ${err.message}`,
        kind === 'queue' ? 'BatchQueueFull' : 'BatchQuota',
      );
    return toActivityFailure(this.endpoint.name, err);
  }
}

/** Whether a provider's error is a refusal for quota: its queue of enqueued tokens is full, or billing. */
export function quotaRefusal(
  code: string | null | undefined,
  message: string | undefined,
): 'queue' | 'billing' | undefined {
  if (code === 'token_limit_exceeded' || /enqueued token limit/i.test(message ?? '')) return 'queue';
  if (
    code === 'insufficient_quota' ||
    code === 'billing_hard_limit_reached' ||
    /exceeded your current quota/i.test(message ?? '')
  )
    return 'billing';
  return undefined;
}

/** The status and counts the batcher keeps of a batch. */
export function polled(id: string, b: Batch | undefined): PolledBatch {
  if (!b) return { id, status: 'missing', total: 0, completed: 0, failed: 0 };
  const c = b.request_counts;
  return {
    id,
    status: b.status,
    total: c?.total ?? 0,
    completed: c?.completed ?? 0,
    failed: c?.failed ?? 0,
  };
}
