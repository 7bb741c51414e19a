// Where dialogues and exports are written: an S3 bucket prefix or a local folder, by URI.
import { setMaxListeners } from 'node:events';
import type { BlobStore, BlobStoreOptions } from './blob-store';
import { FileBlobStore } from './file-blob-store';
import { S3BlobStore } from './s3-blob-store';

/** Requests one store may have open on its signal at once: reads run many at a time (READ_AHEAD). */
const SIGNAL_LISTENERS = 256;

export function openBlobStore(uri: string, options: BlobStoreOptions = {}): BlobStore {
  // Every request listens on the one activity signal while it runs; Node warns past 10.
  if (options.signal) setMaxListeners(SIGNAL_LISTENERS, options.signal);
  if (uri.startsWith('s3://')) return S3BlobStore.fromUri(uri, options);
  if (uri.startsWith('file:///')) return new FileBlobStore(uri, options);
  throw new Error(`output: unsupported URI '${uri}' (use s3://bucket/prefix or file:///absolute/path)`);
}
