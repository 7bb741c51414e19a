import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { BlobStore, BlobStoreOptions } from './blob-store';
import { fileFailure } from './storage-errors';

export class FileBlobStore implements BlobStore {
  private readonly dir: string;
  constructor(
    readonly uri: string,
    private readonly options: BlobStoreOptions = {},
  ) {
    this.dir = fileURLToPath(uri);
  }
  uriOf(key: string): string {
    return `${this.uri.replace(/\/$/, '')}/${key}`;
  }
  private pathOf(key: string): string {
    return path.join(this.dir, key);
  }
  async put(key: string, body: string): Promise<void> {
    await this.putStream(key, Readable.from([body]));
  }
  async get(key: string): Promise<string | undefined> {
    try {
      return await fs.promises.readFile(this.pathOf(key), { encoding: 'utf8', signal: this.options.signal });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileFailure(err, this.pathOf(key));
    }
  }
  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const file = await fs.promises.open(this.pathOf(key));
      return file.createReadStream({ highWaterMark: 1024 * 1024 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileFailure(err, this.pathOf(key));
    }
  }
  async putStream(key: string, body: Readable): Promise<void> {
    // Write then rename, so a reader never sees half a file. The temporary name is unique: two
    // attempts writing one key at once (a retry beside a stalled try) never share a file.
    const target = this.pathOf(key);
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await pipeline(body, fs.createWriteStream(tmp), { signal: this.options.signal });
      await fs.promises.rename(tmp, target);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined); // the error that matters is the write's
      throw fileFailure(err, target);
    }
  }
  async list(prefix: string): Promise<string[]> {
    try {
      const entries = await fs.promises.readdir(this.pathOf(prefix), {
        recursive: true,
        withFileTypes: true,
      });
      return entries
        .filter((e) => e.isFile())
        .map((e) => path.relative(this.dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fileFailure(err, this.pathOf(prefix));
    }
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await fs.promises.rm(this.pathOf(key), { force: true });
      } catch (err) {
        throw fileFailure(err, this.pathOf(key));
      }
    }
  }
}
