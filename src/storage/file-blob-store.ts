import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { BlobStore } from './blob-store';

export class FileBlobStore implements BlobStore {
  private readonly dir: string;
  constructor(readonly uri: string) {
    this.dir = fileURLToPath(uri);
  }
  uriOf(key: string): string {
    return `${this.uri.replace(/\/$/, '')}/${key}`;
  }
  private pathOf(key: string): string {
    return path.join(this.dir, key);
  }
  async put(key: string, body: string): Promise<void> {
    // Write then rename, so a reader never sees half a file.
    const target = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, body);
    await fs.promises.rename(tmp, target);
  }
  async get(key: string): Promise<string | undefined> {
    try {
      return await fs.promises.readFile(this.pathOf(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const file = await fs.promises.open(this.pathOf(key));
      return file.createReadStream({ highWaterMark: 1024 * 1024 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async putStream(key: string, body: Readable): Promise<void> {
    const target = this.pathOf(key);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    await pipeline(body, fs.createWriteStream(tmp));
    await fs.promises.rename(tmp, target);
  }
}
