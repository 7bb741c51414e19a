// Where dialogues and exports are written: an S3 bucket prefix or a local folder, behind one
// small interface so activities do not care which.
import type { Readable } from 'node:stream';
import { FileBlobStore } from './file-blob-store';
import { S3BlobStore } from './s3-blob-store';

export interface BlobStore {
  /** The location this store writes under, as the user gave it (s3://… or file:///…). */
  readonly uri: string;
  uriOf(key: string): string;
  put(key: string, body: string): Promise<void>;
  /** The object's text, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /** The object's bytes as a stream, or undefined when there is none: for objects too large to hold. */
  getStream(key: string): Promise<Readable | undefined>;
  /** Writes a stream of unknown length (multipart on S3), so exports never sit whole in memory. */
  putStream(key: string, body: Readable): Promise<void>;
}

export function openBlobStore(uri: string): BlobStore {
  if (uri.startsWith('s3://')) return S3BlobStore.fromUri(uri);
  if (uri.startsWith('file:///')) return new FileBlobStore(uri);
  throw new Error(`output: unsupported URI '${uri}' (use s3://bucket/prefix or file:///absolute/path)`);
}
