// The export's JSONL shards: written one after another from a stream of records, each hashed on
// the way out, then the shards a previous export left beyond the new last one removed, so that
// `data/` holds exactly the shards the manifest lists.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DialogueRecord, ExportedShard } from '../types';
import type { BlobStore } from './blob-store';
import { isShardKey, shardKey, SHARDS_PREFIX } from './dataset-layout';

/** One ShareGPT-style line of the export. */
const shareGptLine = (r: DialogueRecord) =>
  Buffer.from(
    JSON.stringify({ id: r.id, conversations: r.conversations.map(({ from, value }) => ({ from, value })) }) +
      '\n',
  );

/**
 * Writes `records` as shards of `shardSize` lines; `onRecord` sees each record once, in order,
 * as it is written (for samples and heartbeats).
 */
export async function writeShards(
  store: BlobStore,
  records: AsyncIterator<DialogueRecord>,
  shardSize: number,
  onRecord: (record: DialogueRecord, written: number) => void,
): Promise<ExportedShard[]> {
  const shards: ExportedShard[] = [];
  let written = 0;
  let pending = await records.next();
  while (!pending.done) {
    const key = shardKey(shards.length);
    const shard: ExportedShard = { key, uri: store.uriOf(key), dialogues: 0, bytes: 0, sha256: '' };
    const hash = createHash('sha256');
    async function* lines() {
      while (!pending.done && shard.dialogues < shardSize) {
        const line = shareGptLine(pending.value);
        hash.update(line);
        shard.bytes += line.length;
        shard.dialogues++;
        onRecord(pending.value, ++written);
        yield line;
        pending = await records.next();
      }
    }
    await store.putStream(key, Readable.from(lines()));
    shard.sha256 = hash.digest('hex');
    shards.push(shard);
  }
  return shards;
}

/** Removes the shards under `data/` that are not among `kept` (left by an earlier, larger export); returns their keys. */
export async function removeStaleShards(store: BlobStore, kept: readonly ExportedShard[]): Promise<string[]> {
  const keep = new Set(kept.map((s) => s.key));
  const stale = (await store.list(SHARDS_PREFIX)).filter((key) => isShardKey(key) && !keep.has(key)).sort();
  await store.delete(stale);
  return stale;
}
