import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store';

/**
 * S3 client settings from the environment: the usual AWS_* credentials and region, plus
 * PARROT_S3_ENDPOINT (or AWS_ENDPOINT_URL_S3) for S3-compatible servers such as MinIO.
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.PARROT_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

let sharedClient: S3Client | undefined;

export class S3BlobStore implements BlobStore {
  constructor(
    readonly uri: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  static fromUri(uri: string, client?: S3Client): S3BlobStore {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!m) throw new Error(`output: '${uri}' is not an s3://bucket/prefix URI`);
    const prefix = m[2].replace(/\/+$/, '');
    sharedClient ??= s3ClientFromEnv();
    return new S3BlobStore(uri, client ?? sharedClient, m[1], prefix ? `${prefix}/` : '');
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  async put(key: string, body: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType(key) }));
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return await r.Body!.transformToString('utf8');
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return r.Body as Readable; // on Node the SDK's body is a Readable
    } catch (err) {
      if (err instanceof NoSuchKey) return undefined;
      throw err;
    }
  }

  async putStream(key: string, body: Readable): Promise<void> {
    // lib-storage splits the stream into multipart parts (a single PUT when it is small).
    await new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType(key) },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
    }).done();
  }
}

function contentType(key: string): string {
  if (key.endsWith('.jsonl')) return 'application/x-ndjson';
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  if (key.endsWith('.md')) return 'text/markdown; charset=utf-8';
  return 'application/octet-stream';
}
