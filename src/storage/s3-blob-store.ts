import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { BlobStore, BlobStoreOptions } from './blob-store';
import { s3Failure } from './storage-errors';

/**
 * S3 client settings from the environment: the usual AWS_* credentials and region, plus
 * PARROT_S3_ENDPOINT (or AWS_ENDPOINT_URL_S3) for S3-compatible servers such as MinIO.
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = s3EndpointFromEnv(env);
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

const s3EndpointFromEnv = (env: NodeJS.ProcessEnv) =>
  env.PARROT_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;

/** One client (and connection pool) per endpoint the environment names, shared by every store. */
const sharedClients = new Map<string, S3Client>();
function sharedClient(): S3Client {
  const key = s3EndpointFromEnv(process.env) ?? '';
  let client = sharedClients.get(key);
  if (!client) sharedClients.set(key, (client = s3ClientFromEnv()));
  return client;
}

/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000;

export class S3BlobStore implements BlobStore {
  constructor(
    readonly uri: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly options: BlobStoreOptions = {},
  ) {}

  static fromUri(uri: string, options: BlobStoreOptions & { client?: S3Client } = {}): S3BlobStore {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!m) throw new Error(`output: '${uri}' is not an s3://bucket/prefix URI`);
    const prefix = m[2].replace(/\/+$/, '');
    return new S3BlobStore(uri, options.client ?? sharedClient(), m[1], prefix ? `${prefix}/` : '', options);
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  async put(key: string, body: string): Promise<void> {
    await this.send(key, (o) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          ContentType: contentType(key),
        }),
        o,
      ),
    );
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.getObject(key))?.transformToString('utf8');
  }

  async getStream(key: string): Promise<Readable | undefined> {
    return (await this.getObject(key)) as Readable | undefined; // on Node the SDK's body is a Readable
  }

  /** The object's body; undefined when there is none. Failures are mapped (and aborted) as every request's. */
  private async getObject(key: string) {
    try {
      const r = await this.send(key, (o) =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), o),
      );
      return r.Body!;
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  async putStream(key: string, body: Readable): Promise<void> {
    // lib-storage splits the stream into multipart parts (a single PUT when it is small), and
    // takes a controller rather than a signal.
    const abortController = new AbortController();
    const { signal } = this.options;
    const abort = () => abortController.abort(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) abort();
    try {
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType(key) },
        queueSize: 2,
        partSize: 8 * 1024 * 1024,
        abortController,
      }).done();
    } catch (err) {
      throw s3Failure(err, this.bucket, this.uriOf(key));
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.send(prefix, (o) =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken }),
          o,
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(this.prefix.length));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const r = await this.send(batch[0], (o) =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.prefix + k })), Quiet: true },
          }),
          o,
        ),
      );
      const failed = r.Errors?.[0];
      if (failed)
        throw s3Failure(
          Object.assign(new Error(failed.Message ?? 'delete failed'), {
            name: failed.Code ?? 'DeleteFailed',
          }),
          this.bucket,
          this.uriOf(failed.Key?.slice(this.prefix.length) ?? batch[0]),
        );
    }
  }

  /** Sends with the store's signal; a configuration error becomes a non-retryable failure. */
  private async send<R>(
    key: string,
    request: (options: { abortSignal?: AbortSignal }) => Promise<R>,
  ): Promise<R> {
    try {
      return await request({ abortSignal: this.options.signal });
    } catch (err) {
      throw s3Failure(err, this.bucket, this.uriOf(key));
    }
  }
}

function contentType(key: string): string {
  if (key.endsWith('.jsonl')) return 'application/x-ndjson';
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  if (key.endsWith('.md')) return 'text/markdown; charset=utf-8';
  return 'application/octet-stream';
}
