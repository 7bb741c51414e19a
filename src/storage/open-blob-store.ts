// Where dialogues and exports are written: an S3 bucket prefix or a local folder, by URI.
import type { BlobStore, BlobStoreOptions } from './blob-store';
import { FileBlobStore } from './file-blob-store';
import { S3BlobStore } from './s3-blob-store';

export function openBlobStore(uri: string, options: BlobStoreOptions = {}): BlobStore {
  if (uri.startsWith('s3://')) return S3BlobStore.fromUri(uri, options);
  if (uri.startsWith('file:///')) return new FileBlobStore(uri, options);
  throw new Error(`output: unsupported URI '${uri}' (use s3://bucket/prefix or file:///absolute/path)`);
}
