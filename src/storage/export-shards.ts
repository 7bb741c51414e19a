// The export's JSONL shards: one format's, written one after another from a stream of records,
// each hashed on the way out; then the shards a previous export left beyond the new last ones
// removed, so that `data/` holds exactly the shards the manifest lists.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ExportFormat } from '../config/dataset-input';
import type { DialogueRecord, ExportedShard, FormatExport } from '../types';
import type { BlobStore } from './blob-store';
import { isShardKey, shardKey, SHARDS_PREFIX } from './dataset-layout';
import { exportLine } from './export-formats';

/**
 * Writes `records` as shards of `format`, `shardSize` lines each; `onRecord` sees each record
 * once, in order, as it is read (for samples and heartbeats), also those the format leaves out.
 */
export async function writeShards(
  store: BlobStore,
  records: AsyncIterator<DialogueRecord>,
  format: ExportFormat,
  shardSize: number,
  onRecord: (record: DialogueRecord, read: number) => void = () => {},
): Promise<{ shards: ExportedShard[]; summary: FormatExport }> {
  const shards: ExportedShard[] = [];
  const summary: FormatExport = { format, dialogues: 0, trimmed: 0, excluded: 0 };
  let read = 0;
  /** The next record's line, past those the format cannot hold; undefined at the end. */
  const nextLine = async (): Promise<Buffer | undefined> => {
    for (let next = await records.next(); !next.done; next = await records.next()) {
      onRecord(next.value, ++read);
      const line = exportLine(format, next.value);
      if (!line) {
        summary.excluded++;
        continue;
      }
      if (line.trimmed) summary.trimmed++;
      return Buffer.from(line.text);
    }
    return undefined;
  };
  let pending = await nextLine();
  while (pending) {
    const key = shardKey(format, shards.length);
    const shard: ExportedShard = { format, key, uri: store.uriOf(key), dialogues: 0, bytes: 0, sha256: '' };
    const hash = createHash('sha256');
    async function* lines() {
      while (pending && shard.dialogues < shardSize) {
        const line = pending;
        hash.update(line);
        shard.bytes += line.length;
        shard.dialogues++;
        yield line;
        pending = await nextLine();
      }
    }
    await store.putStream(key, Readable.from(lines()));
    shard.sha256 = hash.digest('hex');
    summary.dialogues += shard.dialogues;
    shards.push(shard);
  }
  return { shards, summary };
}

/**
 * Removes the shards under `data/`, of any format, that are not among `kept` (left by an earlier,
 * larger export, or one of a format no longer exported); returns their keys.
 */
export async function removeStaleShards(store: BlobStore, kept: readonly ExportedShard[]): Promise<string[]> {
  const keep = new Set(kept.map((s) => s.key));
  const stale = (await store.list(SHARDS_PREFIX)).filter((key) => isShardKey(key) && !keep.has(key)).sort();
  await store.delete(stale);
  return stale;
}
