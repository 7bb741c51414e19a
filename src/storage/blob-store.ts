// The one small interface that S3 and local-folder stores share, so activities do not care
// which (src/storage/open-blob-store.ts picks one from a URI).
import type { Readable } from 'node:stream';

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
  /** The keys under `prefix` (relative to the store, like every key here). */
  list(prefix: string): Promise<string[]>;
  /** Removes these objects; one already gone is no error. */
  delete(keys: readonly string[]): Promise<void>;
}

/**
 * How a store is opened: `signal` (an activity's cancellation signal) aborts its requests and
 * writes in flight, so a cancelled or timed-out activity stops writing.
 */
export interface BlobStoreOptions {
  signal?: AbortSignal;
}
